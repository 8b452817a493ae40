import Foundation
import HTTPServer
import TestSupport
import Testing
import VippsWebhooks

/// `vipps-webhookd send` run as a real process against a loopback receiver that re-verifies every request.
@Suite("send command")
struct SendCommandTests {
    static let secret = "send-test-secret/+=="
    static let publicURL = "https://Hooks.Example.com/vipps/webhooks?shop=1"

    /// Checks one received request is a faithful signed delivery for `url` and returns its decoded event.
    static func checkDelivery(_ request: HTTPRequest, url: String) throws -> DecodedEvent {
        let target = try SignedTarget(url: url)
        #expect(request.method == "POST")
        #expect(request.target == target.pathAndQuery)
        #expect(request.headers["host"] == target.host)
        #expect(request.headers["content-type"] == "application/json; charset=utf-8")
        #expect(request.headers["user-agent"] == "Vipps MobilePay/1.0 Webhooks/1.0")
        #expect(request.headers["content-length"] == String(request.body.count))
        #expect(request.headers["authorization"] != nil)
        #expect(request.headers["x-vipps-authorization"] == request.headers["authorization"])
        #expect(UUID(uuidString: request.headers["webhook-id"] ?? "") != nil)
        let verifier = SignatureVerifier(secrets: [WebhookSecret(secret)])
        let result = verifier.verify(
            method: "POST",
            target: target,
            headers: request.headers.fields,
            body: request.body,
            now: Int64(Date().timeIntervalSince1970)
        )
        #expect(result == .authentic(secretIndex: 0))
        return DecodedEvent.decode(body: request.body)
    }

    @Test(
        "a URL with a tab, a newline or a backslash is sent where, and signed as, a browser reads it",
        arguments: [
            "https://hooks.example.com/vipps\\web\thooks?shop=1", "https://hooks.exam\nple.com\\vipps/webhooks?shop=1",
        ]
    )
    func urlAsABrowserReadsIt(url: String) throws {
        let receiver = try RecordingReceiver()
        defer { receiver.stop() }
        let out = try ChildProcess.run(
            [
                "send", "--secret-env", "E2E_SECRET", "--url", url, "--event", "user.checked-in.v1",
                "--resolve-to", "127.0.0.1:\(receiver.port)",
            ],
            environment: ["E2E_SECRET": Self.secret]
        )
        #expect(out.status == 0, "\(out.stdout)\(out.stderr)")
        let request = try #require(receiver.requests.first)
        #expect(request.target == "/vipps/webhooks?shop=1")
        #expect(request.headers["host"] == "hooks.example.com")
        _ = try Self.checkDelivery(request, url: "https://hooks.example.com/vipps/webhooks?shop=1")
    }

    @Test("an https URL with a tab in its scheme is signed for https and never sent in clear")
    func tabInTheSchemeIsStillHTTPS() throws {
        let receiver = try RecordingReceiver()
        defer { receiver.stop() }
        // A browser (and the signed target) reads "ht\ttps://" as "https://".
        let out = try ChildProcess.run(
            [
                "send", "--secret-env", "E2E_SECRET", "--url", "ht\ttps://127.0.0.1:\(receiver.port)/vipps/webhooks",
                "--event", "user.checked-in.v1",
            ],
            environment: ["E2E_SECRET": Self.secret]
        )
        // Over TLS the plain receiver gets no HTTP request (and send fails); in clear, it would.
        #expect(receiver.requests.isEmpty, "sent without TLS: \(out.stdout)\(out.stderr)")
        #expect(out.status != 0, "\(out.stdout)")
    }

