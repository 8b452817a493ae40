import Foundation
import TestSupport
import Testing
import VippsAPI
import VippsWebhooks

@testable import WebhookDaemon

@Suite("vipps_api configuration")
struct VippsAPIConfigurationTests {
    /// Removed when the test ends.
    let folder = TemporaryDirectory(prefix: "vipps-api-config")
    var directory: String { folder.path }

    static let credentials = """
        # test merchant
        VIPPS_CLIENT_ID=cid-1
        VIPPS_CLIENT_SECRET="client-secret-value-1"
        VIPPS_SUBSCRIPTION_KEY=subscription-key-value-1
        VIPPS_MSN=1234567

        """

    init() throws {
        try folder.write("secret", "s3cret-one\n", mode: 0o600)
        try folder.write("vipps.env", Self.credentials, mode: 0o600)
        try folder.write("loose.env", Self.credentials, mode: 0o644)
        try folder.write(
            "partner.env",
            Self.credentials.replacingOccurrences(of: "VIPPS_MSN=1234567\n", with: ""),
            mode: 0o600
        )
        try folder.write("nokey.env", "VIPPS_CLIENT_ID=cid-1\nVIPPS_MSN=123\n", mode: 0o600)
    }

    private func load(_ block: String, environment: [String: String] = [:]) -> ConfigurationLoader.Result {
        let yaml = """
            endpoints:
              - path: "/vipps/epayment"
                public_url: "https://hooks.example.com/vipps/epayment"
                secret_file: "\(directory)/secret"
                routes: [{ events: ["*"], sinks: ["journal"] }]
            sinks:
              journal: { file: "/tmp/events.jsonl" }
            \(block)
            """
        return ConfigurationLoader(secretResolver: SecretResolver(environment: environment))
            .load(yaml: yaml, file: "test.yaml")
    }

    private func messages(_ result: ConfigurationLoader.Result) -> [String] {
        result.problems.map(\.description)
    }

    @Test("defaults: test environment, a check every 60 minutes, no reconciliation; a 7-digit MSN")
    func defaults() throws {
        let result = load("vipps_api: { credentials_file: \"\(directory)/vipps.env\" }")
        let settings = try #require(result.configuration?.vippsAPI, "\(messages(result))")
        #expect(settings.baseURL == "https://apitest.vipps.no")
        #expect(settings.checkRegistrationsSeconds == 3600)
        #expect(settings.reconcileSeconds == 0)
        #expect(settings.credentials.clientID == "cid-1")
        #expect(settings.credentials.clientSecret == "client-secret-value-1")
        #expect(settings.credentials.msn == "1234567")
        #expect(!"\(settings)".contains("client-secret-value-1") && !"\(settings)".contains("subscription-key-value-1"))
        #expect(load("").configuration?.vippsAPI == nil)
    }

    @Test("production, fractions of a minute, 0 = off, a systemd credential, a partner without MSN")
    func variants() throws {
        let production = load(
            """
            vipps_api:
              env: production
              credentials_credential: "vipps.env"
              check_registrations_minutes: 0.02
              reconcile_minutes: 0
            """,
            environment: ["CREDENTIALS_DIRECTORY": directory]
        )
        let settings = try #require(production.configuration?.vippsAPI, "\(messages(production))")
        #expect(settings.baseURL == "https://api.vipps.no")
        #expect(abs(settings.checkRegistrationsSeconds - 1.2) < 1e-9)
        let off = load(
            "vipps_api: { base_url: \"http://127.0.0.1:9/\", credentials_file: \"\(directory)/partner.env\", "
                + "check_registrations_minutes: 0 }"
        )
        let offSettings = try #require(off.configuration?.vippsAPI, "\(messages(off))")
        #expect(offSettings.checkRegistrationsSeconds == 0)
        #expect(offSettings.baseURL == "http://127.0.0.1:9")
        #expect(offSettings.credentials.msn == nil)
    }

