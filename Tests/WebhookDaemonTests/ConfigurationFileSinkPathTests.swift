import Foundation
import TestSupport
import Testing

@testable import WebhookDaemon

/// `check-config` names two file sinks that write one file (the daemon also compares the files it opens).
@Suite("configuration: one file per file sink")
struct ConfigurationFileSinkPathTests {
    let folder = TemporaryDirectory(prefix: "vipps-config")

    private func problems(payments: String, agreements: String) throws -> [String] {
        try folder.write("epayment.secret", "s3cret-one\n", mode: 0o600)
        let yaml = """
            endpoints:
              - path: "/vipps/epayment"
                secret_file: "\(folder.path)/epayment.secret"
                routes:
                  - events: ["epayments.payment.*"]
                    sinks: ["payments"]
                  - events: ["recurring.*"]
                    sinks: ["agreements"]
            sinks:
              payments: { file: "\(payments)" }
              agreements: { file: "\(agreements)" }
            """
        let result = ConfigurationLoader(secretResolver: SecretResolver(environment: [:]))
            .load(yaml: yaml, file: "t.yaml")
        return result.problems.map(\.description)
    }

    @Test(
        "two file sinks naming one path are a problem, also spelt with './' or '//'",
        arguments: ["/var/log/vipps/events.jsonl", "/var/log/./vipps/events.jsonl", "/var/log//vipps/events.jsonl"]
    )
    func samePathIsAProblem(spelling: String) throws {
        let found = try problems(payments: "/var/log/vipps/events.jsonl", agreements: spelling)
        #expect(found.count == 1 && found.allSatisfy { $0.contains("the same file as sink payments") }, "\(found)")
    }

    @Test("file sinks on different files are fine")
    func differentFilesAreFine() throws {
        #expect(
            try problems(payments: "/var/log/vipps/payments.jsonl", agreements: "/var/log/vipps/agreements.jsonl")
                .isEmpty
        )
    }
}
