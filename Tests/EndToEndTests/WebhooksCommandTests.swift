import Foundation
import TestSupport
import Testing
import VippsWebhooks

/// `vipps-webhookd webhooks register|list|delete` run as real processes against a loopback fake of the Vipps API.
@Suite("webhooks command")
struct WebhooksCommandTests {
    static let msn = "123456"
    static let hookURL = "https://hooks.example.com/vipps/webhooks"

    static func environment(secret: String = FakeVippsAPI.clientSecret) -> [String: String] {
        [
            "VIPPS_CLIENT_ID": FakeVippsAPI.clientID, "VIPPS_CLIENT_SECRET": secret,
            "VIPPS_SUBSCRIPTION_KEY": FakeVippsAPI.subscriptionKey, "VIPPS_MSN": msn,
        ]
    }

    static func run(
        _ fake: FakeVippsAPI,
        _ arguments: [String],
        environment: [String: String] = environment()
    ) throws -> ChildProcess.Output {
        try ChildProcess.run(["webhooks"] + arguments + ["--base-url", fake.baseURL], environment: environment)
    }

    /// Expects that no output holds a secret the command knew.
    static func expectNoSecrets(_ out: ChildProcess.Output, extra: [String] = []) {
        for secret in [FakeVippsAPI.clientSecret, FakeVippsAPI.subscriptionKey, "tok-"] + extra {
            #expect(!out.stdout.contains(secret), "stdout shows \(secret)")
            #expect(!out.stderr.contains(secret), "stderr shows \(secret)")
        }
    }

    @Test("register, list, delete round trip; secret only in a new 0600 file")
    func roundTrip() throws {
        let fake = try FakeVippsAPI()
        defer { fake.stop() }
        let dir = TemporaryDirectory()
        let secretPath = dir.path + "/epayment.secret"
        let events = "epayments.payment.captured.v1,epayments.payment.refunded.v1"
        let registered = try Self.run(
            fake,
            ["register", "--url", Self.hookURL, "--events", events, "--secret-out", secretPath]
        )
        #expect(registered.status == 0, "\(registered.stderr)")
        let registration = try #require(fake.registrations.first)
        #expect(registration.url == Self.hookURL)
        #expect(registration.events == events.split(separator: ",").map(String.init))
        #expect(registered.stdout.contains("registered webhook \(registration.id)\n"))
        #expect(registered.stdout.contains(#"secret_file: "\#(secretPath)""#))
        #expect(registered.stdout.contains(#"public_url: "\#(Self.hookURL)""#))
        #expect(try String(contentsOfFile: secretPath, encoding: .utf8) == registration.secret + "\n")
        let mode = try FileManager.default.attributesOfItem(atPath: secretPath)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        Self.expectNoSecrets(registered, extra: [registration.secret])

        let token = try #require(fake.seen.first)
        #expect(token.method == "POST" && token.target == "/accesstoken/get")
        let call = try #require(fake.seen.last)
        #expect(call.header("Authorization")?.hasPrefix("Bearer tok-") == true)
        #expect(call.header("Merchant-Serial-Number") == Self.msn)
        #expect(call.header("Vipps-System-Name") == "vipps-webhookd")
        #expect(call.header("Vipps-System-Version")?.isEmpty == false)
        #expect(call.header("Vipps-System-Plugin-Name")?.isEmpty == false)
        #expect(call.header("Vipps-System-Plugin-Version")?.isEmpty == false)

        let listed = try Self.run(fake, ["list"])
        #expect(listed.status == 0, "\(listed.stderr)")
        #expect(listed.stdout == "\(registration.id) \(Self.hookURL) \(events)\n")
        Self.expectNoSecrets(listed, extra: [registration.secret])

        let deleted = try Self.run(fake, ["delete", registration.id])
        #expect(deleted.status == 0, "\(deleted.stderr)")
        #expect(deleted.stdout == "deleted \(registration.id)\n")
        #expect(fake.registrations.isEmpty)
        #expect(fake.seen.last?.method == "DELETE")

        let empty = try Self.run(fake, ["list"])
        #expect(empty.status == 0 && empty.stdout.isEmpty)

        let again = try Self.run(fake, ["delete", registration.id])
        #expect(again.status != 0)
        #expect(again.stderr.contains("delete failed: 404 Not Found: No webhook with id"))
    }

