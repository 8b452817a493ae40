/// Reads one YAML document into a ``YAMLNode`` tree: the part of YAML 1.1/1.2 a configuration file uses, so that the
/// daemon needs no YAML library (and no Foundation) at run time.
///
/// Read: block mappings and sequences (with compact `- key: value` items and sequences at their key's indentation),
/// flow collections (`[…]`, `{…}`, spanning lines, so JSON is read too), plain, single- and double-quoted scalars
/// (every YAML escape, line folding), literal (`|`) and folded (`>`) block scalars with chomping and indentation
/// indicators, comments, one optional `---` … `...` document, anchors (`&`) and aliases (`*`), a byte-order mark.
/// Refused with a ``YAMLError`` naming line and column: tags (`!`), directives (`%`), explicit keys (`?`), a second
/// document, tabs in indentation, control characters and Unicode line separators, two anchors on one node, anchor
/// names other than letters, digits, `-` and `_`, nesting deeper than ``maximumDepth`` and documents of more than
/// ``maximumNodes`` nodes or ``maximumAliasedTextBytes`` of text copied by aliases (an alias bomb stops there, of
/// many nodes or of one long scalar).
///
/// Plain scalars keep their text; their tag (null, bool, int, float, str) is resolved on demand by ``YAMLTag``.
/// Mappings keep their pairs in order; a scalar key given twice in one mapping is refused, as YAML requires.
public struct YAMLParser {
    /// Deepest nesting of collections read.
    public static let maximumDepth = 64
    /// Most nodes in a document, counting each node an alias copies.
    public static let maximumNodes = 100_000
    /// Most bytes of scalar text all aliases of a document copy together (as much as a configuration file may hold):
    /// a long scalar aliased thousands of times is few nodes but gigabytes for whatever reads the tree.
    public static let maximumAliasedTextBytes = 1 << 20

    /// The document in `text`, or nil when it holds nothing but comments and blank lines.
    public static func parse(_ text: String) throws(YAMLError) -> YAMLNode? {
        var reader = YAMLReader(bytes: Array(text.utf8))
        return try reader.document()
    }
}

/// The reading position over the document's bytes, with what the parse has built so far.
struct YAMLReader {
    let bytes: [UInt8]
    var index = 0
    var line = 1
    /// Index of the current line's first byte.
    var lineStart = 0
    var depth = 0
    var nodes = 0
    /// Bytes of scalar text copied by aliases so far.
    var aliasedTextBytes = 0
    var anchors: [String: YAMLNode] = [:]

