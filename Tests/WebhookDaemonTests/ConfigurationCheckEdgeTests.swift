import Delivery
import Foundation
import TestSupport
import Testing
import VippsWebhooks

@testable import WebhookDaemon

/// The configuration checks' own edges: a `where:` field events of no known type may have, secrets written where a
/// name belongs and whatever stat(2) says of them, `0_10`.
@Suite("configuration checks: their edges")
struct ConfigurationCheckEdgeTests {
    let folder = TemporaryDirectory(prefix: "vipps-config-edges")

    init() throws {
        try folder.write("epayment.secret", "s3cret-one\n", mode: 0o600)
    }

    private func load(events: String, where filter: String) -> ConfigurationLoader.Result {
        let yaml = """
            public_url: "https://hooks.example.com"
            endpoints:
              - path: "/vipps/epayment"
                secret_file: "\(folder.path)/epayment.secret"
                routes:
                  - events: \(events)
                    sinks: ["fulfil"]
                    where: \(filter)
            sinks:
              fulfil: { file: "/tmp/config-edges.jsonl" }
            """
        return ConfigurationLoader(secretResolver: SecretResolver(environment: [:])).load(yaml: yaml, file: "t.yaml")
    }

    /// A `where:` on a field only events of no known type may have: not checked under `events: ["unknown"]`, and only
    /// a warning (not a problem) under `*` or `unknown` beside known types, which route such events too.
    @Test(
        "a where: on a field of unknown-type events is a warning, not a problem, when the route also selects known types",
        arguments: [#"["*"]"#, #"["unknown", "epayments.payment.captured.v1"]"#]
    )
    func whereFieldOfUnknownEventsIsAWarningBesideKnownTypes(events: String) {
        let filter = #"{ donationId: "d-1" }"#
        #expect(load(events: #"["unknown"]"#, where: filter).problems.isEmpty, "precondition: unknown alone passes")
        // An event of a type the daemon does not know, with that field: the route matches it.
        let body = Array(#"{"eventType":"donations.donation.received.v2","donationId":"d-1"}"#.utf8)
        let decoded = DecodedEvent.decode(body: body)
        #expect(decoded.type == DecodedEvent.unknownType)
        #expect(
            Route(
                events: [EventPattern("*")],
                filters: [RouteFilter(field: "donationId", value: .string("d-1"))],
                sinks: ["fulfil"]
            ).matches(decoded),
            "the route does select such an event"
        )
        let result = load(events: events, where: filter)
        #expect(result.problems.isEmpty, "refused: \(result.problems.map(\.description))")
        #expect(result.warnings.contains { $0.keyPath == "endpoints[0].routes[0].where.donationId" })
    }

    /// A secret written as a credential's name stays hidden whatever stat(2) says: a secret longer than NAME_MAX
    /// (ENAMETOOLONG), or a CREDENTIALS_DIRECTORY that names a file (ENOTDIR).
    @Test(
        "a secret as secret_credential's name is not shown when stat fails other than ENOENT either",
        arguments: ["long", "notdir"]
    )
    func secretAsCredentialNameHiddenOnOtherErrors(kind: String) throws {
        let secret =
            kind == "long"
            ? "rotation-s3cr3t-" + String(repeating: "k", count: 300) : "rotation-s3cr3t-\(UUID().uuidString)"
        let credentials = TemporaryDirectory(prefix: "vipps-config-edges-credentials")
        defer { credentials.remove() }
        let directory = kind == "long" ? credentials.path : try credentials.write("not-a-directory", "x\n")
        let yaml = """
            public_url: "https://hooks.example.com"
            endpoints:
              - path: "/vipps/epayment"
                secret_credential: "\(secret)"
                routes: [{ events: ["*"], sinks: ["journal"] }]
            sinks:
              journal: { file: "/tmp/config-edges.jsonl" }
            """
        let result = ConfigurationLoader(
            secretResolver: SecretResolver(environment: ["CREDENTIALS_DIRECTORY": directory])
        ).load(yaml: yaml, file: "test.yaml")
        #expect(result.configuration == nil)
        let text = (result.problems + result.warnings).map(\.description).joined(separator: "\n")
        #expect(!text.contains(secret), "\(text)")
    }

    /// A line written with ':' in place of '=', whose base64 secret ends in '=' padding, has the secret in what the
    /// file reader takes for its key: the unknown-key warning must not print it.
    @Test("a VIPPS_* line with ':' instead of '=' and a base64 secret: the unknown-key warning hides that key")
    func unknownKeyWarningHidesAKeyThatIsNoName() throws {
        let secret = "Zm9vYmFyYmF6cXV4c2VjcmV0LXZhbHVl"
        let file = try ManagementCredentialsFile(
            text: "VIPPS_CLIENT_ID=cid-1\nVIPPS_CLIENT_SECRET: \(secret)==\nVIPPS_SUBSCRIPTION_KEY=sk-1\n",
            path: "/etc/vipps-webhookd/vipps-api.env"
        )
        #expect(!file.unknownKeys.isEmpty, "precondition: warned about")
        #expect(!file.unknownKeys.joined().contains(secret), "\(file.unknownKeys)")
    }

    /// YAML 1.1 allows '_' separators: `0_10` is octal 8 as `010` is.
    @Test("max_attempts: 0_10 is a problem, as 010 is")
    func leadingZeroWithUnderscoreIsAProblem() {
        let yaml = """
            public_url: "https://hooks.example.com"
            endpoints:
              - path: "/vipps/epayment"
                secret_file: "\(folder.path)/epayment.secret"
                routes: [{ events: ["*"], sinks: ["fulfil"] }]
            sinks:
              fulfil: { exec: ["/bin/true"], max_attempts: 0_10 }
            """
        let result = ConfigurationLoader(secretResolver: SecretResolver(environment: [:])).load(
            yaml: yaml,
            file: "t.yaml"
        )
        if let sink = result.configuration?.sinks.first, case .exec(_, _, let attempts, _) = sink.kind {
            #expect(attempts != 8, "read as octal 8")
        }
        #expect(!result.problems.isEmpty, "accepted without a problem")
    }
}
