import Crypto
import DigestCore
import DigestMail
import Foundation
import _CryptoExtras

/// Cases 1 and 2: building personalised messages of the sample edition, unsigned and DKIM-signed, on one
/// core; next to what a developer would write by hand in Python (Jinja2 and `email.message`), and to
/// dkimpy signing the same messages.
enum MessageCases {
    struct Sample {
        let publication: Publication
        let renderer: EditionRenderer
        let edition: Edition
        let unsubscribe: UnsubscribeSigner
        let readers: [Reader]

        init(readers count: Int) throws {
            let workspace = Workspace(root: URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
            publication = try workspace.loadPublication()
            renderer = EditionRenderer(
                publication: publication, templates: try workspace.loadTemplates(for: publication))
            guard let date = EditionDate("2017-11-18") else { throw Bench.BenchError(message: "bad date") }
            edition = try workspace.loadEdition(date)
            guard
                let signer = UnsubscribeSigner(
                    secret: Array("benchmark-unsubscribe-key".utf8), listID: publication.listID)
            else { throw Bench.BenchError(message: "no unsubscribe signer") }
            unsubscribe = signer
            readers = try (0..<count).map { index in
                guard let address = EmailAddress("reader\(index)@example.org") else {
                    throw Bench.BenchError(message: "bad address")
                }
                return Reader(id: String(index), mailbox: Mailbox(name: "Reader \(index)", address: address))
            }
        }

        /// The edition rendered for readers and a builder of its personal messages, as `digest send` makes it;
        /// with `clicks`, its story links counted through `/l/…` addresses as `tracking.clicks: stories` does.
        func builder(signer: DKIMSigner? = nil, clicks: Bool = false) throws -> DigestMessageBuilder {
            var rendered = try renderer.renderForReaders(edition)
            if clicks {
                let clickSigner = ClickSigner(unsubscribe)
                rendered = ClickTracking.rewrite(rendered, storyLinks: ClickTracking.storyLinks(edition)) {
                    clickSigner.link(base: "https://news.example.org", date: "2017-11-18", story: $0, url: $1)
                }
            }
            return DigestMessageBuilder(
                publication: publication, rendered: rendered, identity: RandomMessageIdentity(),
                unsubscribe: unsubscribe, signer: signer)
        }

        /// Renders the edition and builds a message for each of the first `count` readers; messages/s.
        func build(count: Int, signer: DKIMSigner? = nil, clicks: Bool = false) throws -> (rate: Double, size: Int) {
            let date = Date()
            let started = seconds()
            let builder = try builder(signer: signer, clicks: clicks)
            var size = 0
            for reader in readers.prefix(count) {
                size = try builder.message(to: reader, date: date).data.count
            }
            return (Double(count) / (seconds() - started), size)
        }

        /// The first `count` readers' messages, unsigned, for the signing baseline.
        func messages(count: Int) throws -> [[UInt8]] {
            let builder = try builder()
            return try readers.prefix(count).map { try builder.message(to: $0, date: Date()).data }
        }

        /// The edition's content as JSON, for the Python baseline's own templates.
        func json() throws -> Data {
            let view = EditionView.build(
                edition: edition, publication: publication, target: .html, unsubscribeURL: publication.unsubscribeURL)
            func image(_ image: ImageView?) -> Any {
                guard let image else { return NSNull() }
                return ["src": image.src, "alt": image.alt]
            }
            let sections: [[String: Any]] = view.sections.map { section in
                [
                    "title": section.title,
                    "items": section.items.map { item -> [String: Any] in
                        [
                            "lead": item.isLead, "title": item.title, "url": item.url, "meta": item.meta ?? "",
                            "summary": item.summary ?? "", "note": item.editorNote ?? "",
                            "image": image(item.article?.image ?? item.podcast?.image ?? item.video?.thumbnail),
                            "listen": item.podcast?.listenURL ?? "",
                        ]
                    },
                ]
            }
            let object: [String: Any] = [
                "name": view.publicationName, "language": view.language, "direction": view.direction,
                "subject": view.subject, "preheader": view.preheader ?? "", "dateLine": view.dateLine,
                "note": view.note, "sections": sections, "reason": view.footer.reason,
                "address": view.footer.postalAddressLines, "archive": view.footer.archiveURL ?? "",
                "unsubscribe": publication.unsubscribeURL, "from": publication.sender.address.description,
                "fromName": publication.sender.name, "domain": publication.domain,
            ]
            return try JSONSerialization.data(withJSONObject: object)
        }
    }

