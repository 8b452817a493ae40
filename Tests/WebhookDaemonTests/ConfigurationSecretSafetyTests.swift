import Foundation
import Testing
import VippsWebhooks

@testable import WebhookDaemon

/// A YAML syntax error is reported by position, never with the line's content (which may hold an inline secret);
/// an endpoint whose signed URL comes from the request is warned about.
@Suite("configuration: YAML errors and public_url warnings")
struct ConfigurationSecretSafetyTests {
    static let secret = "s3cr3t-\(UUID().uuidString)"

    private func load(_ yaml: String) -> ConfigurationLoader.Result {
        ConfigurationLoader(secretResolver: SecretResolver(environment: [:])).load(yaml: yaml, file: "test.yaml")
    }

    @Test(
        "a syntax error on a secret's line names file, line and column but not the secret",
        arguments: [
            "endpoints:\n  - path: /a\n    secret: \"\(secret)\n    routes: []\n",  // unterminated quote
            "endpoints:\n  - path: /a\n    secret: \(secret): [\n",  // mapping value where none is allowed
            "endpoints:\n  - path: /a\n    secret: '\(secret)'\n   bad: indentation\n",
            "endpoints:\n  - path: /a\n    secret: \(secret)\n    secret: \(secret)\n",  // duplicate key
            "endpoints:\n  - path: /a\n    secret: \(secret)\t\u{7}\n",  // control character
        ]
    )
    func syntaxErrorHidesContent(yaml: String) throws {
        let result = load(yaml)
        #expect(result.configuration == nil)
        let text = (result.problems + result.warnings).map(\.description).joined(separator: "\n")
        #expect(!text.contains(Self.secret), "\(text)")
        #expect(!text.contains("s3cr3t"), "\(text)")
        let problem = try #require(result.problems.first)
        #expect(problem.message.hasPrefix("not valid YAML"), "\(problem)")
        #expect(problem.line != nil, "\(problem)")
        #expect(problem.description.hasPrefix("test.yaml:"), "\(problem)")
    }

    @Test("the line and column of a syntax error are those of the problem")
    func position() throws {
        // A flow sequence that is never closed is reported at its '['.
        let problem = try #require(load("listen: \"127.0.0.1:1\"\nstate_dir: [a, b\n").problems.first)
        #expect(problem.line == 2, "\(problem)")
        #expect(problem.message.contains("line 2, column 12"), "\(problem)")
        let tab = try #require(load("listen: \"127.0.0.1:1\"\nsinks:\n\tevents: {file: /tmp/x}\n").problems.first)
        #expect(tab.line == 3 && tab.message.contains("a tab in indentation"), "\(tab)")
    }

    static let sinks = """
        sinks:
          events: { file: /tmp/events.jsonl }
        """

    @Test("an endpoint without public_url (global or its own) gets a warning naming it; others do not")
    func publicURLWarning() {
        let yaml = """
            state_dir: /tmp/state
            endpoints:
              - path: /open
                secret: "x"
                routes: [{ events: ["*"], sinks: [events] }]
              - path: /pinned
                public_url: "https://hooks.example.com/pinned"
                secret: "x"
                routes: [{ events: ["*"], sinks: [events] }]
            \(Self.sinks)
            """
        let warnings = load(yaml).warnings.filter { $0.message.contains("public_url") }
        #expect(warnings.count == 1)
        #expect(warnings.first?.keyPath == "endpoints[0]")
        #expect(warnings.first?.message.contains("/open") == true)
        let global = load("public_url: \"https://hooks.example.com\"\n" + yaml)
        #expect(!global.warnings.contains { $0.message.contains("public_url") })
    }

    @Test("endpoints routing one event type to different sinks get a warning; same sinks, other types or `*` do not")
    func crossEndpointRoutingWarning() {
        func yaml(_ second: String) -> String {
            """
            public_url: "https://hooks.example.com"
            state_dir: /tmp/state
            endpoints:
              - path: /old
                secret: "x"
                routes: [{ events: ["epayments.payment.*"], sinks: [events] }]
              - path: /new
                secret: "x"
                routes: [\(second)]
            sinks:
              events: { file: /tmp/events.jsonl }
              other: { file: /tmp/other.jsonl }
            """
        }
        let differing = load(yaml(#"{ events: ["epayments.payment.captured.v1"], sinks: [other] }"#))
        let warnings = differing.warnings.filter { $0.message.contains("different sinks") }
        #expect(warnings.count == 1)
        #expect(warnings.first?.keyPath == "endpoints[1]")
        #expect(warnings.first?.message.contains("/old and /new route epayments.payment.captured.v1") == true)
        for same in [
            #"{ events: ["epayments.payment.*"], sinks: [events] }"#,
            #"{ events: ["recurring.*"], sinks: [other] }"#,
            #"{ events: ["*"], sinks: [other] }"#,
        ] {
            #expect(!load(yaml(same)).warnings.contains { $0.message.contains("different sinks") }, "\(same)")
        }
    }
}
