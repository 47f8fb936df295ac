# digest: the two commands of the README's quick start.
#   make demo   install what is missing, build, and preview the sample edition
#   make test   install what the tests need, build, and run the whole test suite
#   make templates   after changing Templates/: regenerate the copy built into the binary
SAMPLE_DATE := 2017-11-18

.PHONY: demo build test lint templates

demo: build
	.build/debug/digest preview $(SAMPLE_DATE)

build:
	@.ci/install-deps build
	swift build

test: lint
	@.ci/install-deps test
	swift build
	swift build --build-tests
	swift test --skip-build

# swift-format ships with the toolchain; .swift-format holds the rules (no force unwraps or try! in Sources).
lint:
	swift format lint --strict --recursive Sources Package.swift

# The default templates are built into the binary from a generated Swift file; BuiltInTemplatesTests fails
# while it differs from Templates/.
templates:
	scripts/embed-templates