    static func build(_ options: Bench.Options, _ table: Table) throws {
        let sample = try Sample(readers: options.readers)
        let folder = try scratchFolder("build")
        defer { try? FileManager.default.removeItem(at: folder) }
        let edition = folder.appendingPathComponent("edition.json")
        try sample.json().write(to: edition)
        try ensurePython(["jinja2": "jinja2"])
        let pythonCount = max(100, min(options.readers, 1_000))
        let python = try PythonWorker(script: jinjaScript, arguments: [edition.path, String(pythonCount)])
        defer { python.close() }
        print("build: render the sample edition and build \(options.readers) personalised messages, one core")
        var ours: [Double] = []
        var theirs: [Double] = []
        var ratios: [Double] = []
        var withClicks: [Double] = []
        var clickRatios: [Double] = []
        var size = 0
        for round in 1...options.runs {
            let (rate, bytes) = try sample.build(count: options.readers)
            size = bytes
            let baseline = try python.round()
            let (clickRate, _) = try sample.build(count: options.readers, clicks: true)
            ours.append(rate)
            theirs.append(baseline)
            ratios.append(rate / baseline)
            withClicks.append(clickRate)
            clickRatios.append(clickRate / baseline)
            print(
                "  round \(round): digest \(format(rate)) msg/s (\(format(clickRate)) with click links), "
                    + "Jinja2 + email.message \(format(baseline)) msg/s")
        }
        let pythonSize = try python.round("size")
        print("  message sizes: digest \(size) bytes, Python baseline \(Int(pythonSize)) bytes")
        let ratio = median(ratios)
        table.add(
            "build: \(options.readers) personal messages", figure: "msg/s", ours: format(median(ours)),
            baseline: "Jinja2+email \(format(median(theirs)))", ratio: "\(format(ratio))×", target: "≥ 100×",
            met: ratio >= 100)
        let clickRatio = median(clickRatios)
        table.add(
            "build: the same, story clicks counted", figure: "msg/s", ours: format(median(withClicks)),
            baseline: "Jinja2+email \(format(median(theirs)))", ratio: "\(format(clickRatio))×", target: "≥ 100×",
            met: clickRatio >= 100)
    }

    static func sign(_ options: Bench.Options, _ table: Table) throws {
        let count = options.signed
        let sample = try Sample(readers: count)
        let folder = try scratchFolder("sign")
        defer { try? FileManager.default.removeItem(at: folder) }
        let rsaSecret = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        let rsa = try DKIMKey(
            selector: "bench-rsa", domain: sample.publication.domain, pem: rsaSecret.pkcs8PEMRepresentation)
        let ed25519 = try DKIMKey.generate(.ed25519SHA256, selector: "bench-ed", domain: sample.publication.domain)
        try rsa.privateKeyPEM.write(to: folder.appendingPathComponent("rsa.pem"), atomically: true, encoding: .utf8)
        try ed25519.privateKeyPEM.write(to: folder.appendingPathComponent("ed.pem"), atomically: true, encoding: .utf8)
        // The messages dkimpy signs: the same ones digest signs, before signing.
        let pythonCount = max(50, min(count, 300))
        var joined: [UInt8] = []
        for message in try sample.messages(count: pythonCount) {
            joined += message + Array("\u{0}".utf8)
        }
        try Data(joined).write(to: folder.appendingPathComponent("messages"))
        try ensurePython(["dkim": "dkimpy", "nacl": "pynacl"])
        let python = try PythonWorker(script: dkimpyScript, arguments: [folder.path, sample.publication.domain])
        defer { python.close() }

        // The bare cost of the RSA signatures: one PKCS#1 v1.5 signature of a SHA-256 hash per message,
        // timed in slices alternating with digest's signed messages, so the machine's load falls on both.
        let headerBlock = Array(repeating: UInt8(ascii: "h"), count: 1_200)
        func rsaAgainstBare() throws -> (ours: Double, bare: Double) {
            let builder = try sample.builder(signer: DKIMSigner(keys: [rsa]))
            let date = Date()
            var oursTime = 0.0
            var bareTime = 0.0
            let slice = max(1, count / 20)
            for first in stride(from: 0, to: count, by: slice) {
                let readers = sample.readers[first..<min(count, first + slice)]
                var started = seconds()
                for reader in readers { _ = try builder.message(to: reader, date: date) }
                oursTime += seconds() - started
                started = seconds()
                for index in readers.indices {
                    var data = headerBlock
                    data[0] = UInt8(truncatingIfNeeded: index)
                    _ = try rsaSecret.signature(for: SHA256.hash(data: data), padding: .insecurePKCS1v1_5)
                }
                bareTime += seconds() - started
            }
            return (Double(count) / oursTime, Double(count) / bareTime)
        }

        print("sign: \(count) personalised messages with DKIM, one core")
        var ed: [Double] = []
        var edPython: [Double] = []
        var edRatios: [Double] = []
        var rsaRates: [Double] = []
        var rsaPython: [Double] = []
        var bare: [Double] = []
        var rsaOverBare: [Double] = []
        for round in 1...options.runs {
            let edRate = try sample.build(count: count, signer: DKIMSigner(keys: [ed25519])).rate
            let edBaseline = try python.round("ed25519")
            let (rsaRate, bareRate) = try rsaAgainstBare()
            let rsaBaseline = try python.round("rsa")
            ed.append(edRate)
            edPython.append(edBaseline)
            edRatios.append(edRate / edBaseline)
            rsaRates.append(rsaRate)
            rsaPython.append(rsaBaseline)
            bare.append(bareRate)
            rsaOverBare.append(bareRate / rsaRate)
            print(
                "  round \(round): ed25519 \(format(edRate)) msg/s (dkimpy \(format(edBaseline))), rsa \(format(rsaRate)) msg/s (dkimpy \(format(rsaBaseline)), bare RSA \(format(bareRate)) signatures/s)"
            )
        }
        let edRatio = median(edRatios)
        table.add(
            "sign: ed25519-sha256", figure: "msg/s", ours: format(median(ed)),
            baseline: "dkimpy \(format(median(edPython)))",
            ratio: "\(format(edRatio))×", target: "≥ 10×", met: edRatio >= 10)
        let cost = median(rsaOverBare)
        table.add(
            "sign: rsa-sha256 (2048)", figure: "msg/s", ours: format(median(rsaRates)),
            baseline: "bare RSA \(format(median(bare))), dkimpy \(format(median(rsaPython)))",
            ratio: "time \(format(cost))× bare", target: "≤ 1.5× bare", met: cost <= 1.5)
    }

