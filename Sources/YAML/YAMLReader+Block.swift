/// Block structure: mappings and sequences laid out by indentation, and the values that follow `key:` and `- `.
extension YAMLReader {
    /// The node at the current position, the first content byte of a line, indented more than `parentIndent`.
    mutating func blockNode(parentIndent: Int) throws(YAMLError) -> YAMLNode {
        if isSequenceEntry { return try blockSequence(indent: indent) }
        if isImplicitKey { return try blockMapping(indent: indent) }
        return try inlineNode(parentIndent: parentIndent)
    }

    /// The value after `key:`, `- `, `---` or an anchor: on the same line, or on the lines below when they are
    /// indented more than `parentIndent` (or, with `sameIndentSequence`, a sequence at the key's own indentation);
    /// otherwise an empty (null) scalar where the value would have started.
    mutating func blockValue(parentIndent: Int, sameIndentSequence: Bool) throws(YAMLError) -> YAMLNode {
        skipBlanks()
        let (line, column) = (self.line, self.column)
        if peek() == Byte.ampersand {
            return try anchored(parentIndent: parentIndent, sameIndentSequence: sameIndentSequence)
        }
        guard Self.isBlankOrBreakOrEnd(peek()) || atComment else { return try inlineNode(parentIndent: parentIndent) }
        try skipToContent()
        if !atEnd && !atDocumentMarker(Byte.dash) && !atDocumentMarker(Byte.dot) {
            if indent > parentIndent { return try blockNode(parentIndent: parentIndent) }
            if indent == parentIndent && sameIndentSequence && isSequenceEntry {
                return try blockSequence(indent: indent)
            }
        }
        try count()
        return YAMLNode(.scalar(YAMLScalar("", style: .plain)), line: line, column: column)
    }

    /// Whether a block sequence entry (`-` then a blank or the line's end) is at the current position.
    var isSequenceEntry: Bool {
        peek() == Byte.dash && Self.isBlankOrBreakOrEnd(peek(1))
    }

    /// Whether an implicit mapping key (a quoted or plain scalar on this line, then `:` and a blank or the line's end)
    /// starts at the current position.
    var isImplicitKey: Bool {
        var cursor = index
        guard cursor < bytes.count else { return false }
        let first = bytes[cursor]
        if first == Byte.doubleQuote || first == Byte.singleQuote {
            cursor += 1
            while cursor < bytes.count && !Self.isBreak(bytes[cursor]) {
                if first == Byte.doubleQuote && bytes[cursor] == Byte.backslash {
                    cursor += 2
                    continue
                }
                if bytes[cursor] == first {
                    guard first == Byte.singleQuote && cursor + 1 < bytes.count && bytes[cursor + 1] == first else {
                        break
                    }
                    cursor += 1
                }
                cursor += 1
            }
            guard cursor < bytes.count && bytes[cursor] == first else { return false }
            cursor += 1
            while cursor < bytes.count && Self.isBlank(bytes[cursor]) { cursor += 1 }
            return cursor < bytes.count && bytes[cursor] == Byte.colon
                && Self.isBlankOrBreakOrEnd(cursor + 1 < bytes.count ? bytes[cursor + 1] : nil)
        }
        guard Self.canStartPlain(first, next: cursor + 1 < bytes.count ? bytes[cursor + 1] : nil) else { return false }
        var previousBlank = false
        while cursor < bytes.count && !Self.isBreak(bytes[cursor]) {
            let byte = bytes[cursor]
            if byte == Byte.colon && Self.isBlankOrBreakOrEnd(cursor + 1 < bytes.count ? bytes[cursor + 1] : nil) {
                return true
            }
            if byte == Byte.hash && previousBlank { return false }
            previousBlank = Self.isBlank(byte)
            cursor += 1
        }
        return false
    }

    /// A block mapping whose keys sit at `indent`; the current position is its first key.
    mutating func blockMapping(indent: Int) throws(YAMLError) -> YAMLNode {
        try enter()
        defer { depth -= 1 }
        let (line, column) = (self.line, self.column)
        var pairs: [(key: YAMLNode, value: YAMLNode)] = []
        var keys = MappingKeys()
        while true {
            let key = try mappingKey()
            try keys.insert(key)
            guard peek() == Byte.colon else { throw error("expected ':' after a mapping key") }
            index += 1
            let value = try blockValue(parentIndent: indent, sameIndentSequence: true)
            pairs.append((key, value))
            try skipToContent()
            if atEnd || atDocumentMarker(Byte.dash) || atDocumentMarker(Byte.dot) || self.indent < indent { break }
            if self.indent > indent { throw error("unexpected indentation (deeper than the keys above it)") }
            guard isImplicitKey else {
                if isSequenceEntry { throw error("a list item where a key was expected (check the indentation)") }
                throw error("expected a 'key: value' line at this indentation")
            }
        }
        try count()
        return YAMLNode(.mapping(YAMLMapping(pairs)), line: line, column: column)
    }