    @Test(
        "every known type: realistic body of that type, signed for the public URL, unique ids and references",
        arguments: SampleEvents.knownTypes
    )
    func everyType(type: String) throws {
        let receiver = try RecordingReceiver()
        defer { receiver.stop() }
        let out = try ChildProcess.run(
            [
                "send", "--secret-env", "E2E_SECRET", "--url", Self.publicURL, "--event", type,
                "--resolve-to", "127.0.0.1:\(receiver.port)", "--count", "2",
            ],
            environment: ["E2E_SECRET": Self.secret]
        )
        #expect(out.status == 0, "\(out.stdout)\(out.stderr)")
        let requests = receiver.requests
        try #require(requests.count == 2)
        for request in requests {
            let event = try Self.checkDelivery(request, url: Self.publicURL)
            #expect(event.type == type)
            #expect(event.findings.isEmpty, "\(event.findings)")
        }
        #expect(requests[0].headers["webhook-id"] != requests[1].headers["webhook-id"])
        #expect(requests[0].body != requests[1].body)
        for key in ["reference", "pspReference", "agreementId", "chargeId", "customerToken", "auth_req_id"] {
            let values = requests.compactMap { DecodedEvent.decode(body: $0.body).json?[key]?.stringValue }
            if !values.isEmpty { #expect(Set(values).count == 2, "\(key) repeated: \(values)") }
        }
        let lines = out.stdout.split(separator: "\n")
        #expect(lines.count == 3)
        #expect(lines.first?.contains(" 200 \(type) webhook-id=") == true)
        #expect(lines.first?.hasSuffix(#"answer: {"status":"accepted"}"#) == true)
        #expect(lines.last?.hasPrefix("sent 2, 2xx 2, non-2xx 0, errors 0, elapsed ") == true)
        #expect(!out.stdout.contains(Self.secret) && !out.stderr.contains(Self.secret))
    }

    @Test("--count and --concurrency: N unique events, at most C in flight, summary line")
    func countAndConcurrency() throws {
        let receiver = try RecordingReceiver(delayMilliseconds: 30)
        defer { receiver.stop() }
        let out = try ChildProcess.run(
            [
                "send", "--secret-env", "E2E_SECRET", "--url", Self.publicURL, "--event",
                "epayments.payment.authorized.v1", "--resolve-to", "127.0.0.1:\(receiver.port)", "--count", "40",
                "--concurrency", "8",
            ],
            environment: ["E2E_SECRET": Self.secret]
        )
        #expect(out.status == 0, "\(out.stderr)")
        let requests = receiver.requests
        #expect(requests.count == 40)
        #expect(Set(requests.compactMap { $0.headers["webhook-id"] }).count == 40)
        #expect(Set(requests.map(\.body)).count == 40)
        #expect(receiver.maxInFlight <= 8)
        #expect(receiver.maxInFlight >= 2)
        for request in requests { _ = try Self.checkDelivery(request, url: Self.publicURL) }
        let lines = out.stdout.split(separator: "\n")
        #expect(lines.count == 41)
        #expect(lines.last?.hasPrefix("sent 40, 2xx 40, non-2xx 0, errors 0, elapsed ") == true)
        #expect(lines.last?.hasSuffix(" req/s") == true)
    }

    @Test("a body file is sent byte for byte with a given webhook-id, over plain http:// without --resolve-to")
    func bodyFileOverPlainHTTP() throws {
        let receiver = try RecordingReceiver()
        defer { receiver.stop() }
        let dir = TemporaryDirectory()
        let body = #"{ "msn":"123456", "reference":"order-1", "name":"CAPTURED", "odd" : [1,2] }"# + "\n"
        let bodyFile = try dir.write("body.json", body)
        let secretFile = try dir.write("secret", Self.secret + "\n")
        let url = "http://127.0.0.1:\(receiver.port)/hook"
        let out = try ChildProcess.run(
            [
                "send", "--secret-file", secretFile, "--url", url, "--body-file", bodyFile, "--webhook-id",
                "fixed-id-1",
                "--count", "2",
            ])
        #expect(out.status == 0, "\(out.stderr)")
        let requests = receiver.requests
        try #require(requests.count == 2)
        for request in requests {
            #expect(request.body == Array(body.utf8))
            #expect(request.headers["webhook-id"] == "fixed-id-1")
            #expect(request.headers["host"] == "127.0.0.1:\(receiver.port)")
        }
        let target = try SignedTarget(url: url)
        let verifier = SignatureVerifier(secrets: [WebhookSecret(Self.secret)])
        let verdict = verifier.verify(
            method: "POST",
            target: target,
            headers: requests[0].headers.fields,
            body: requests[0].body,
            now: Int64(Date().timeIntervalSince1970)
        )
        #expect(verdict == .authentic(secretIndex: 0))
    }

    @Test("a 401 answer gives a non-zero exit and shows the status and the answer")
    func rejected() throws {
        let receiver = try RecordingReceiver(status: 401, answer: "{\"error\":\n\"signature_mismatch\"}")
        defer { receiver.stop() }
        let out = try ChildProcess.run(
            [
                "send", "--secret-env", "E2E_SECRET", "--url", Self.publicURL, "--event",
                "login.merchant-initiated.ping.v1",
                "--resolve-to", "127.0.0.1:\(receiver.port)",
            ],
            environment: ["E2E_SECRET": "wrong"]
        )
        #expect(out.status != 0)
        #expect(receiver.requests.count == 1)
        #expect(out.stdout.contains("[1/1] 401 login.merchant-initiated.ping.v1 webhook-id="))
        #expect(out.stdout.contains(#"answer: {"error": "signature_mismatch"}"#))
    }

    @Test("an unreachable receiver is an error line and a non-zero exit")
    func unreachable() throws {
        let receiver = try RecordingReceiver()
        let port = receiver.port
        receiver.stop()
        let out = try ChildProcess.run(
            [
                "send", "--secret-env", "E2E_SECRET", "--url", Self.publicURL, "--event",
                "epayments.payment.created.v1",
                "--resolve-to", "127.0.0.1:\(port)", "--count", "2",
            ],
            environment: ["E2E_SECRET": Self.secret]
        )
        #expect(out.status != 0)
        #expect(out.stdout.contains("error epayments.payment.created.v1"))
        #expect(out.stdout.contains("Connection refused"))
        #expect(out.stdout.contains("sent 2, 2xx 0, non-2xx 0, errors 2"))
    }

    @Test("bad input is refused before anything is sent")
    func badInput() throws {
        let receiver = try RecordingReceiver()
        defer { receiver.stop() }
        let resolve = "127.0.0.1:\(receiver.port)"
        let cases: [([String], String)] = [
            (["--url", Self.publicURL, "--resolve-to", resolve], "--event TYPE or --body-file"),
            (["--url", Self.publicURL, "--event", "no.such.type.v1", "--resolve-to", resolve], "unknown event type"),
            (["--url", "ftp://x/", "--event", "user.checked-in.v1", "--resolve-to", resolve], "--url"),
            (["--url", Self.publicURL, "--event", "user.checked-in.v1", "--resolve-to", "nohostport"], "--resolve-to"),
            (["--url", Self.publicURL, "--event", "user.checked-in.v1", "--count", "0"], "--count"),
            (["--url", Self.publicURL, "--event", "user.checked-in.v1", "--concurrency", "999"], "--concurrency"),
        ]
        for (arguments, expected) in cases {
            let out = try ChildProcess.run(
                ["send", "--secret-env", "E2E_SECRET"] + arguments,
                environment: ["E2E_SECRET": Self.secret]
            )
            #expect(out.status != 0, "\(arguments)")
            #expect(out.stderr.contains(expected), "\(arguments): \(out.stderr)")
        }
        #expect(receiver.requests.isEmpty)
    }
}
