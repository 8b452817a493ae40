import Testing

@testable import WebhookDaemon

/// `server.max_header_count` and `server.max_buffered_bytes`: read, checked, and the budget in force.
@Suite("Server limits in the configuration")
struct ServerLimitsConfigurationTests {
    private func load(_ extra: String) -> ConfigurationLoader.Result {
        let yaml = """
            endpoints:
              - path: "/hook"
                secret_env: SECRET
                routes: [{ events: ["*"], sinks: ["f"] }]
            sinks:
              f: { file: "/tmp/f.jsonl" }
            \(extra)
            """
        return ConfigurationLoader(secretResolver: SecretResolver(environment: ["SECRET": "s3cret"]))
            .load(yaml: yaml, file: "test.yaml")
    }

    @Test("defaults: 100 header fields, a 64 MiB budget")
    func defaults() throws {
        let configuration = try #require(load("").configuration)
        #expect(configuration.server.maxHeaderCount == 100)
        #expect(configuration.server.maxBufferedBytes == nil)
        #expect(configuration.bufferedBytesBudget == 64 << 20)
    }

    @Test("the default budget grows with the largest request; an explicit one is taken as set")
    func budgetFollowsTheLimits() throws {
        let large = try #require(load("max_body_bytes: 16711680").configuration)
        #expect(large.bufferedBytesBudget == 8 * (16384 + 16_711_680))
        // One byte more would not fit a journal record with the event's other fields.
        #expect(load("max_body_bytes: 16711681").configuration == nil)
        let explicit = try #require(
            load("server:\n  max_buffered_bytes: 2097152\n  max_header_count: 50").configuration
        )
        #expect(explicit.bufferedBytesBudget == 2_097_152)
        #expect(explicit.server.maxHeaderCount == 50)
    }

    @Test("a budget too small for the request limits, or out of range, is refused with its line")
    func invalidValues() {
        let small = load("server:\n  max_buffered_bytes: 1048576\nmax_body_bytes: 1000000")
        #expect(small.configuration == nil)
        #expect(
            small.problems.map(\.description).contains { $0.contains("server.max_buffered_bytes: must be at least") }
        )
        #expect(small.problems.allSatisfy { $0.line != nil })
        let tiny = load("server:\n  max_buffered_bytes: 1000\n  max_header_count: 0")
        let messages = tiny.problems.map(\.description)
        #expect(messages.contains { $0.contains("server.max_buffered_bytes: must be from 1048576") })
        #expect(messages.contains { $0.contains("server.max_header_count: must be from 1 to 10000") })
    }
}
