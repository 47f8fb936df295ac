// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "digest",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "digest", targets: ["digest"]),
        .library(name: "DigestCore", targets: ["DigestCore"]),
        .library(name: "DigestMail", targets: ["DigestMail"]),
        .library(name: "DigestBounces", targets: ["DigestBounces"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/swhitty/FlyingFox", from: "0.27.1"),
    ],
    targets: [
        // Pure: edition model, YAML codec, publication config, Markdown, rendering.
        .target(
            name: "DigestCore",
            dependencies: [
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        // MIME writer, header encoding, MailTransport protocol. No I/O.
        .target(
            name: "DigestMail",
            dependencies: [
                "DigestCore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ]
        ),
        // Bounces and complaints read: a MIME reader for reports (DSN, ARF, the MTAs' own formats) and the
        // classifier. Pure, no I/O.
        .target(name: "DigestBounces"),
        // libcurl through typed wrappers; only DigestCurl imports it.
        .systemLibrary(
            name: "CCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]
        ),
        .target(name: "DigestCurl", dependencies: ["CCurl", "DigestMail"]),
        // `digest dns check`: SPF, DKIM and DMARC records and their alignment, over a small DNS client of its
        // own (UDP, TCP when truncated) so tests and split-horizon set-ups can name the resolver.
        .target(name: "DigestDNS", dependencies: ["DigestCore", "DigestMail"]),
        // libxml2's XML and HTML parsers; only DigestHTML imports it.
        .systemLibrary(name: "CLibXML2", pkgConfig: "libxml-2.0", providers: [.apt(["libxml2-dev"])]),
        // HTML and XML through libxml2: cleaning feed HTML, the HTML part's text browser (preview, check),
        // a web page's metadata (add), and the XML tree the feed parser walks.
        .target(name: "DigestHTML", dependencies: ["CLibXML2", "DigestCore"]),
        // Feeds into items: RSS, Atom, RDF, iTunes, Media RSS; feed dates; merging items into an edition.
        .target(name: "DigestFeeds", dependencies: ["DigestHTML", "DigestCore"]),
        // libpq, PostgreSQL's client library; only DigestStore's PostgresStore imports it.
        .systemLibrary(name: "CPostgres", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        // The subscriber list and the delivery ledger behind one interface (`ListStore`): the workspace's SQLite
        // file (GRDB) or a shared PostgreSQL database (libpq), written through the ledger pipeline.
        .target(
            name: "DigestStore",
            dependencies: ["DigestCore", "DigestMail", "CPostgres", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        // Sending a run: the bulk sender (connections, rate, retries), the Maildir transport of dry runs.
        .target(name: "DigestSending", dependencies: ["DigestCore", "DigestMail", "DigestStore"]),
        // The editor's verbs (workspace, gather, add, render, check, the send run) with an injected
        // environment; they return values and print nothing.
        .target(
            name: "DigestWorkflow",
            dependencies: [
                "DigestCore", "DigestMail", "DigestCurl", "DigestHTML", "DigestFeeds", "DigestStore", "DigestSending",
                "DigestDNS", "DigestBounces", .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // `digest serve`: one-click unsubscribe, the web archive, the live preview. HTTP/1.1 of its own, with
        // strict limits, over FlyingFox's socket layer (FlyingSocks: non-blocking sockets on epoll).
        .target(
            name: "DigestServe",
            dependencies: [
                "DigestCore", "DigestMail", "DigestStore", "DigestBounces",
                .product(name: "FlyingSocks", package: "FlyingFox"),
                // SNS signatures of the SES webhook: RSA with SHA-1 or SHA-256.
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ]
        ),
        .target(
            name: "DigestCLI",
            dependencies: [
                "DigestCore", "DigestMail", "DigestCurl", "DigestStore", "DigestHTML", "DigestFeeds", "DigestSending",
                "DigestWorkflow", "DigestServe", "DigestDNS", "DigestBounces",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(name: "digest", dependencies: ["DigestCLI"]),
        // `swift run -c release digest-bench`: figures next to the tools an editor would otherwise use.
        .executableTarget(
            name: "digest-bench",
            dependencies: [
                "DigestFeeds", "DigestStore", "DigestSending", "DigestWorkflow", "DigestCurl", "DigestMail",
                "DigestCore", "DigestBounces", "DigestServe",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ]
        ),
        .target(
            name: "DigestTestSupport", dependencies: ["DigestCore", "DigestMail", "DigestStore"],
            path: "Tests/DigestTestSupport"),
        .testTarget(
            name: "DigestCoreTests",
            dependencies: ["DigestCore", "DigestTestSupport"],
            exclude: ["Golden", "Fixtures"]
        ),
        .testTarget(
            name: "DigestMailTests",
            dependencies: ["DigestMail", "DigestTestSupport", .product(name: "Crypto", package: "swift-crypto")],
            exclude: ["Golden", "Fixtures"]
        ),
        .testTarget(name: "DigestBouncesTests", dependencies: ["DigestBounces"], exclude: ["Fixtures"]),
        .testTarget(
            name: "DigestDNSTests", dependencies: ["DigestCore", "DigestDNS", "DigestMail", "DigestTestSupport"],
            exclude: ["Fixtures"]),
        .testTarget(
            name: "DigestStoreTests", dependencies: ["DigestStore", "DigestSending", "DigestTestSupport"],
            exclude: ["Fixtures"]),
        .testTarget(
            name: "DigestHTMLTests", dependencies: ["DigestHTML", "DigestTestSupport"], exclude: ["Golden"]),
        .testTarget(
            name: "DigestFeedsTests",
            dependencies: ["DigestFeeds", "DigestTestSupport"],
            exclude: ["Fixtures", "Corpus"]
        ),
        .testTarget(
            name: "DigestWorkflowTests",
            dependencies: ["DigestWorkflow", "DigestCore", "DigestMail", "DigestStore", "DigestTestSupport"],
            exclude: ["Golden"]
        ),
        .testTarget(
            name: "DigestIntegrationTests",
            dependencies: [
                "DigestCore", "DigestMail", "DigestCurl", "DigestStore", "DigestHTML", "DigestFeeds", "DigestSending",
                "DigestWorkflow", "DigestCLI", "DigestServe", "DigestTestSupport",
            ],
            exclude: ["Screenshots", "Fixtures"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