    /// The baseline a developer would write: Jinja2 templates rendered per reader, `EmailMessage`.
    static let jinjaScript = #"""
        import base64, hashlib, hmac, json, sys, textwrap, time
        from email.message import EmailMessage
        from email.utils import formataddr, formatdate, make_msgid
        import jinja2

        edition = json.load(open(sys.argv[1])); count = int(sys.argv[2])
        env = jinja2.Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True)
        env.filters['wrap'] = lambda s: textwrap.fill(s, 72, break_long_words=False, break_on_hyphens=False)
        html = env.from_string("""<!DOCTYPE html>
        <html lang="{{ e.language }}" dir="{{ e.direction }}"><head><meta charset="utf-8"><title>{{ e.subject }}</title></head>
        <body style="margin:0;padding:0;background:#f2f2ee;">
        <div style="display:none;max-height:0;overflow:hidden;">{{ e.preheader }}</div>
        <table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="background:#f2f2ee;"><tr><td align="center" style="padding:24px 12px;">
        <table role="presentation" width="600" cellpadding="0" cellspacing="0" border="0" style="width:100%;max-width:600px;background:#ffffff;">
        <tr><td style="padding:24px 32px;font-family:Georgia,'Times New Roman',Times,serif;font-size:28px;font-weight:bold;color:#1a1a1a;">{{ e.name }}</td></tr>
        <tr><td style="padding:0 32px 16px 32px;font-family:Helvetica,Arial,sans-serif;font-size:13px;color:#5f6b76;">{{ e.dateLine }}</td></tr>
        {% if e.note %}<tr><td style="padding:0 32px 16px 32px;font-family:Helvetica,Arial,sans-serif;font-size:16px;line-height:24px;color:#1a1a1a;">{{ e.note|safe }}</td></tr>{% endif %}
        {% for section in e.sections %}
        <tr><td style="padding:16px 32px 4px 32px;font-family:Helvetica,Arial,sans-serif;font-size:13px;font-weight:bold;letter-spacing:1px;text-transform:uppercase;color:#b3261e;border-top:2px solid #1a1a1a;">{{ section.title }}</td></tr>
        {% for item in section['items'] %}
        <tr><td style="padding:12px 32px;font-family:Helvetica,Arial,sans-serif;">
        {% if item.image %}<a href="{{ item.url }}" style="text-decoration:none;"><img src="{{ item.image.src }}" width="536" alt="{{ item.image.alt }}" style="display:block;width:100%;max-width:536px;height:auto;border:0;margin:0 0 12px 0;"></a>{% endif %}
        {% if item.lead %}<p style="margin:0 0 4px 0;font-size:12px;line-height:16px;font-weight:bold;letter-spacing:1px;text-transform:uppercase;color:#b3261e;">Top story</p>{% endif %}
        <h3 style="margin:0 0 6px 0;font-family:Georgia,'Times New Roman',Times,serif;font-size:{{ 24 if item.lead else 19 }}px;line-height:30px;font-weight:bold;"><a href="{{ item.url }}" style="color:#1a1a1a;text-decoration:none;">{{ item.title }}</a></h3>
        <p style="margin:0 0 8px 0;font-size:13px;line-height:18px;color:#5f6b76;">{{ item.meta }}</p>
        {% if item.note %}<p style="margin:0 0 8px 0;padding:0 0 0 10px;border-left:3px solid #b3261e;font-size:15px;line-height:22px;font-style:italic;color:#1a1a1a;">{{ item.note }}</p>{% endif %}
        {% if item.summary %}<p style="margin:0 0 8px 0;font-size:16px;line-height:24px;color:#1a1a1a;">{{ item.summary }}</p>{% endif %}
        {% if item.listen %}<p style="margin:0 0 8px 0;font-size:14px;line-height:20px;"><a href="{{ item.listen }}" style="color:#0b5cad;text-decoration:underline;">Listen</a></p>
        {% else %}<p style="margin:0 0 8px 0;font-size:14px;line-height:20px;"><a href="{{ item.url }}" style="color:#0b5cad;text-decoration:underline;">Read the article</a></p>{% endif %}
        </td></tr>
        {% endfor %}{% endfor %}
        <tr><td style="padding:24px 32px;font-family:Helvetica,Arial,sans-serif;font-size:12px;line-height:18px;color:#5f6b76;border-top:1px solid #d9d9d4;">
        <p style="margin:0 0 8px 0;">{{ e.reason }} Hello {{ reader }}.</p>
        <p style="margin:0 0 8px 0;">{{ e.address|join('<br>'|safe) }}</p>
        <p style="margin:0;"><a href="{{ e.archive }}" style="color:#5f6b76;">View in your browser</a> · <a href="{{ unsubscribe }}" style="color:#5f6b76;">Unsubscribe</a></p>
        </td></tr></table></td></tr></table></body></html>
        """)
        plain = jinja2.Environment(autoescape=False, trim_blocks=True, lstrip_blocks=True)
        plain.filters['wrap'] = env.filters['wrap']
        text = plain.from_string("""{{ e.name }}
        {{ e.dateLine }}
        {% for section in e.sections %}


        {{ section.title }}
        {{ '=' * section.title|length }}
        {% for item in section['items'] %}

        {{ item.title|wrap }}
        {{ item.url }}
        {{ item.meta|wrap }}
        {% if item.summary %}{{ item.summary|wrap }}
        {% endif %}
        {% endfor %}{% endfor %}

        {{ e.reason|wrap }}
        Unsubscribe, {{ reader }}: {{ unsubscribe }}
        """)
        key = b'benchmark-unsubscribe-key'

