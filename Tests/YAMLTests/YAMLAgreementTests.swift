import Foundation
import TestSupport
import Testing
import Yams

@testable import YAML

/// The reader against libyaml (through Yams, a test-only dependency): the same tree, texts, tags and lines for every
/// document of a corpus that covers what configuration files use, the repository's own example configuration, and
/// random trees written out in block, flow and JSON style.
@Suite struct YAMLAgreementTests {
    static let corpus: [String] = [
        "a: 1\nb: two\n",
        "# comment\nlisten: \"127.0.0.1:8080\"   # trailing\nstate_dir: /var/lib/x\n",
        "endpoints:\n  - path: /webhooks/vipps\n    secret_env: S\n    routes:\n      - events: [\"*\"]\n        sinks: [a, b]\n",
        "sinks:\n  events:\n    file: /tmp/x\n  hook:\n    exec: [\"/bin/sh\", \"-c\", \"echo $1\"]\n    timeout_seconds: 30\n",
        "key:\n- a\n- b\nother: c\n",
        "- a\n- - b\n  - c\n- d: 1\n  e: 2\n",
        "a: 'it''s'\nb: \"tab\\there\\u00e9\\x41\\\\\"\nc: \"multi\n  line\n\n  text\"\n",
        "plain: this is\n  a folded\n\n  plain scalar\nnext: x\n",
        "lit: |\n  line 1\n    indented\n  line 3\n\nfold: >\n  folded\n  text\n\n  para\nkeep: |+\n  k\n\nstrip: >-\n  s\n",
        "indicator: |2\n    two more\n  base\n",
        "empty:\nnull1: ~\nnull2: null\nt: true\nf: False\ny: yes\nn: NO\non: on\n",
        "i1: 42\ni2: -7\ni3: 0x1F\ni4: 0o17\ni5: 017\ni6: 0b101\ni7: 1_000\nf1: 1.5\nf2: -2e3\nf3: .5\nf4: .inf\nf5: .NaN\n",
        "s1: '42'\ns2: \"true\"\ns3: 1.2.3\ns4: 12abc\ns5: http://x:8080/p\ns6: a:b\ns7: a#b\n",
        "{\"listen\": \"127.0.0.1:1\", \"list\": [1, 2, {\"k\": null}], \"t\": true}\n",
        "{\n  \"a\": [\n    \"x\",\n    \"y\"\n  ],\n  \"b\": {}\n}\n",
        "flow: {a: 1, b: [x, y], c: {d: e}}\nempty_seq: []\nempty_map: {}\n",
        "---\na: 1\n...\n",
        "--- \n- x\n",
        "base: &b\n  k: v\ncopy: *b\nlist: &l [1, 2]\nagain: *l\n",
        "\u{FEFF}a: bom\n",
        "a: 1\r\nb:\r\n  - 2\r\n",
        "quoted key: 1\n\"double key\": 2\n'single key': 3\n",
        "a:\n  b:\n    c:\n      d: deep\n  e: back\n",
        "- \n  a: 1\n-\n  - x\n",
        "- [a, b]\n- {c: d}\n- \"q\"\n- 'r'\n",
        "a: b # c\nd: 'e' # f\n",
        "text: >\n  a\n    more\n  b\n",
        "seq_in_seq:\n  - - a\n    - b\n  - c\n",
        "where:\n  amount.value: 100\n  name: \"x\"\n  paid: true\n",
        "a: -1\nb: +2\n",
        "unicode: blåbærsyltetøy\n\"ключ\": значение\n",
        "a: [1,2,3]\nb: {x: 1,y: 2}\n",
        "url: https://example.com/a?b=c&d=e#frag\n",
        "hash: value#not-a-comment\n",
        "x:\n  - a\n  -\n    b: c\n",
        "top scalar\n",
        "\"top quoted\"\n",
        "[1, 2]\n",
        "a: |\n  x\nb: >\n  y\n",
        "a: |-\n\n  text after empty\n",
        "k: 'multi\n\n  line single'\n",
        "esc: \"a\\\n  b\"\n",
        "nested: [[1, [2, [3]]], {a: [b, {c: d}]}]\n",
        // Found by review: no final newline after a block scalar; an escaped line break before empty lines; an
        // anchored sequence at its key's indentation.
        "script: |\n  echo a\n  echo b", "a: >\n  x\n  y", "a: >+\n  x\n\n  y", "- |\n  x", "a: |+\n  x",
        "a: |+\n  x\n\n", "a: \"x\\\n\n  y\"\n", "a: \"x\\\n  \n\n  y\"\n", "key: &a\n- x\n- y\nother: *a\n",
    ]