    @Test("a 400 problem is one readable line with the field reasons; the new secret file is removed")
    func validationProblem() throws {
        let fake = try FakeVippsAPI()
        defer { fake.stop() }
        let dir = TemporaryDirectory()
        let secretPath = dir.path + "/s"
        let out = try Self.run(
            fake,
            [
                "register", "--url", Self.hookURL, "--events", "epayments.payment.captured.v1,donations.gift.v1",
                "--secret-out", secretPath,
            ]
        )
        #expect(out.status != 0)
        #expect(out.stderr.contains("warning: donations.gift.v1 is not an event type this tool knows"))
        #expect(
            out.stderr.contains(
                "register failed: 400 Bad Request: One or more validation errors occurred. "
                    + "(events: unknown event type donations.gift.v1) [traceId trace-0001]"
            ),
            "\(out.stderr)"
        )
        #expect(!FileManager.default.fileExists(atPath: secretPath))
        Self.expectNoSecrets(out)
    }

    @Test("bad client credentials and a rejected token are clear 401 messages without secrets")
    func unauthorized() throws {
        let fake = try FakeVippsAPI()
        defer { fake.stop() }
        let badSecret = try Self.run(fake, ["list"], environment: Self.environment(secret: "not-the-secret-77"))
        #expect(badSecret.status != 0)
        #expect(
            badSecret.stderr.contains(
                "list failed: access token request: 401 Unauthorized: Invalid client credentials."
            ),
            "\(badSecret.stderr)"
        )
        #expect(badSecret.stderr.contains("check the client id, client secret"))
        Self.expectNoSecrets(badSecret, extra: ["not-the-secret-77"])

        fake.revokeTokens()
        let revoked = try Self.run(fake, ["list"])
        #expect(revoked.status != 0)
        #expect(
            revoked.stderr.contains(
                "list failed: 401 Unauthorized: The access token is missing, expired or invalid."
            ),
            "\(revoked.stderr)"
        )
        #expect(fake.seen.last?.target == "/webhooks/v1/webhooks")
        Self.expectNoSecrets(revoked)
    }

    @Test("the 26th registration for an event type is refused with the limit explained")
    func registrationLimit() throws {
        let fake = try FakeVippsAPI()
        defer { fake.stop() }
        let event = "epayments.payment.captured.v1"
        fake.preload(24, event: event, msn: Self.msn)
        let dir = TemporaryDirectory()
        let ok = try Self.run(
            fake,
            ["register", "--url", Self.hookURL, "--events", event, "--secret-out", dir.path + "/25"]
        )
        #expect(ok.status == 0, "\(ok.stderr)")
        let refused = try Self.run(
            fake,
            ["register", "--url", Self.hookURL, "--events", event, "--secret-out", dir.path + "/26"]
        )
        #expect(refused.status != 0)
        #expect(
            refused.stderr.contains(
                "register failed: 400 Bad Request: Maximum number of webhooks reached for this merchant. "
                    + "(events: \(event) already has 25 registrations for MSN \(Self.msn))"
            ),
            "\(refused.stderr)"
        )
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/26"))
        #expect(fake.registrations.count == 25)
    }

    @Test("bad input is refused before any call: the fake sees no request")
    func inputCheckedFirst() throws {
        let fake = try FakeVippsAPI()
        defer { fake.stop() }
        let dir = TemporaryDirectory()
        let existing = try dir.write("existing.secret", "old-secret\n")
        let new = dir.path + "/new.secret"
        var elevenDigits = Self.environment()
        elevenDigits["VIPPS_MSN"] = "12345678901"
        var noSecret = Self.environment()
        noSecret["VIPPS_CLIENT_SECRET"] = nil
        let cases: [([String], [String: String], String)] = [
            (
                [
                    "register", "--url", "http://hooks.example.com/x", "--events", "user.checked-in.v1", "--secret-out",
                    new,
                ],
                Self.environment(), "--url must be an https:// URL"
            ),
            (
                ["register", "--url", Self.hookURL, "--events", "user.checked-in.v1", "--secret-out", existing],
                Self.environment(), "already exists; refusing to overwrite it"
            ),
            (
                ["register", "--url", Self.hookURL, "--events", ",", "--secret-out", new], Self.environment(),
                "--events"
            ),
            (["list"], elevenDigits, "merchant serial number must be 4 to 10 digits (the access-token API pattern"),
            (["list"], noSecret, "missing client secret: give --client-secret, set VIPPS_CLIENT_SECRET"),
            (["delete", "../other"], Self.environment(), "is not an id"),
        ]
        for (arguments, environment, expected) in cases {
            let out = try Self.run(fake, arguments, environment: environment)
            #expect(out.status != 0, "\(arguments)")
            #expect(out.stderr.contains(expected), "\(arguments): \(out.stderr)")
            Self.expectNoSecrets(out)
        }
        let remote = try ChildProcess.run(
            ["webhooks", "list", "--base-url", "http://api.example.com"],
            environment: Self.environment()
        )
        #expect(remote.status != 0)
        #expect(remote.stderr.contains("plain http:// is allowed only to a loopback host"))
        #expect(fake.seen.isEmpty)
        #expect(try String(contentsOfFile: existing, encoding: .utf8) == "old-secret\n")
        #expect(!FileManager.default.fileExists(atPath: new))
    }

    @Test("credentials from flags and from a KEY=VALUE file; a group-readable file gets a warning")
    func credentialSources() throws {
        let fake = try FakeVippsAPI()
        defer { fake.stop() }
        let dir = TemporaryDirectory()
        let file = try dir.write(
            "vipps.env",
            """
            # Vipps test merchant
            VIPPS_CLIENT_ID=\(FakeVippsAPI.clientID)
            export VIPPS_CLIENT_SECRET="\(FakeVippsAPI.clientSecret)"
            VIPPS_SUBSCRIPTION_KEY=\(FakeVippsAPI.subscriptionKey)
            VIPPS_MSN=\(Self.msn)

            """,
            mode: 0o644
        )
        let fromFile = try Self.run(fake, ["list", "--credentials", file], environment: [:])
        #expect(fromFile.status == 0, "\(fromFile.stderr)")
        #expect(fromFile.stderr.contains("warning: credentials file \(file) is accessible by others"))
        // Readable by its group only (the service's user reads it so): no warning.
        #expect(chmod(file, 0o640) == 0)
        let groupReadable = try Self.run(fake, ["list", "--credentials", file], environment: [:])
        #expect(groupReadable.status == 0, "\(groupReadable.stderr)")
        #expect(!groupReadable.stderr.contains("accessible by"), "\(groupReadable.stderr)")
        Self.expectNoSecrets(fromFile)

        let fromFlags = try Self.run(
            fake,
            [
                "list", "--client-id", FakeVippsAPI.clientID, "--client-secret", FakeVippsAPI.clientSecret,
                "--subscription-key", FakeVippsAPI.subscriptionKey, "--msn", Self.msn,
            ],
            environment: [:]
        )
        #expect(fromFlags.status == 0, "\(fromFlags.stderr)")
        #expect(!fromFlags.stderr.contains("warning"))
    }
}
