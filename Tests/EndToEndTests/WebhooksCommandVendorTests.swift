import Foundation
import TestSupport
import Testing

/// `webhooks register|list` against the fake, for the vendor facts of 2026: MSNs of 4 to 10 digits or none at all
/// (partners), an `Idempotency-Key` on register, and a list answer with a malformed item.
@Suite("webhooks command: vendor facts")
struct WebhooksCommandVendorTests {
    static let hookURL = WebhooksCommandTests.hookURL
    static let event = "epayments.payment.captured.v1"

    static func environment(msn: String?) -> [String: String] {
        var environment = WebhooksCommandTests.environment()
        environment["VIPPS_MSN"] = msn
        return environment
    }

    @Test("a 7-digit MSN registers; its calls carry it; the Idempotency-Key is random per run and reusable")
    func sevenDigitMSNAndIdempotencyKey() throws {
        let fake = try FakeVippsAPI()
        defer { fake.stop() }
        let dir = TemporaryDirectory()
        let first = try WebhooksCommandTests.run(
            fake,
            ["register", "--url", Self.hookURL, "--events", Self.event, "--secret-out", dir.path + "/a"],
            environment: Self.environment(msn: "1234567")
        )
        #expect(first.status == 0, "\(first.stderr)")
        #expect(fake.registrations.map(\.msn) == ["1234567"])
        let posts = fake.seen.filter { $0.method == "POST" && $0.target == "/webhooks/v1/webhooks" }
        let key = try #require(posts.first?.header("Idempotency-Key"))
        #expect(key.count == 32 && key.allSatisfy(\.isHexDigit))
        #expect(fake.seen.allSatisfy { $0.header("Merchant-Serial-Number") == "1234567" })

        let second = try WebhooksCommandTests.run(
            fake,
            ["register", "--url", Self.hookURL, "--events", Self.event, "--secret-out", dir.path + "/b"],
            environment: Self.environment(msn: "1234567")
        )
        #expect(second.status == 0, "\(second.stderr)")
        let secondKey = fake.seen.last { $0.method == "POST" && $0.target == "/webhooks/v1/webhooks" }?
            .header("Idempotency-Key")
        #expect(secondKey != nil && secondKey != key)

        let reused = try WebhooksCommandTests.run(
            fake,
            [
                "register", "--url", Self.hookURL, "--events", Self.event, "--secret-out", dir.path + "/c",
                "--idempotency-key", key,
            ],
            environment: Self.environment(msn: "1234567")
        )
        #expect(reused.status == 0, "\(reused.stderr)")
        #expect(fake.seen.last?.header("Idempotency-Key") == key)
    }

    @Test("without an MSN (a partner) no Merchant-Serial-Number header is sent, and the user is told")
    func noMSN() throws {
        let fake = try FakeVippsAPI()
        defer { fake.stop() }
        let dir = TemporaryDirectory()
        let out = try WebhooksCommandTests.run(
            fake,
            ["register", "--url", Self.hookURL, "--events", Self.event, "--secret-out", dir.path + "/p"],
            environment: Self.environment(msn: nil)
        )
        #expect(out.status == 0, "\(out.stderr)")
        #expect(out.stderr.contains("no merchant serial number"))
        #expect(!fake.seen.isEmpty)
        #expect(fake.seen.allSatisfy { $0.header("Merchant-Serial-Number") == nil })
        #expect(fake.registrations.map(\.msn) == [""])
    }

    @Test("a register whose answer is lost (504) says how to find out whether it was made, with the key to retry")
    func unknownOutcome() throws {
        let fake = try FakeVippsAPI()
        defer { fake.stop() }
        let dir = TemporaryDirectory()
        fake.loseRegisterAnswers()
        let out = try WebhooksCommandTests.run(
            fake,
            ["register", "--url", Self.hookURL, "--events", Self.event, "--secret-out", dir.path + "/u"],
            environment: Self.environment(msn: "123456")
        )
        #expect(out.status != 0)
        #expect(out.stderr.contains("register failed: 504 Gateway Timeout"), "\(out.stderr)")
        #expect(out.stderr.contains("run `vipps-webhookd webhooks list` and look for \(Self.hookURL)"))
        let key = try #require(fake.seen.last?.header("Idempotency-Key"))
        #expect(out.stderr.contains("retry with --idempotency-key \(key)"))
        #expect(fake.registrations.count == 1)
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/u"))
        WebhooksCommandTests.expectNoSecrets(out)

        fake.setDown(true)
        let refused = try WebhooksCommandTests.run(
            fake,
            ["register", "--url", Self.hookURL, "--events", Self.event, "--secret-out", dir.path + "/v"],
            environment: Self.environment(msn: "123456")
        )
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("register failed: access token request: 503"), "\(refused.stderr)")
        #expect(!refused.stderr.contains("webhooks list"), "no registration can exist without a token")
    }

    @Test("list prints the good items and one warning per malformed item; exit status 0")
    func malformedListItem() throws {
        let fake = try FakeVippsAPI()
        defer { fake.stop() }
        let id = fake.add(url: Self.hookURL, events: [Self.event], msn: WebhooksCommandTests.msn)
        fake.addMalformedItems([#"{"id":"broken-1","events":["x"]}"#, #""just a string""#])
        let out = try WebhooksCommandTests.run(fake, ["list"])
        #expect(out.status == 0, "\(out.stderr)")
        #expect(out.stdout == "\(id) \(Self.hookURL) \(Self.event)\n")
        #expect(out.stderr.contains(#"warning: malformed registration: item 2 (id broken-1) lacks "url"; skipped"#))
        #expect(out.stderr.contains(#"warning: malformed registration: item 3 lacks "id", "url", "events"; skipped"#))
    }
}