        def message(i):
            reader = 'Reader %d' % i
            token = base64.urlsafe_b64encode(hmac.new(key, str(i).encode(), hashlib.sha256).digest()).rstrip(b'=').decode()
            unsubscribe = edition['unsubscribe'] + '?t=' + token
            msg = EmailMessage()
            msg['From'] = formataddr((edition['fromName'], edition['from']))
            msg['To'] = formataddr((reader, 'reader%d@example.org' % i))
            msg['Subject'] = edition['subject']
            msg['Date'] = formatdate(localtime=True)
            msg['Message-ID'] = make_msgid(domain=edition['domain'])
            msg['List-Unsubscribe'] = '<%s>' % unsubscribe
            msg['List-Unsubscribe-Post'] = 'List-Unsubscribe=One-Click'
            msg.set_content(text.render(e=edition, reader=reader, unsubscribe=unsubscribe), cte='quoted-printable')
            msg.add_alternative(html.render(e=edition, reader=reader, unsubscribe=unsubscribe), subtype='html', cte='quoted-printable')
            return msg.as_bytes()

        for line in sys.stdin:
            if line.strip() == 'size':
                print(len(message(0)), flush=True); continue
            t = time.perf_counter()
            for i in range(count):
                message(i)
            print(count / (time.perf_counter() - t), flush=True)
        """#

    /// dkimpy signing the messages digest built, with the same keys and headers.
    static let dkimpyScript = #"""
        import base64, sys, time
        import dkim
        folder, domain = sys.argv[1], sys.argv[2].encode()
        messages = [m for m in open(folder + '/messages', 'rb').read().split(b'\0') if m]
        rsa = open(folder + '/rsa.pem', 'rb').read()
        pem = open(folder + '/ed.pem').read().split('-----')[2]
        ed = base64.b64encode(base64.b64decode(''.join(pem.split()))[-32:])
        headers = [b'from', b'to', b'subject', b'date', b'message-id', b'mime-version', b'content-type', b'list-id',
                   b'list-unsubscribe', b'list-unsubscribe-post']
        for line in sys.stdin:
            algorithm = line.strip()
            key, selector, name = (ed, b'bench-ed', b'ed25519-sha256') if algorithm == 'ed25519' else (rsa, b'bench-rsa', b'rsa-sha256')
            t = time.perf_counter()
            for m in messages:
                dkim.sign(m, selector, domain, key, canonicalize=(b'relaxed', b'relaxed'), include_headers=headers,
                          signature_algorithm=name)
            print(len(messages) / (time.perf_counter() - t), flush=True)
        """#
}
