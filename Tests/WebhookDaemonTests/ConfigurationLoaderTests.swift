import Delivery
import Foundation
import TestSupport
import Testing
import VippsWebhooks

@testable import WebhookDaemon

@Suite("Configuration loading")
struct ConfigurationLoaderTests {
    /// Removed when the test ends.
    let folder = TemporaryDirectory(prefix: "vipps-config")
    var directory: String { folder.path }

    init() throws {
        try folder.write("epayment.secret", "s3cret-one\n", mode: 0o600)
        try folder.write("loose.secret", "s3cret-two", mode: 0o644)
        try folder.write("empty.secret", "\n", mode: 0o600)
    }

    private func load(_ yaml: String, environment: [String: String] = [:]) -> ConfigurationLoader.Result {
        ConfigurationLoader(secretResolver: SecretResolver(environment: environment))
            .load(yaml: yaml, file: "test.yaml")
    }

    @Test("a full configuration with every key loads with its values")
    func fullConfiguration() throws {
        let result = load(
            """
            listen: "[::1]:9090"
            public_url: "https://Hooks.Example.com/shop"
            state_dir: "/tmp/state"
            clock_skew_seconds: 120
            max_body_bytes: 4096
            dedup_max_ids: 100000
            server: { header_timeout_seconds: 5, body_timeout_seconds: 6, idle_timeout_seconds: 7,
                      max_header_bytes: 8192, max_connections: 100, max_requests_per_connection: 50,
                      shutdown_grace_seconds: 3 }
            log: { format: json, level: debug }
            endpoints:
              - path: "/vipps/epayment"
                secret_file: "\(directory)/epayment.secret"
                routes:
                  - events: ["epayments.payment.*"]
                    sinks: ["journal"]
                  - events: ["epayments.payment.captured.v1"]
                    where: { success: true, msn: "123456", amount: 49900 }
                    sinks: ["fulfil", "journal"]
              - path: "/vipps/recurring"
                public_url: "https://shop.example.com/api/vipps?x=1"
                secrets: ["\(directory)/epayment.secret", { env: NEXT_SECRET }]
                routes: [{ events: ["*"], sinks: ["journal"] }]
            sinks:
              journal: { file: "/tmp/events.jsonl" }
              fulfil:
                exec: ["/usr/local/bin/fulfil-order", "--reference", "{reference}"]
                timeout_seconds: 30
                max_attempts: 8
                concurrency: 4
            """,
            environment: ["NEXT_SECRET": "next"]
        )
        #expect(result.problems.isEmpty, "\(result.problems)")
        let configuration = try #require(result.configuration)
        #expect(configuration.listen == "[::1]:9090")
        #expect(configuration.clockSkewSeconds == 120)
        #expect(configuration.maxBodyBytes == 4096)
        #expect(configuration.dedupMaxIDs == 100_000)
        #expect(configuration.server.headerTimeoutSeconds == 5)
        #expect(configuration.server.maxRequestsPerConnection == 50)
        #expect(configuration.log.format == .json)
        #expect(configuration.endpoints.count == 2)
        let first = configuration.endpoints[0]
        #expect(first.signedTarget == SignedTarget(host: "hooks.example.com", pathAndQuery: "/shop/vipps/epayment"))
        #expect(first.secrets.map(\.keyBytes) == [Array("s3cret-one".utf8)])
        #expect(
            first.routes[1].filters == [
                RouteFilter(field: "success", value: .bool(true)),
                RouteFilter(field: "msn", value: .string("123456")),
                RouteFilter(field: "amount", value: .number(JSONNumber(49900))),
            ]
        )
        let second = configuration.endpoints[1]
        #expect(second.signedTarget == SignedTarget(host: "shop.example.com", pathAndQuery: "/api/vipps?x=1"))
        #expect(second.secrets.count == 2)
        guard case .exec(let argv, 30, 8, 4) = configuration.sinks[1].kind else {
            Issue.record("fulfil is not the configured exec sink")
            return
        }
        #expect(argv == ["/usr/local/bin/fulfil-order", "--reference", "{reference}"])
    }

    @Test("JSON is accepted as YAML, and defaults apply")
    func jsonAndDefaults() throws {
        let result = load(
            """
            {"endpoints": [{"path": "/x", "secret_env": "S", "routes": [{"events": ["*"], "sinks": ["f"]}]}],
             "sinks": {"f": {"file": "/tmp/f.jsonl"}}}
            """,
            environment: ["S": "value"]
        )
        let configuration = try #require(result.configuration, "\(result.problems)")
        #expect(configuration.listen == "127.0.0.1:8080")
        #expect(configuration.clockSkewSeconds == 300)
        #expect(configuration.maxBodyBytes == 65536)
        #expect(configuration.dedupMaxIDs == 2_000_000)
        #expect(configuration.server == DaemonConfiguration.ServerLimits())
        #expect(configuration.endpoints[0].signedTarget == nil)
    }

    @Test("a dedup cap whose memory would not fit the unit's MemoryMax is an error, one that fits is not")
    func dedupCapWithinMemoryMax() {
        func config(_ ids: Int) -> String {
            """
            dedup_max_ids: \(ids)
            endpoints:
              - path: "/vipps"
                secret_file: "\(directory)/epayment.secret"
                routes: [{ events: ["*"], sinks: ["f"] }]
            sinks:
              f: { file: "/tmp/f.jsonl" }
            """
        }
        let fits = load(config(6_000_000))
        #expect(fits.problems.isEmpty)
        #expect(fits.configuration?.dedupMaxIDs == 6_000_000)
        let tooMany = load(config(6_000_001))
        #expect(tooMany.configuration == nil)
        let refusal = tooMany.problems.map(\.description).first { $0.hasPrefix("test.yaml:1: dedup_max_ids:") }
        #expect(refusal?.contains("MemoryMax=1G") == true, "\(tooMany.problems)")
    }

    @Test("every problem is reported with its line and key path, not just the first")
    func manyProblems() {
        let result = load(
            """
            listen: "localhost"
            clock_skew_seconds: "five"
            max_body_bytes: 0
            colour: blue
            endpoints:
              - path: "vipps"
                routes:
                  - events: ["*"]
                    sinks: ["missing-sink"]
              - path: "/healthz"
                secret_file: "\(directory)/nope.secret"
                routes: [{ events: [], sinks: ["f"] }]
              - path: "/dup"
                secret_file: "\(directory)/empty.secret"
                routes: [{ events: ["*"], sinks: ["f"], when: 1 }]
              - path: "/dup"
                secret_env: UNSET_VARIABLE
                routes: [{ events: ["*"], sinks: ["f"], where: { amount: 0x10 } }]
            sinks:
              f: { file: "/tmp/f.jsonl", concurrency: 2 }
              "bad name!": { file: "/tmp/x" }
              both: { file: "/tmp/x", exec: ["/bin/true"] }
              neither: {}
              templated: { exec: ["{program}"] }
            """
        )
        #expect(result.configuration == nil)
        let lines = Set(result.problems.map(\.description))
        let expected = [
            "test.yaml:1: listen: expected host:port (IPv6 as [::1]:8080) with a port from 0 to 65535",
            "test.yaml:2: clock_skew_seconds: expected a whole number",
            "test.yaml:3: max_body_bytes: must be from 1 to 16711680",
            "test.yaml:6: endpoints[0].path: must start with / and hold no query, fragment, space or control",
            "test.yaml:6: endpoints[0]: needs a secret: secret_file, secret_env, secret_credential or secrets",
            "test.yaml:9: endpoints[0].routes[0].sinks[0]: no sink named \"missing-sink\" under sinks:",
            "test.yaml:10: endpoints[1].path: /healthz is the daemon's own",
            "test.yaml:11: endpoints[1].secret_file: no secret file \(directory)/nope.secret",
            "test.yaml:12: endpoints[1].routes[0].events: needs at least one event type or glob",
            "test.yaml:14: endpoints[2].secret_file: secret file \(directory)/empty.secret is empty",
            "test.yaml:15: endpoints[2].routes[0].when: unknown key (known: events, where, sinks)",
            "test.yaml:16: endpoints[3].path: /dup is configured twice",
            "test.yaml:17: endpoints[3].secret_env: environment variable UNSET_VARIABLE is not set",
            "test.yaml:18: endpoints[3].routes[0].where.amount: write the number in decimal (e.g. 49900 or 12.5), or quote it",
            "test.yaml:20: sinks.f.concurrency: applies to exec sinks only",
            "test.yaml:21: sinks.bad name!: a sink name may hold letters, digits, '-', '_' and '.' (1 to 64 characters)",
            "test.yaml:22: sinks.both: give either file or exec, not both",
            "test.yaml:23: sinks.neither: needs file: PATH or exec: [PROGRAM, ARG…]",
            "test.yaml:24: sinks.templated.exec[0]: the program cannot be a {placeholder}",
        ]
        for line in expected {
            #expect(lines.contains(line), "missing: \(line)")
        }
        #expect(lines.contains { $0.hasPrefix("test.yaml:4: colour: unknown key") })
    }

    @Test("secrets: environment, systemd credential, inline (warned), loose file mode (warned); never in messages")
    func secretSources() throws {
        let yaml = """
            endpoints:
              - path: "/a"
                secrets: ["\(directory)/loose.secret", { credential: epayment.secret }, { env: ROTATED }]
                routes: [{ events: ["*"], sinks: ["f"] }]
              - path: "/b"
                secret: "inline-value"
                routes: [{ events: ["*"], sinks: ["f"] }]
            sinks: { f: { file: "/tmp/f" } }
            """
        let result = load(yaml, environment: ["CREDENTIALS_DIRECTORY": directory, "ROTATED": "r"])
        let configuration = try #require(result.configuration, "\(result.problems)")
        #expect(
            configuration.endpoints[0].secrets.map(\.keyBytes)
                == [Array("s3cret-two".utf8), Array("s3cret-one".utf8), Array("r".utf8)]
        )
        let warnings = result.warnings.map(\.description).joined(separator: "\n")
        #expect(warnings.contains("loose.secret is readable by others (mode 644)"))
        #expect(warnings.contains("endpoints[1].secret: an inline secret"))
        for text in ["s3cret", "inline-value"] {
            #expect(!warnings.contains(text))
        }
        let noCredentials = load(yaml, environment: ["ROTATED": "r"])
        #expect(
            noCredentials.problems.map(\.description).contains {
                $0.contains("endpoints[0].secrets[1]: CREDENTIALS_DIRECTORY is not set")
            }
        )
    }

    @Test("unreadable or invalid files are one clear problem")
    func badFiles() {
        let missing = ConfigurationLoader().load(path: directory + "/absent.yaml")
        #expect(missing.problems.map(\.description) == ["\(directory)/absent.yaml: cannot read the file"])
        #expect(load("").problems.map(\.message) == ["the file is empty"])
        #expect(load("endpoints: [").problems.first?.message.hasPrefix("not valid YAML") == true)
        #expect(load("- a list").problems.first?.message == "expected a mapping (key: value)")
    }

    @Test("a file over 1 MiB is refused before it is parsed; one of exactly 1 MiB is read")
    func oversizedFile() throws {
        let path = directory + "/big.yaml"
        let padding = "# " + String(repeating: "x", count: 77) + "\n"  // 80 bytes a line
        let valid = "state_dir: /tmp/x\n"
        var text =
            valid + String(repeating: padding, count: (ConfigurationLoader.maximumFileBytes - valid.utf8.count) / 80)
        text += String(repeating: "#", count: ConfigurationLoader.maximumFileBytes - text.utf8.count)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let exact = ConfigurationLoader().load(path: path)
        #expect(!exact.problems.contains { $0.message.contains("over") }, "\(exact.problems)")
        try (text + "#").write(toFile: path, atomically: true, encoding: .utf8)
        let over = ConfigurationLoader().load(path: path)
        #expect(over.problems.map(\.description) == ["\(path): the file is over 1 MiB"])
    }

    @Test("the shipped production example is valid once its secrets exist")
    func shippedExample() throws {
        let example = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../config/config.example.yaml")
        let yaml = try String(contentsOf: example, encoding: .utf8)
        for name in ["recurring.secret", "recurring-next.secret"] {
            try folder.write(name, "x", mode: 0o600)
        }
        let result = load(yaml, environment: ["CREDENTIALS_DIRECTORY": directory])
        #expect(result.problems.isEmpty, "\(result.problems)")
    }

    @Test("listen addresses")
    func listenAddresses() {
        #expect(ListenAddress("127.0.0.1:8080") == ListenAddress("127.0.0.1:8080"))
        #expect(ListenAddress("[::1]:0")?.host == "::1")
        #expect(ListenAddress("0.0.0.0:65535")?.port == 65535)
        for bad in ["", "8080", "::1:8080", "[::1]8080", "host:", "host:65536", "host:-1", "[]:80", ":80"] {
            #expect(ListenAddress(bad) == nil, "\(bad)")
        }
    }
}
