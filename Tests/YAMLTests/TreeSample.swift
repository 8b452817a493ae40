import Foundation
import TestSupport
import YAML

/// A YAML tree as text only (scalars compared by value), generated at random and written out in several styles.
indirect enum TreeSample: Equatable {
    case scalar(String)
    case sequence([TreeSample])
    case mapping([Pair])

    struct Pair: Equatable {
        var key: String
        var value: TreeSample
    }

    /// How ``render(_:)`` writes a tree.
    enum Style: CaseIterable {
        /// Block collections; scalars plain when that reads back the same, else single- or double-quoted.
        case block
        /// Flow collections (`[…]`, `{…}`) on one line, scalars plain or double-quoted.
        case flow
        /// JSON: flow collections over several lines, every scalar double-quoted.
        case json
    }

    init(_ node: YAMLNode) {
        switch node.content {
        case .scalar(let scalar): self = .scalar(scalar.text)
        case .sequence(let items): self = .sequence(items.map(TreeSample.init))
        case .mapping(let mapping):
            self = .mapping(mapping.pairs.map { Pair(key: $0.key.string ?? "", value: TreeSample($0.value)) })
        }
    }

    private static let pieces = [
        "a", "Zed", "0", "42", "-7", "1.5", "true", "no", "null", "~", "", " ", "x y", "a:b", "a: b", "#c", "a #c",
        "- x", "'", "\"", "\\", "é", "blå bær", "line\nbreak", "tab\there", "[x]", "{y}", ",", "*star", "&amp", "!bang",
        "%pct", "@at", "path/to/file.log", "http://h:1/p?q=r", "  lead", "trail  ", "\u{2028}", "end\n",
    ]

    static func random(_ generator: inout SplitMix, depth: Int) -> TreeSample {
        let roll = generator.next() % (depth >= 3 ? 1 : 4)
        switch roll {
        case 0:
            let count = Int(generator.next() % 3) + 1
            return .scalar((0..<count).map { _ in pieces[Int(generator.next() % UInt64(pieces.count))] }.joined())
        case 1:
            return .sequence((0..<Int(generator.next() % 4)).map { _ in random(&generator, depth: depth + 1) })
        default:
            var keys: Set<String> = []
            var pairs: [Pair] = []
            for _ in 0..<Int(generator.next() % 4) {
                guard case .scalar(let key) = random(&generator, depth: 3), !key.contains("\n"),
                    keys.insert(key).inserted
                else { continue }
                pairs.append(Pair(key: key, value: random(&generator, depth: depth + 1)))
            }
            return .mapping(pairs)
        }
    }

    func render(_ style: Style) -> String {
        switch style {
        case .block:
            if case .scalar(let text) = self { return Self.blockScalar(text) + "\n" }
            if isEmptyCollection { return flow(json: false) + "\n" }
            return block(indent: 0)
        case .flow: return flow(json: false) + "\n"
        case .json: return flow(json: true) + "\n"
        }
    }

    private var isEmptyCollection: Bool {
        switch self {
        case .scalar: false
        case .sequence(let items): items.isEmpty
        case .mapping(let pairs): pairs.isEmpty
        }
    }

    private func block(indent: Int) -> String {
        let pad = String(repeating: " ", count: indent)
        func child(_ value: TreeSample) -> String {
            switch value {
            case .scalar(let text): " " + Self.blockScalar(text) + "\n"
            case _ where value.isEmptyCollection: " " + value.flow(json: false) + "\n"
            default: "\n" + value.block(indent: indent + 2)
            }
        }
        switch self {
        case .scalar(let text): return pad + Self.blockScalar(text) + "\n"
        case .sequence(let items): return items.map { pad + "-" + child($0) }.joined()
        case .mapping(let pairs): return pairs.map { pad + Self.key($0.key) + ":" + child($0.value) }.joined()
        }
    }

    private func flow(json: Bool) -> String {
        switch self {
        case .scalar(let text): return json || !Self.isSafePlain(text) ? Self.doubleQuoted(text) : text
        case .sequence(let items):
            return json
                ? "[\n" + items.map { "  " + $0.flow(json: true) }.joined(separator: ",\n") + "\n]"
                : "[" + items.map { $0.flow(json: false) }.joined(separator: ", ") + "]"
        case .mapping(let pairs):
            return json
                ? "{\n"
                    + pairs.map { "  " + Self.doubleQuoted($0.key) + ":" + $0.value.flow(json: true) }
                    .joined(separator: ",\n") + "\n}"
                : "{" + pairs.map { Self.key($0.key) + ": " + $0.value.flow(json: false) }.joined(separator: ", ") + "}"
        }
    }

    private static func key(_ text: String) -> String {
        isSafePlain(text) ? text : doubleQuoted(text)
    }

    private static func blockScalar(_ text: String) -> String {
        if isSafePlain(text) { return text }
        if !text.contains(where: { $0.isNewline || $0 == "\t" }) && !text.hasPrefix(" ") && !text.hasSuffix(" ") {
            return "'" + text.replacingOccurrences(of: "'", with: "''") + "'"
        }
        return doubleQuoted(text)
    }

    /// Plain text that reads back as itself in block and flow context.
    private static func isSafePlain(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, let last = text.unicodeScalars.last,
            first.properties.isAlphabetic || ("0"..."9").contains(first), last != " "
        else { return false }
        return text.unicodeScalars.allSatisfy {
            $0.properties.isAlphabetic || "0123456789_./ ".unicodeScalars.contains($0)
        }
            && !text.contains("  ")
    }

    private static func doubleQuoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\u{2028}": out += "\\u2028"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
