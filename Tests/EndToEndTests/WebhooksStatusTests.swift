import Foundation
import TestSupport
import Testing

/// `vipps-webhookd webhooks status --config PATH` against the fake: one line per endpoint and the exit statuses
/// 0 (all ok), 1 (some endpoint not ok), 2 (unusable config), 3 (API failure).
@Suite("webhooks status")
struct WebhooksStatusTests {
    static let url = RegistrationFixture.hookURL
    static let captured = RegistrationFixture.captured
    static let refunded = RegistrationFixture.refunded

    /// Writes `config` and the fixture's files into `dir` and runs `webhooks status` on it with an empty environment.
    static func status(_ config: String, in dir: TemporaryDirectory) throws -> ChildProcess.Output {
        try dir.write(files: RegistrationFixture.files)
        let path = try dir.write("config.yaml", dir.expandingDIR(config))
        return try ChildProcess.run(["webhooks", "status", "--config", path], environment: [:])
    }

    @Test("ok, missing, routed-but-not-registered, registered-but-not-routed, API down: lines and exit codes")
    func exitCodes() throws {
        let fake = try FakeVippsAPI()
        defer { fake.stop() }
        let dir = TemporaryDirectory()
        let config = RegistrationFixture.config(fake, events: [Self.captured, Self.refunded], checkMinutes: nil)

        let missing = try Self.status(config, in: dir)
        #expect(missing.status == 1, "\(missing.stderr)")
        #expect(missing.stdout == "/vipps/epayment: missing: no registration for hooks.example.com/vipps/epayment\n")

        let id = fake.add(url: Self.url, events: [Self.captured], msn: WebhooksCommandTests.msn)
        let partial = try Self.status(config, in: dir)
        #expect(partial.status == 1)
        #expect(partial.stdout == "/vipps/epayment: differs: routed but not registered: \(Self.refunded)\n")

        fake.add(
            url: Self.url,
            events: [Self.refunded, "epayments.payment.cancelled.v1"],
            msn: WebhooksCommandTests.msn
        )
        let extra = try Self.status(config, in: dir)
        #expect(extra.status == 1)
        #expect(
            extra.stdout == "/vipps/epayment: differs: registered but not routed: epayments.payment.cancelled.v1\n"
        )

        fake.removeAll(url: Self.url)
        fake.add(url: Self.url, events: [Self.refunded, Self.captured], msn: WebhooksCommandTests.msn)
        let ok = try Self.status(config, in: dir)
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(ok.stdout == "/vipps/epayment: ok\n")
        #expect(!fake.registrations.contains { $0.id == id })
        WebhooksCommandTests.expectNoSecrets(ok)

        fake.setDown(true)
        let down = try Self.status(config, in: dir)
        #expect(down.status == 3)
        #expect(down.stdout.isEmpty)
        #expect(down.stderr.contains("status failed: cannot list the registrations: access token request: 503"))
        WebhooksCommandTests.expectNoSecrets(down)
    }

    @Test("globs, another host, an endpoint without a public URL, a malformed list item")
    func globsHostsAndUncheckable() throws {
        let fake = try FakeVippsAPI()
        defer { fake.stop() }
        let dir = TemporaryDirectory()
        let other = """
              - path: "/vipps/recurring"
                public_url: "https://shop.example.com/vipps/recurring"
                secret_file: "$DIR/secret"
                routes:
                  - { events: ["recurring.*", "unknown"], sinks: ["events"] }
            """
        var config = RegistrationFixture.config(
            fake,
            events: ["epayments.payment.*"],
            checkMinutes: nil,
            extraEndpoints: other
        )
        fake.add(url: Self.url, events: [Self.captured, Self.refunded], msn: WebhooksCommandTests.msn)
        fake.add(
            url: "https://old-shop.example.com/vipps/recurring",
            events: ["recurring.charge-captured.v1"],
            msn: WebhooksCommandTests.msn
        )
        fake.addMalformedItems([#"{"id":"half"}"#])
        let out = try Self.status(config, in: dir)
        #expect(out.status == 1)
        #expect(
            out.stdout == """
                /vipps/epayment: ok
                /vipps/recurring: missing: no registration for shop.example.com/vipps/recurring (the same path is \
                registered at https://old-shop.example.com/vipps/recurring)

                """
        )
        #expect(
            out.stderr.contains(#"warning: malformed registration: item 3 (id half) lacks "url", "events"; skipped"#)
        )

        fake.add(
            url: "https://shop.example.com/vipps/recurring",
            events: ["recurring.charge-captured.v1", "recurring.agreement-stopped.v1"],
            msn: WebhooksCommandTests.msn
        )
        let both = try Self.status(config, in: dir)
        #expect(both.status == 0, "\(both.stdout)\(both.stderr)")

        config = config.replacingOccurrences(of: #"public_url: "https://hooks.example.com""#, with: "")
        let uncheckable = try Self.status(config, in: dir)
        #expect(uncheckable.status == 1)
        #expect(
            uncheckable.stdout.hasPrefix(
                "/vipps/epayment: cannot check: no public_url, so the registered URL is unknown (set public_url)\n"
            )
        )
    }

    @Test("an unusable config or vipps_api block: exit 2 with one line per problem, no call made")
    func unusableConfig() throws {
        let fake = try FakeVippsAPI()
        defer { fake.stop() }
        let dir = TemporaryDirectory()
        let config = RegistrationFixture.config(fake, checkMinutes: -1)
            .replacingOccurrences(of: #"credentials_file: "$DIR/vipps.env""#, with: #"credentials_credential: "vipps""#)
        let out = try Self.status(config, in: dir)
        #expect(out.status == 2)
        #expect(
            out.stderr.contains("vipps_api.check_registrations_minutes: must be 0 (off) or from 0.01"),
            "\(out.stderr)"
        )
        #expect(out.stderr.contains("vipps_api.credentials_credential: CREDENTIALS_DIRECTORY is not set"))
        #expect(fake.seen.isEmpty)
    }
}