    init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// The document's one node (nil when empty), with everything after it checked.
    mutating func document() throws(YAMLError) -> YAMLNode? {
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) {
            index = 3
            lineStart = 3
        }
        try checkCharacters()
        try skipToContent()
        if peek() == Byte.percent && index == lineStart {
            throw error("directives (%) are not supported")
        }
        var root: YAMLNode?
        if atDocumentMarker(Byte.dash) {
            index += 3
            root = try blockValue(parentIndent: -1, sameIndentSequence: false)
            try skipToContent()
        } else if !atEnd {
            root = try blockNode(parentIndent: -1)
            try skipToContent()
        }
        if atDocumentMarker(Byte.dot) {
            index += 3
            try expectLineEnd()
            try skipToContent()
        }
        if atDocumentMarker(Byte.dash) { throw error("a second document (---) is not supported: the file holds one") }
        if !atEnd { throw error("unexpected content after the document (check the indentation)") }
        return root
    }

    // MARK: - Position

    var atEnd: Bool { index >= bytes.count }
    /// The current column, from 1.
    var column: Int { index - lineStart + 1 }
    /// The current indentation: spaces before the current position on its line.
    var indent: Int { index - lineStart }

    func peek(_ offset: Int = 0) -> UInt8? {
        index + offset < bytes.count ? bytes[index + offset] : nil
    }

    func error(_ problem: String) -> YAMLError {
        YAMLError(problem, line: line, column: column)
    }

    /// Counts one more node, refusing past ``YAMLParser/maximumNodes``.
    mutating func count(_ added: Int = 1) throws(YAMLError) {
        nodes += added
        if nodes > YAMLParser.maximumNodes {
            throw error("the document has more than \(YAMLParser.maximumNodes) nodes (aliases counted)")
        }
    }

    /// Enters one more level of nesting, refusing past ``YAMLParser/maximumDepth``; pair with `depth -= 1`.
    mutating func enter() throws(YAMLError) {
        depth += 1
        if depth > YAMLParser.maximumDepth { throw error("nested deeper than \(YAMLParser.maximumDepth) levels") }
    }

    // MARK: - Whitespace, comments, line ends

    static func isBreak(_ byte: UInt8?) -> Bool { byte == Byte.newline || byte == Byte.carriageReturn }
    static func isBlank(_ byte: UInt8?) -> Bool { byte == Byte.space || byte == Byte.tab }
    static func isBlankOrBreakOrEnd(_ byte: UInt8?) -> Bool { byte == nil || isBlank(byte) || isBreak(byte) }

    /// Moves past the line break at the current position (`\n`, `\r\n` or `\r`).
    mutating func consumeBreak() {
        if peek() == Byte.carriageReturn && peek(1) == Byte.newline { index += 1 }
        index += 1
        line += 1
        lineStart = index
    }

    mutating func skipBlanks() {
        while Self.isBlank(peek()) { index += 1 }
    }

    /// Whether a `#` at the current position starts a comment (it follows a blank, or starts the line).
    var atComment: Bool {
        peek() == Byte.hash && (index == lineStart || Self.isBlank(bytes[index - 1]) || Self.isBreak(bytes[index - 1]))
    }

    mutating func skipComment() {
        while let byte = peek(), !Self.isBreak(byte) { index += 1 }
    }

    /// Skips blanks, comments and line breaks to the next content byte (or the end).
    mutating func skipToContent() throws(YAMLError) {
        while true {
            var sawTab = false
            while let byte = peek(), Self.isBlank(byte) {
                if byte == Byte.tab { sawTab = true }
                index += 1
            }
            guard let byte = peek() else { return }
            if atComment {
                skipComment()
            } else if Self.isBreak(byte) {
                consumeBreak()
            } else {
                if sawTab && bytes[lineStart..<index].allSatisfy(Self.isBlank) {
                    throw error("a tab in indentation (YAML indents with spaces)")
                }
                return
            }
        }
    }

    /// Checks that only blanks and a comment follow on the current line.
    mutating func expectLineEnd() throws(YAMLError) {
        skipBlanks()
        if atComment { skipComment() }
        guard Self.isBlankOrBreakOrEnd(peek()) else {
            if peek() == Byte.colon {
                throw error(
                    "a ':' followed by a space inside a value (a key: value where none may be; quote the value)"
                )
            }
            throw error("unexpected characters after the value")
        }
    }

    /// Whether a document marker (`---` or `...`, by `mark`) starts the current line here.
    func atDocumentMarker(_ mark: UInt8) -> Bool {
        index == lineStart && peek() == mark && peek(1) == mark && peek(2) == mark && Self.isBlankOrBreakOrEnd(peek(3))
    }

    /// Refuses control characters other than tab, line feed and carriage return, and the Unicode line separators
    /// (U+0085, U+2028, U+2029), which YAML 1.1 readers take as line breaks and 1.2 readers as text: written as they
    /// are, a line after one would mean different things to different readers.
    private mutating func checkCharacters() throws(YAMLError) {
        let start = index
        for offset in bytes.indices where offset >= start {
            let byte = bytes[offset]
            let problem: String
            if byte == 0x7F || (byte < 0x20 && byte != Byte.tab && byte != Byte.newline && byte != Byte.carriageReturn)
            {
                problem = "a control character (byte \(byte)) is not allowed"
            } else if (byte == 0xC2 && offset + 1 < bytes.count && bytes[offset + 1] == 0x85)
                || (byte == 0xE2 && offset + 2 < bytes.count && bytes[offset + 1] == 0x80
                    && (bytes[offset + 2] == 0xA8 || bytes[offset + 2] == 0xA9))
            {
                problem =
                    "a Unicode line separator (U+0085, U+2028, U+2029) is not allowed (escape it in double quotes)"
            } else {
                continue
            }
            let before = bytes[start..<offset]
            let line = 1 + before.reduce(0) { $1 == Byte.newline ? $0 + 1 : $0 }
            let lineBegin = before.lastIndex(of: Byte.newline).map { $0 + 1 } ?? start
            throw YAMLError(problem, line: line, column: offset - lineBegin + 1)
        }
    }
}

/// The ASCII bytes the reader looks for.
enum Byte {
    static let tab = UInt8(ascii: "\t")
    static let newline = UInt8(ascii: "\n")
    static let carriageReturn = UInt8(ascii: "\r")
    static let space = UInt8(ascii: " ")
    static let hash = UInt8(ascii: "#")
    static let colon = UInt8(ascii: ":")
    static let dash = UInt8(ascii: "-")
    static let dot = UInt8(ascii: ".")
    static let comma = UInt8(ascii: ",")
    static let percent = UInt8(ascii: "%")
    static let question = UInt8(ascii: "?")
    static let ampersand = UInt8(ascii: "&")
    static let asterisk = UInt8(ascii: "*")
    static let exclamation = UInt8(ascii: "!")
    static let pipe = UInt8(ascii: "|")
    static let greater = UInt8(ascii: ">")
    static let doubleQuote = UInt8(ascii: "\"")
    static let singleQuote = UInt8(ascii: "'")
    static let backslash = UInt8(ascii: "\\")
    static let openBracket = UInt8(ascii: "[")
    static let closeBracket = UInt8(ascii: "]")
    static let openBrace = UInt8(ascii: "{")
    static let closeBrace = UInt8(ascii: "}")
    static let at = UInt8(ascii: "@")
    static let backtick = UInt8(ascii: "`")

    static func isDigit(_ byte: UInt8) -> Bool { (0x30...0x39).contains(byte) }

    /// The value of a hexadecimal digit, nil for any other byte.
    static func hexValue(_ byte: UInt8) -> UInt32? {
        switch byte {
        case 0x30...0x39: UInt32(byte - 0x30)
        case 0x41...0x46: UInt32(byte - 0x41 + 10)
        case 0x61...0x66: UInt32(byte - 0x61 + 10)
        default: nil
        }
    }

    /// A byte of an anchor or alias name: a letter, a digit, `-` or `_` (as libyaml reads them).
    static func isNameByte(_ byte: UInt8) -> Bool {
        isDigit(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) || byte == dash
            || byte == UInt8(ascii: "_")
    }
}
