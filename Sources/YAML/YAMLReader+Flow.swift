/// Flow collections: `[a, b]` and `{k: v}`, nested, across lines, with quoted keys followed directly by `:` (JSON).
extension YAMLReader {
    /// The flow sequence or mapping at the current `[` or `{`.
    mutating func flowCollection() throws(YAMLError) -> YAMLNode {
        try enter()
        defer { depth -= 1 }
        let (line, column) = (self.line, self.column)
        let isMapping = peek() == Byte.openBrace
        let close = isMapping ? Byte.closeBrace : Byte.closeBracket
        index += 1
        var items: [YAMLNode] = []
        var pairs: [(key: YAMLNode, value: YAMLNode)] = []
        var keys = MappingKeys()
        let notClosed = YAMLError(
            "a flow \(isMapping ? "mapping ({)" : "sequence ([)") is not closed",
            line: line,
            column: column
        )
        try skipFlowSpace()
        while peek() != close {
            guard !atEnd else { throw notClosed }
            let item = try flowNode()
            try skipFlowSpace()
            if peek() == Byte.colon {
                index += 1
                try skipFlowSpace()
                let value: YAMLNode
                if peek() == Byte.comma || peek() == close {
                    try count()
                    value = YAMLNode(.scalar(YAMLScalar("", style: .plain)), line: self.line, column: self.column)
                } else {
                    value = try flowNode()
                }
                if isMapping {
                    try keys.insert(item)
                    pairs.append((item, value))
                } else {
                    try count()
                    items.append(YAMLNode(.mapping(YAMLMapping([(item, value)])), line: item.line, column: item.column))
                }
            } else if isMapping {
                try keys.insert(item)
                try count()
                pairs.append(
                    (item, YAMLNode(.scalar(YAMLScalar("", style: .plain)), line: item.line, column: item.column))
                )
            } else {
                items.append(item)
            }
            try skipFlowSpace()
            if peek() == Byte.comma {
                index += 1
                try skipFlowSpace()
            } else if atEnd {
                throw notClosed
            } else if peek() != close {
                throw error("expected ',' or '\(isMapping ? "}" : "]")' in a flow collection")
            }
        }
        index += 1
        try count()
        return YAMLNode(isMapping ? .mapping(YAMLMapping(pairs)) : .sequence(items), line: line, column: column)
    }

    /// A node inside a flow collection.
    private mutating func flowNode() throws(YAMLError) -> YAMLNode {
        let (line, column) = (self.line, self.column)
        let scalar: YAMLScalar
        switch peek() {
        case Byte.openBracket, Byte.openBrace: return try flowCollection()
        case Byte.asterisk: return try alias()
        case Byte.ampersand:
            try enter()
            defer { depth -= 1 }
            let name = try anchorName()
            try skipFlowSpace()
            if peek() == Byte.ampersand { throw error("a node with two anchors") }
            var node = try flowNode()
            (node.line, node.column) = (line, column)
            anchors[name] = node
            return node
        case Byte.doubleQuote, Byte.singleQuote: scalar = try quoted()
        case Byte.exclamation: throw error("tags (!) are not supported")
        case let byte? where Self.canStartPlain(byte, next: peek(1)) || byte == Byte.percent || byte == Byte.hash:
            var text: [UInt8] = []
            scanPlainLine(into: &text, flow: true)
            guard !text.isEmpty else { throw error("a value was expected in a flow collection") }
            scalar = YAMLScalar(String(decoding: text, as: UTF8.self), style: .plain)
        default: throw error("a value was expected in a flow collection")
        }
        try count()
        return YAMLNode(.scalar(scalar), line: line, column: column)
    }

    /// Skips blanks, line breaks and comments between the parts of a flow collection.
    private mutating func skipFlowSpace() throws(YAMLError) {
        while let byte = peek() {
            if Self.isBlank(byte) {
                index += 1
            } else if Self.isBreak(byte) {
                consumeBreak()
            } else if atComment {
                skipComment()
            } else {
                if atDocumentMarker(Byte.dash) || atDocumentMarker(Byte.dot) {
                    throw error("a document marker inside a flow collection")
                }
                return
            }
        }
    }
}