    /// A block sequence whose `-` entries sit at `indent`; the current position is its first `-`.
    mutating func blockSequence(indent: Int) throws(YAMLError) -> YAMLNode {
        try enter()
        defer { depth -= 1 }
        let (line, column) = (self.line, self.column)
        var items: [YAMLNode] = []
        while true {
            index += 1
            items.append(try sequenceItem(indent: indent))
            try skipToContent()
            if atEnd || atDocumentMarker(Byte.dash) || atDocumentMarker(Byte.dot) || self.indent < indent { break }
            if self.indent > indent { throw error("unexpected indentation (deeper than the list items above it)") }
            guard isSequenceEntry else { break }
        }
        try count()
        return YAMLNode(.sequence(items), line: line, column: column)
    }

    /// The item after a `-` at `indent`: a compact nested sequence or mapping on the same line, any other node on
    /// the same line, or the lines below.
    private mutating func sequenceItem(indent: Int) throws(YAMLError) -> YAMLNode {
        skipBlanks()
        if Self.isBlankOrBreakOrEnd(peek()) || atComment {
            return try blockValue(parentIndent: indent, sameIndentSequence: false)
        }
        if isSequenceEntry { return try blockSequence(indent: self.indent) }
        if isImplicitKey { return try blockMapping(indent: self.indent) }
        return try inlineNode(parentIndent: indent)
    }

    /// A mapping key on one line (quoted or plain); leaves the position at the `:` after it.
    private mutating func mappingKey() throws(YAMLError) -> YAMLNode {
        let (line, column) = (self.line, self.column)
        let scalar: YAMLScalar
        switch peek() {
        case Byte.doubleQuote, Byte.singleQuote: scalar = try quoted()
        default:
            let start = index
            var end = index
            while let byte = peek(), byte != Byte.colon || !Self.isBlankOrBreakOrEnd(peek(1)) {
                index += 1
                if !Self.isBlank(byte) { end = index }
            }
            scalar = YAMLScalar(String(decoding: bytes[start..<end], as: UTF8.self), style: .plain)
        }
        skipBlanks()
        try count()
        return YAMLNode(.scalar(scalar), line: line, column: column)
    }

    /// A node that starts mid-line or is not a block collection: flow collection, block scalar, quoted or plain
    /// scalar, anchored node or alias; checks that only a comment follows it on its last line.
    mutating func inlineNode(parentIndent: Int) throws(YAMLError) -> YAMLNode {
        let (line, column) = (self.line, self.column)
        switch peek() {
        case Byte.openBracket, Byte.openBrace:
            let node = try flowCollection()
            try expectLineEnd()
            return node
        case Byte.pipe, Byte.greater:
            return YAMLNode(.scalar(try blockScalar(parentIndent: parentIndent)), line: line, column: column)
        case Byte.ampersand:
            return try anchored(parentIndent: parentIndent, sameIndentSequence: false)
        case Byte.asterisk:
            let node = try alias()
            try expectLineEnd()
            return node
        default:
            let scalar = try inlineScalar(parentIndent: parentIndent)
            try expectLineEnd()
            try count()
            return YAMLNode(.scalar(scalar), line: line, column: column)
        }
    }

    /// A quoted or plain scalar (refusing what cannot start one).
    private mutating func inlineScalar(parentIndent: Int) throws(YAMLError) -> YAMLScalar {
        switch peek() {
        case Byte.doubleQuote, Byte.singleQuote: return try quoted()
        case Byte.exclamation: throw error("tags (!) are not supported")
        case Byte.question where Self.isBlankOrBreakOrEnd(peek(1)): throw error("explicit keys (?) are not supported")
        case Byte.dash where Self.isBlankOrBreakOrEnd(peek(1)):
            throw error("a list item where a value was expected (check the indentation)")
        case Byte.at, Byte.backtick, Byte.comma, Byte.closeBracket, Byte.closeBrace:
            throw error("a value cannot start with '\(Character(Unicode.Scalar(peek() ?? 0)))': quote it")
        default: return plainScalar(parentIndent: parentIndent)
        }
    }