    @Test("each problem is one line with its key path, and no credential value appears")
    func problems() {
        let cases: [(String, [String: String], String)] = [
            (
                "vipps_api: { env: staging, credentials_file: \"\(directory)/vipps.env\" }", [:],
                "vipps_api.env: expected test or production"
            ),
            (
                "vipps_api: { env: test, base_url: \"https://a.example\", credentials_file: \"\(directory)/vipps.env\" }",
                [:], "vipps_api: give either env or base_url, not both"
            ),
            (
                "vipps_api: { base_url: \"http://api.example.com\", credentials_file: \"\(directory)/vipps.env\" }",
                [:],
                "vipps_api.base_url: base_url must be https:// (plain http:// is allowed only to a loopback host)"
            ),
            ("vipps_api: { env: test }", [:], "vipps_api: needs credentials_file or credentials_credential"),
            (
                "vipps_api: { credentials_file: \"\(directory)/vipps.env\", credentials_credential: x }", [:],
                "give either credentials_file or credentials_credential, not both"
            ),
            (
                "vipps_api: { credentials_file: \"\(directory)/missing.env\" }", [:],
                "vipps_api.credentials_file: cannot read credentials file \(directory)/missing.env"
            ),
            (
                "vipps_api: { credentials_file: \"\(directory)/nokey.env\" }", [:],
                "vipps_api.credentials_file: \(directory)/nokey.env: no VIPPS_CLIENT_SECRET=... line"
            ),
            (
                "vipps_api: { credentials_credential: \"vipps.env\" }", [:],
                "vipps_api.credentials_credential: CREDENTIALS_DIRECTORY is not set"
            ),
            (
                "vipps_api: { credentials_credential: \"../vipps.env\" }", ["CREDENTIALS_DIRECTORY": directory],
                "a credential name cannot be empty or contain '/'"
            ),
            (
                "vipps_api: { credentials_file: \"\(directory)/vipps.env\", check_registrations_minutes: 0.001 }", [:],
                "vipps_api.check_registrations_minutes: must be 0 (off) or from 0.01 to 10080"
            ),
            (
                "vipps_api: { credentials_file: \"\(directory)/vipps.env\", check_registrations_minutes: soon }", [:],
                "vipps_api.check_registrations_minutes: expected a number of minutes"
            ),
            (
                "vipps_api: { credentials_file: \"\(directory)/vipps.env\", reconcile_minutes: 20000 }", [:],
                "vipps_api.reconcile_minutes: must be 0 (off) or from 0.01 to 10080"
            ),
            (
                "vipps_api: { credentials_file: \"\(directory)/vipps.env\", secret: x }", [:],
                "vipps_api.secret: unknown key"
            ),
            ("vipps_api: [1]", [:], "vipps_api: expected a mapping"),
        ]
        for (block, environment, expected) in cases {
            let result = load(block, environment: environment)
            #expect(result.configuration == nil, "\(block)")
            #expect(messages(result).contains { $0.contains(expected) }, "\(block): \(messages(result))")
            for line in messages(result) + result.warnings.map(\.description) {
                #expect(!line.contains("client-secret-value-1") && !line.contains("subscription-key-value-1"))
            }
        }
    }

    @Test("a bad MSN in the credentials is a problem naming the rule, not the other values")
    func badMSN() throws {
        try folder.write(
            "bad.env",
            Self.credentials.replacingOccurrences(of: "1234567", with: "12345678901"),
            mode: 0o600
        )
        let result = load("vipps_api: { credentials_file: \"\(directory)/bad.env\" }")
        #expect(messages(result).contains { $0.contains("must be 4 to 10 digits") }, "\(messages(result))")
    }

    @Test("a credentials file readable by others loads with a warning")
    func looseFile() throws {
        let result = load("vipps_api: { credentials_file: \"\(directory)/loose.env\" }")
        #expect(result.configuration?.vippsAPI != nil)
        #expect(result.warnings.contains { $0.description.contains("vipps_api.credentials_file: credentials file") })
    }
}
