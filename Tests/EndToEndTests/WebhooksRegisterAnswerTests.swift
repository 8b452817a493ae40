import Foundation
import HTTPServer
import TestSupport
import Testing

/// `webhooks register` given a 2xx answer it cannot use: the registration was most likely made, and the user is told
/// how to remove it; nothing of the answer that is not an id is printed.
@Suite("webhooks register: an unusable answer")
struct WebhooksRegisterAnswerTests {
    /// A fake of the token API and the register call answering `registerStatus` with `registerBody`.
    static func registerFake(status registerStatus: Int, body registerBody: String) throws -> FakeHTTPServer {
        let server = try FakeHTTPServer()
        server.answer { request in
            if String(request.head.path) == "/accesstoken/get" {
                return FakeHTTPServer.json(
                    200,
                    #"{"token_type":"Bearer","expires_in":"3599","access_token":"tok-review-1"}"#
                )
            }
            if request.method == "POST", String(request.head.path) == "/webhooks/v1/webhooks" {
                return FakeHTTPServer.json(registerStatus, registerBody)
            }
            return FakeHTTPServer.json(404, "{}")
        }
        return server
    }

    @Test("register: a 201 whose body lacks the secret says the registration was made (and which id to delete)")
    func createdWithoutSecretIsReported() throws {
        let server = try Self.registerFake(status: 201, body: #"{"id":"wh-made-but-no-secret"}"#)
        defer { server.stop() }
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let out = try Self.register(server, secretOut: dir.path + "/new.secret")
        #expect(out.status != 0)
        // The vendor answered 201 Created: a registration exists that nothing can verify. The user must be told
        // (as for a lost answer) to delete it, else its deliveries fail with 401 until the vendor drops it.
        #expect(out.stderr.contains("webhooks delete wh-made-but-no-secret"), "stderr: \(out.stderr)")
    }

    @Test("register: an id with control characters in the vendor's answer is never printed; the answer is unusable")
    func registeredIDIsPrintable() throws {
        let server = try Self.registerFake(
            status: 201,
            body: #"{"id":"wh-1\nsecret written to /tmp/evil (mode 0600)\u001b[2J","secret":"review-secret-abcdef"}"#
        )
        defer { server.stop() }
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let out = try Self.register(server, secretOut: dir.path + "/new.secret")
        let printed = out.stdout + out.stderr
        let controls = printed.unicodeScalars.filter { $0.value < 0x20 && $0 != "\n" }
        #expect(controls.isEmpty, "control characters printed: \(printed.debugDescription)")
        #expect(!printed.contains("/tmp/evil"), "\(printed.debugDescription)")
        #expect(out.status != 0)
        #expect(out.stderr.contains("webhooks list"), "\(out.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/new.secret"), "no secret kept for it")
    }

    @Test(
        "register: a 2xx answer that cannot be read says the registration was probably made, and how to find it",
        arguments: [(201, #"{"id":"wh-1","secret":"s3"#), (204, "")]
    )
    func unreadableTwoHundredIsReported(status: Int, body: String) throws {
        let server = try Self.registerFake(status: status, body: body)
        defer { server.stop() }
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let out = try Self.register(server, secretOut: dir.path + "/new.secret")
        #expect(out.status != 0)
        #expect(out.stderr.contains("webhooks list"), "status \(status), stderr: \(out.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/new.secret"))
    }

    @Test("register: any 2xx with an id and a secret is a registration made (202 too)")
    func acceptedWithASecretIsARegistration() throws {
        let server = try Self.registerFake(status: 202, body: #"{"id":"wh-2","secret":"review-secret-2"}"#)
        defer { server.stop() }
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let out = try Self.register(server, secretOut: dir.path + "/new.secret")
        #expect(out.status == 0, "\(out.stderr)")
        #expect(out.stdout.hasPrefix("registered webhook wh-2\n"))
        #expect(FileManager.default.contents(atPath: dir.path + "/new.secret") == Data("review-secret-2\n".utf8))
    }

    /// Runs `webhooks register` for one URL and event against `server`, the secret going to `secretOut`.
    static func register(_ server: FakeHTTPServer, secretOut: String) throws -> ChildProcess.Output {
        try ChildProcess.run(
            [
                "webhooks", "register", "--url", "https://hooks.example.com/vipps/epayment", "--events",
                "epayments.payment.captured.v1", "--secret-out", secretOut, "--base-url", server.baseURL,
            ],
            environment: WebhooksCommandTests.environment()
        )
    }

    @Test("register whose token answer has no token says nothing of a registration that may have been made")
    func tokenFailureIsNotAnUnknownRegistration() throws {
        let server = try FakeHTTPServer()
        defer { server.stop() }
        server.answer { request in
            if String(request.head.path) == "/accesstoken/get" {
                return FakeHTTPServer.json(200, #"{"token_type":"Bearer","expires_in":"3599"}"#)
            }
            return FakeHTTPServer.json(500, "{}")
        }
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let out = try Self.register(server, secretOut: dir.path + "/new.secret")
        #expect(out.status != 0)
        // No register call was made: the token step failed.
        #expect(!out.stderr.contains("may have been made"), "\(out.stderr)")
    }
}