    @Test(arguments: Array(corpus.indices))
    func readsLikeLibyaml(index: Int) throws {
        let text = Self.corpus[index]
        try expectAgreement(text)
    }

    @Test func readsTheExampleConfigurationLikeLibyaml() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let text = try String(contentsOf: root.appendingPathComponent("config/config.example.yaml"), encoding: .utf8)
        try expectAgreement(text)
        let alerts = try String(
            contentsOf: root.appendingPathComponent("config/prometheus-alerts.yml"),
            encoding: .utf8
        )
        try expectAgreement(alerts)
    }

    @Test func randomTreesWrittenInEveryStyleReadBack() throws {
        var generator = SplitMix(seed: 0x5EED_0019)
        for _ in 0..<300 {
            let tree = TreeSample.random(&generator, depth: 0)
            for style in TreeSample.Style.allCases {
                let text = tree.render(style)
                let parsed = try #require(try YAMLParser.parse(text), "\(style): \(text)")
                #expect(TreeSample(parsed) == tree, "\(style):\n\(text)")
                try expectAgreement(text)
            }
        }
    }

    /// Documents both readers refuse.
    static let refused: [String] = [
        "c: - x\n", "a: b: c\n", "a:\n\tb: 1\n", "'unclosed\n", "\"unclosed\n", "[a, b\n", "a: [1, 2\n",
        "- a\nb: c\n", "a: 1\n  b: 2\n", "a:\n  - x\n  y: 1\n", "{a: 1\n", "a: \"\\q\"\n", "a: *nothing\n",
        "a: 1\n---\nb: 2\n", "a: |\n  x\n y: 1\n", "a: 'x' y\n", "a:\n  b: 1\n c: 2\n", "[a]]\n", "a: \u{01}\n",
        "a: 1\na: 2\n",
        "{a: 1, a: 2}\n",
    ]

    @Test(arguments: Array(refused.indices))
    func refusesWhatLibyamlRefuses(index: Int) {
        let text = Self.refused[index]
        #expect(throws: YAMLError.self, "\(text.debugDescription)") { try YAMLParser.parse(text) }
        #expect(throws: (any Error).self, "libyaml: \(text.debugDescription)") { try Yams.compose(yaml: text) }
    }

    private func expectAgreement(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let mine = try YAMLParser.parse(text)
        let theirs = try Yams.compose(yaml: text)
        if let difference = Self.difference(mine, theirs, at: "") {
            Issue.record("\(difference)\n--- document:\n\(text)", sourceLocation: sourceLocation)
        }
    }

    /// Where `mine` and `theirs` differ (nil when they agree): shape, scalar text, tag and line.
    static func difference(_ mine: YAMLNode?, _ theirs: Yams.Node?, at path: String) -> String? {
        guard let mine, let theirs else { return mine == nil && theirs == nil ? nil : "\(path): one side is empty" }
        if mine.line != theirs.mark?.line { return "\(path): line \(mine.line) against \(theirs.mark?.line ?? -1)" }
        switch (mine.content, theirs) {
        case (.scalar(let scalar), .scalar(let other)):
            if scalar.text != other.string {
                return "\(path): text \(scalar.text.debugDescription) against \(other.string.debugDescription)"
            }
            let expected: YAMLTag? =
                switch Tag.Name(rawValue: theirs.tag.rawValue) {
                case .str: .str
                case .int: .int
                case .float: .float
                case .bool: .bool
                case .null: .null
                default: nil
                }
            return expected == scalar.tag ? nil : "\(path): tag \(scalar.tag) against \(theirs.tag.rawValue)"
        case (.sequence(let items), .sequence(let others)):
            guard items.count == others.count else { return "\(path): \(items.count) items against \(others.count)" }
            for (index, (item, other)) in zip(items, others).enumerated() {
                if let difference = difference(item, other, at: "\(path)[\(index)]") { return difference }
            }
            return nil
        case (.mapping(let mapping), .mapping(let others)):
            let otherPairs = Array(others)
            guard mapping.count == otherPairs.count else {
                return "\(path): \(mapping.count) pairs against \(otherPairs.count)"
            }
            for (index, (pair, other)) in zip(mapping.pairs, otherPairs).enumerated() {
                if let difference = difference(pair.key, other.key, at: "\(path){\(index)}") { return difference }
                if let difference = difference(pair.value, other.value, at: "\(path).\(pair.key.string ?? "?")") {
                    return difference
                }
            }
            return nil
        default: return "\(path): \(mine.tag) against \(theirs.tag.rawValue)"
        }
    }
}