    /// The node after an anchor (`&name`), as a value after `key:`, `- ` or `---` would be (on the same line or
    /// the lines below), recorded under the name; it starts where the anchor does, as libyaml has it.
    private mutating func anchored(parentIndent: Int, sameIndentSequence: Bool) throws(YAMLError) -> YAMLNode {
        try enter()
        defer { depth -= 1 }
        let (line, column) = (self.line, self.column)
        let name = try anchorName()
        skipBlanks()
        if peek() == Byte.ampersand { throw error("a node with two anchors") }
        var node = try blockValue(parentIndent: parentIndent, sameIndentSequence: sameIndentSequence)
        (node.line, node.column) = (line, column)
        anchors[name] = node
        return node
    }

    /// An anchor's name after `&` (or an alias's after `*`): letters, digits, `-` and `_`, as libyaml reads them;
    /// leaves the position after it.
    mutating func anchorName() throws(YAMLError) -> String {
        let (line, column) = (self.line, self.column)
        index += 1
        let start = index
        while let byte = peek(), Byte.isNameByte(byte) { index += 1 }
        guard index > start, Self.isBlankOrBreakOrEnd(peek()) || peek().map(Self.isFlowIndicator) == true else {
            throw YAMLError(
                "an anchor or alias name holds letters, digits, '-' and '_' only, followed by a blank",
                line: line,
                column: column
            )
        }
        return String(decoding: bytes[start..<index], as: UTF8.self)
    }

    /// A copy of the node an alias (`*name`) names (positions included, as libyaml gives them), counted node by
    /// node and by the bytes of its scalars' text (``YAMLParser/maximumAliasedTextBytes``).
    mutating func alias() throws(YAMLError) -> YAMLNode {
        let (line, column) = (self.line, self.column)
        let name = try anchorName()
        guard let node = anchors[name] else {
            // Not quoting the name: the document's text never appears in a problem.
            throw YAMLError("an alias names no anchor defined before it", line: line, column: column)
        }
        try count(Self.size(of: node))
        aliasedTextBytes += Self.textBytes(of: node)
        if aliasedTextBytes > YAMLParser.maximumAliasedTextBytes {
            throw YAMLError(
                "aliases copy more than \(YAMLParser.maximumAliasedTextBytes) bytes of text",
                line: line,
                column: column
            )
        }
        return node
    }

    private static func textBytes(of node: YAMLNode) -> Int {
        switch node.content {
        case .scalar(let scalar): scalar.text.utf8.count
        case .sequence(let items): items.reduce(0) { $0 + textBytes(of: $1) }
        case .mapping(let mapping): mapping.pairs.reduce(0) { $0 + textBytes(of: $1.key) + textBytes(of: $1.value) }
        }
    }

    private static func size(of node: YAMLNode) -> Int {
        switch node.content {
        case .scalar: 1
        case .sequence(let items): items.reduce(1) { $0 + size(of: $1) }
        case .mapping(let mapping): mapping.pairs.reduce(1) { $0 + size(of: $1.key) + size(of: $1.value) }
        }
    }

    static func isFlowIndicator(_ byte: UInt8) -> Bool {
        byte == Byte.comma || byte == Byte.openBracket || byte == Byte.closeBracket || byte == Byte.openBrace
            || byte == Byte.closeBrace
    }

    /// Whether `byte` (followed by `next`) may start a plain scalar.
    static func canStartPlain(_ byte: UInt8, next: UInt8?) -> Bool {
        switch byte {
        case Byte.dash, Byte.question, Byte.colon: !isBlankOrBreakOrEnd(next)
        case Byte.comma, Byte.openBracket, Byte.closeBracket, Byte.openBrace, Byte.closeBrace, Byte.hash,
            Byte.ampersand, Byte.asterisk, Byte.exclamation, Byte.pipe, Byte.greater, Byte.singleQuote,
            Byte.doubleQuote, Byte.percent, Byte.at, Byte.backtick:
            false
        default: !isBlankOrBreakOrEnd(byte)
        }
    }
}

/// The scalar keys of one mapping so far, to refuse a key given twice (YAML requires keys to be unique).
struct MappingKeys {
    private var lines: [String: Int] = [:]

    /// Records `key`; throws when a scalar key of the same text and tag came before.
    mutating func insert(_ key: YAMLNode) throws(YAMLError) {
        guard let scalar = key.scalar else { return }
        let identity = "\(scalar.tag):\(scalar.text)"
        if let first = lines[identity] {
            throw YAMLError(
                "a key given twice in one mapping (first at line \(first))",
                line: key.line,
                column: key.column
            )
        }
        lines[identity] = key.line
    }
}
