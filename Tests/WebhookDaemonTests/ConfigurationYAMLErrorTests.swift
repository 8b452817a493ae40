import Testing

@testable import WebhookDaemon

@Suite("YAML syntax errors")
struct ConfigurationYAMLErrorTests {
    @Test(
        "one line each, with line and column, never the text of the file",
        arguments: [
            // An unclosed quote is reported where it opens.
            ("endpoints:\n  - path: /x\n    secret: \"TOPSECRET\n", 3),
            ("a: TOPSECRET\nb: 1\na: TOPSECRET\n", 3),
            ("a: TOPSECRET\n  b: c\n", 2),
            ("a: [TOPSECRET, 2\nb: 3\n", 2),
        ]
    )
    func oneClearLine(yaml: String, line: Int) {
        let result = ConfigurationLoader(secretResolver: SecretResolver(environment: [:]))
            .load(yaml: yaml, file: "c.yaml")
        #expect(result.problems.count == 1)
        let text = result.problems.first?.description ?? ""
        #expect(text.hasPrefix("c.yaml:\(line): not valid YAML: "), "\(text)")
        #expect(!text.contains("\n"))
        #expect(!text.contains("TOPSECRET"))
        #expect(!text.contains("scanner") && !text.contains("parser:"))
    }
}
