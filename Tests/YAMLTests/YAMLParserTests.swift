import TestSupport
import Testing

@testable import YAML

/// What the reader refuses on its own (where libyaml would read on), its limits, and its error positions.
@Suite struct YAMLParserTests {
    @Test(
        arguments: [
            ("!!str a\n", "tags (!) are not supported", 1, 1),
            ("a: !secret x\n", "tags (!) are not supported", 1, 4),
            ("%YAML 1.2\n---\na: 1\n", "directives (%) are not supported", 1, 1),
            ("? a\n: b\n", "explicit keys (?) are not supported", 1, 1),
            ("a: 1\n---\nb: 2\n", "a second document (---) is not supported: the file holds one", 2, 1),
            ("a:\n\tb: 1\n", "a tab in indentation (YAML indents with spaces)", 2, 2),
            ("a: 1\n  b: 2\n", "a ':' followed by a space inside a value", 2, 4),
            ("a: \"open\n", "a double-quoted string is not closed", 1, 4),
            ("a: 'open\n", "a single-quoted string is not closed", 1, 4),
            ("a: [1, 2\n", "a flow sequence ([) is not closed", 1, 4),
            ("a: *none\n", "an alias names no anchor defined before it", 1, 4),
            ("a: &x &y v\n", "a node with two anchors", 1, 7),
            ("- &ref: x\n", "an anchor or alias name holds letters, digits, '-' and '_' only", 1, 3),
            ("# c\u{2028}b: 1\n", "a Unicode line separator (U+0085, U+2028, U+2029) is not allowed", 1, 4),
            ("a: 1 # c\u{85}b: 2\n", "a Unicode line separator (U+0085, U+2028, U+2029) is not allowed", 1, 9),
            (
                "motd: |\n    \n  text\n", "a block scalar's leading blank line has more spaces than its first line", 3,
                1
            ),
            ("a: \"\\q\"\n", "an unknown escape sequence in a double-quoted string", 1, 5),
            ("a: \"\\u12\"\n", "an escape needs 4 hexadecimal digits", 1, 5),
            ("a: b\n\u{7}c: d\n", "a control character (byte 7) is not allowed", 2, 1),
            ("- a\nb: c\n", "unexpected content after the document (check the indentation)", 2, 1),
            ("a:\n  - x\n  y: 1\n", "unexpected indentation (deeper than the keys above it)", 3, 3),
            ("a:\n  b: 1\n  - x\n", "a list item where a key was expected (check the indentation)", 3, 3),
        ]
    )
    func refusesNamingLineAndColumn(text: String, problem: String, line: Int, column: Int) {
        #expect {
            try YAMLParser.parse(text)
        } throws: { error in
            guard let error = error as? YAMLError else { return false }
            return error.problem.hasPrefix(problem) && error.line == line && error.column == column
        }
    }

    @Test func problemsNeverQuoteTheDocument() {
        let secret = "s3cr3t-value-\(UInt64.random(in: 1...UInt64.max))"
        let documents = [
            "secret: \"\(secret)\n", "secret: '\(secret)\n", "secret: \(secret): x\n", "secret: [\(secret)\n",
            "secret: \"\(secret)\\q\"\n", "secret: *\(secret)\n", "secret: \(secret)\n\tnext: 1\n",
            "secret: \(secret)\n  more: 1\n",
        ]
        for text in documents {
            do {
                _ = try YAMLParser.parse(text)
                Issue.record("read: \(text)")
            } catch {
                #expect(!error.description.contains(secret))
                #expect(!error.description.contains("s3cr3t"))
            }
        }
    }

    @Test func anAliasBombStopsAtTheNodeLimit() {
        var text = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for level in 1...8 {
            let previous = "*a\(level - 1)"
            text += "a\(level): &a\(level) [\(Array(repeating: previous, count: 10).joined(separator: ", "))]\n"
        }
        #expect {
            try YAMLParser.parse(text)
        } throws: { error in
            (error as? YAMLError)?.problem.contains("more than \(YAMLParser.maximumNodes) nodes") == true
        }
    }

    @Test("one long scalar aliased thousands of times (few nodes, gigabytes of text) is refused at the text limit")
    func anAliasBombOfOneLongScalarStopsAtTheTextLimit() {
        let text =
            "pad: &b \"\(String(repeating: "x", count: 30_000))\"\nargv: ["
            + Array(repeating: "*b", count: 5_000).joined(separator: ",") + "]\n"
        #expect {
            try YAMLParser.parse(text)
        } throws: { error in
            (error as? YAMLError)?.problem.contains(
                "aliases copy more than \(YAMLParser.maximumAliasedTextBytes) bytes"
            )
                == true
        }
        // Aliases copying up to the limit are read.
        let fits =
            "pad: &b \"\(String(repeating: "x", count: 1000))\"\nargv: ["
            + Array(repeating: "*b", count: 1000).joined(separator: ",") + "]\n"
        #expect((try? YAMLParser.parse(fits)) != nil)
    }

    @Test func runsOfAnchorsAreRefusedNotACrash() {
        let runs = [
            "a: " + String(repeating: "&a ", count: 3_000) + "x\n",
            "[" + String(repeating: "&a ", count: 3_000) + "x]\n",
            "a:" + (1...3_000).map { "\n" + String(repeating: " ", count: $0) + "&a\($0)" }.joined() + " x\n",
        ]
        for text in runs {
            #expect(throws: YAMLError.self) { try YAMLParser.parse(text) }
        }
    }

    @Test func nestingDeeperThanTheLimitIsRefusedNotACrash() {
        let deepFlow = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        var deepBlock = ""
        for level in 0..<200 { deepBlock += String(repeating: " ", count: level) + "k:\n" }
        for text in [deepFlow, deepBlock, String(repeating: "- ", count: 5_000) + "x\n"] {
            #expect {
                try YAMLParser.parse(text)
            } throws: { error in
                (error as? YAMLError)?.problem == "nested deeper than \(YAMLParser.maximumDepth) levels"
            }
        }
        let allowed = String(repeating: "[", count: YAMLParser.maximumDepth) + String(repeating: "]", count: 64)
        #expect(throws: Never.self) { try YAMLParser.parse(allowed) }
    }

    @Test func emptyDocumentsAreNil() throws {
        for text in ["", "\n\n", "# only a comment\n", "   \n# x\n  \n", "\u{FEFF}"] {
            #expect(try YAMLParser.parse(text) == nil)
        }
        #expect(try YAMLParser.parse("---\n")?.tag == .null)
    }

    @Test func aKeyGivenTwiceIsRefusedAtItsSecondPlace() throws {
        for (text, first, line, column) in [
            ("a: 1\nb: 2\na: 3\n", 1, 3, 1), ("x:\n  - {k: 1, j: 2, k: 3}\n", 2, 2, 18),
            ("'a': 1\n\"a\": 2\n", 1, 2, 1),
        ] {
            let expected = YAMLError(
                "a key given twice in one mapping (first at line \(first))",
                line: line,
                column: column
            )
            #expect(throws: expected) {
                try YAMLParser.parse(text)
            }
        }
        // The same text with another tag is another key; the same key in two mappings is no repeat.
        let keys = try #require(try YAMLParser.parse("1: a\n'1': b\nm: {a: 1}\nn: {a: 1}\n")?.mapping)
        #expect(keys.count == 4)
    }

    @Test(
        arguments: [
            ("42", 42), ("-7", -7), ("+3", 3), ("0x1F", 31), ("0o17", 15), ("017", 15), ("0b101", 5), ("1_000", 1000),
            ("0", 0), ("9223372036854775807", Int.max),
        ]
    )
    func integersReadAsLibyamlResolvesThem(text: String, value: Int) throws {
        let node = try #require(try YAMLParser.parse("v: \(text)\n")?.mapping?["v"])
        #expect(node.tag == .int)
        #expect(node.int == value)
    }

    @Test func valuesThatAreNotWholeNumbersHaveNone() throws {
        for text in ["9223372036854775808", "'42'", "\"42\"", "1.5", "1:30", "12abc", "0x", "08"] {
            let node = try #require(try YAMLParser.parse("v: \(text)\n")?.mapping?["v"])
            #expect(node.int == nil, "\(text)")
        }
        #expect(try YAMLParser.parse("v: 9223372036854775808\n")?.mapping?["v"]?.tag == .int)
    }

    /// Damaged documents (bytes flipped, dropped, repeated) are read or refused with a ``YAMLError``, never a crash.
    @Test func damagedDocumentsAreReadOrRefusedNeverACrash() {
        var generator = SplitMix(seed: 0xBAD_F00D)
        let alphabet = Array(" \n\t-:#'\"[]{},&*|>!%?\\a0".utf8)
        for document in YAMLAgreementTests.corpus {
            let original = Array(document.utf8)
            for _ in 0..<150 {
                var bytes = original
                for _ in 0...Int(generator.next() % 3) where !bytes.isEmpty {
                    let at = Int(generator.next() % UInt64(bytes.count))
                    switch generator.next() % 3 {
                    case 0: bytes[at] = alphabet[Int(generator.next() % UInt64(alphabet.count))]
                    case 1: bytes.remove(at: at)
                    default: bytes.insert(contentsOf: bytes[at...].prefix(4), at: at)
                    }
                }
                do {
                    _ = try YAMLParser.parse(String(decoding: bytes, as: UTF8.self))
                } catch {
                    #expect(error.line >= 1 && error.column >= 1)
                }
            }
        }
    }
}
