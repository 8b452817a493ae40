/// Scalars: plain (block and flow context), single- and double-quoted, literal and folded block scalars.
extension YAMLReader {
    /// A plain scalar in block context, continued on the following lines that are indented more than
    /// `parentIndent` (folded: one line break becomes a space, each empty line a line feed); leaves the position
    /// after its last non-blank byte.
    mutating func plainScalar(parentIndent: Int) -> YAMLScalar {
        var text: [UInt8] = []
        scanPlainLine(into: &text, flow: false)
        while true {
            let saved = (index, line, lineStart)
            skipBlanks()
            guard Self.isBreak(peek()) else {
                (index, line, lineStart) = saved
                break
            }
            var emptyLines = 0
            var continues = false
            while Self.isBreak(peek()) {
                consumeBreak()
                skipBlanks()
                guard let byte = peek() else { break }
                if Self.isBreak(byte) {
                    emptyLines += 1
                    continue
                }
                continues =
                    indent > parentIndent && !atComment && !atDocumentMarker(Byte.dash) && !atDocumentMarker(Byte.dot)
            }
            guard continues else {
                (index, line, lineStart) = saved
                break
            }
            text += emptyLines == 0 ? [Byte.space] : Array(repeating: Byte.newline, count: emptyLines)
            scanPlainLine(into: &text, flow: false)
        }
        return YAMLScalar(String(decoding: text, as: UTF8.self), style: .plain)
    }

    /// The rest of a plain scalar's line: up to `: `, ` #`, the line's end (and, in flow context, a flow indicator
    /// or `:` before one); trailing blanks are left out and the position stays after the last non-blank byte.
    mutating func scanPlainLine(into text: inout [UInt8], flow: Bool) {
        let start = index
        var end = index
        while let byte = peek(), !Self.isBreak(byte) {
            if byte == Byte.colon {
                let next = peek(1)
                if Self.isBlankOrBreakOrEnd(next) || (flow && next.map(Self.isFlowIndicator) == true) { break }
            }
            if byte == Byte.hash && index > start && Self.isBlank(bytes[index - 1]) { break }
            if flow && Self.isFlowIndicator(byte) { break }
            index += 1
            if !Self.isBlank(byte) { end = index }
        }
        text += bytes[start..<end]
        index = end
    }

    /// A quoted scalar at the current quote: single-quoted (`''` is one quote) or double-quoted, with YAML's escapes
    /// (`\n`, `\t`, `\"`, `\\`, `\x` with 2 hex digits, `\u` with 4, `\U` with 8, …; an escaped line break joins the
    /// lines with nothing between them); line breaks fold.
    mutating func quoted() throws(YAMLError) -> YAMLScalar {
        let (line, column) = (self.line, self.column)
        let quote = peek()
        let style: YAMLScalar.Style = quote == Byte.singleQuote ? .singleQuoted : .doubleQuoted
        index += 1
        var text: [UInt8] = []
        var trailingBlanks = 0
        while true {
            guard let byte = peek() else {
                let kind = style == .singleQuoted ? "single" : "double"
                throw YAMLError("a \(kind)-quoted string is not closed", line: line, column: column)
            }
            if byte == quote && style == .singleQuoted && peek(1) == quote {
                text.append(byte)
                index += 2
                trailingBlanks = 0
            } else if byte == quote {
                index += 1
                return YAMLScalar(String(decoding: text, as: UTF8.self), style: style)
            } else if byte == Byte.backslash && style == .doubleQuoted {
                if Self.isBreak(peek(1)) {
                    // An escaped line break joins the lines; the empty lines after it are line feeds.
                    index += 1
                    consumeBreak()
                    skipBlanks()
                    while Self.isBreak(peek()) {
                        text.append(Byte.newline)
                        consumeBreak()
                        skipBlanks()
                    }
                } else {
                    try escape(into: &text)
                }
                trailingBlanks = 0
            } else if Self.isBreak(byte) {
                try foldQuotedBreak(into: &text, trailingBlanks: trailingBlanks, opening: (line, column))
                trailingBlanks = 0
            } else {
                text.append(byte)
                index += 1
                trailingBlanks = Self.isBlank(byte) ? trailingBlanks + 1 : 0
            }
        }
    }

    /// Folds the line break at the current position inside a quoted scalar: drops the blanks before it, then one
    /// break becomes a space and each empty line after it a line feed; leading blanks of the next line go.
    private mutating func foldQuotedBreak(
        into text: inout [UInt8],
        trailingBlanks: Int,
        opening: (line: Int, column: Int)
    ) throws(YAMLError) {
        text.removeLast(trailingBlanks)
        var emptyLines = 0
        consumeBreak()
        skipBlanks()
        while Self.isBreak(peek()) {
            emptyLines += 1
            consumeBreak()
            skipBlanks()
        }
        if atDocumentMarker(Byte.dash) || atDocumentMarker(Byte.dot) {
            throw YAMLError(
                "a quoted string is not closed before a document marker",
                line: opening.line,
                column: opening.column
            )
        }
        text += emptyLines == 0 ? [Byte.space] : Array(repeating: Byte.newline, count: emptyLines)
    }

    /// One escape sequence at the current backslash, appended as UTF-8.
    private mutating func escape(into text: inout [UInt8]) throws(YAMLError) {
        let (line, column) = (self.line, self.column)
        guard let code = peek(1) else { throw error("a double-quoted string is not closed") }
        index += 2
        let simple: [UInt8: UInt32] = [
            UInt8(ascii: "0"): 0, UInt8(ascii: "a"): 7, UInt8(ascii: "b"): 8, UInt8(ascii: "t"): 9, Byte.tab: 9,
            UInt8(ascii: "n"): 10, UInt8(ascii: "v"): 11, UInt8(ascii: "f"): 12, UInt8(ascii: "r"): 13,
            UInt8(ascii: "e"): 27, Byte.space: 32, Byte.doubleQuote: 34, UInt8(ascii: "/"): 47, Byte.backslash: 92,
            UInt8(ascii: "N"): 0x85, UInt8(ascii: "_"): 0xA0, UInt8(ascii: "L"): 0x2028, UInt8(ascii: "P"): 0x2029,
        ]
        let digits: Int? =
            switch code {
            case UInt8(ascii: "x"): 2
            case UInt8(ascii: "u"): 4
            case UInt8(ascii: "U"): 8
            default: nil
            }
        var value: UInt32
        if let known = simple[code] {
            value = known
        } else if let digits {
            value = 0
            for _ in 0..<digits {
                guard let byte = peek(), let digit = Byte.hexValue(byte) else {
                    throw YAMLError("an escape needs \(digits) hexadecimal digits", line: line, column: column)
                }
                value = value << 4 | digit
                index += 1
            }
        } else {
            throw YAMLError("an unknown escape sequence in a double-quoted string", line: line, column: column)
        }
        guard let scalar = Unicode.Scalar(value) else {
            throw YAMLError("an escape names no Unicode character", line: line, column: column)
        }
        text += Array(String(Character(scalar)).utf8)
    }

    /// A literal (`|`) or folded (`>`) block scalar after a node indented `parentIndent`: the header (chomping `-`
    /// or `+`, an indentation digit), then the lines indented deeper; leaves the position at the start of the line
    /// after it.
    mutating func blockScalar(parentIndent: Int) throws(YAMLError) -> YAMLScalar {
        let literal = peek() == Byte.pipe
        index += 1
        var chomping: UInt8?
        var increment: Int?
        while let byte = peek() {
            if (byte == UInt8(ascii: "-") || byte == UInt8(ascii: "+")) && chomping == nil {
                chomping = byte
            } else if (0x31...0x39).contains(byte) && increment == nil {
                increment = Int(byte - 0x30)
            } else {
                break
            }
            index += 1
        }
        try expectLineEnd()
        if Self.isBreak(peek()) { consumeBreak() }
        var contentIndent = increment.map { parentIndent >= 0 ? parentIndent + $0 : $0 }
        var lines: [ArraySlice<UInt8>] = []
        /// Whether each line ended in a line break (the last line of a file may not).
        var breaks: [Bool] = []
        var leadingSpaces = 0
        while !atEnd {
            var cursor = index
            while cursor < bytes.count && bytes[cursor] == Byte.space { cursor += 1 }
            let spaces = cursor - index
            let empty = cursor == bytes.count || Self.isBreak(bytes[cursor])
            if empty && contentIndent == nil {
                leadingSpaces = max(leadingSpaces, spaces)
            } else if !empty {
                if contentIndent == nil {
                    guard leadingSpaces <= spaces || spaces <= parentIndent else {
                        throw error("a block scalar's leading blank line has more spaces than its first line")
                    }
                    contentIndent = spaces
                }
                guard let contentIndent, spaces >= contentIndent, contentIndent > parentIndent,
                    !atDocumentMarker(Byte.dash), !atDocumentMarker(Byte.dot)
                else { break }
            }
            var end = cursor
            while end < bytes.count && !Self.isBreak(bytes[end]) { end += 1 }
            let from = min(index + (contentIndent ?? spaces), end)
            lines.append(empty && spaces <= (contentIndent ?? spaces) ? [] : bytes[from..<end])
            index = end
            breaks.append(Self.isBreak(peek()))
            if Self.isBreak(peek()) { consumeBreak() }
        }
        let lastContent = lines.lastIndex { !$0.isEmpty }
        var text =
            literal ? Self.literalText(lines, through: lastContent) : Self.foldedText(lines, through: lastContent)
        // Chomping: strip keeps no final line break, clip the one after the last line of text (when the file has
        // it), keep that one and the empty lines' after it.
        switch chomping {
        case UInt8(ascii: "-"): break
        case UInt8(ascii: "+"):
            let kept = breaks[(lastContent ?? 0)...].filter { $0 }.count
            text += Array(repeating: Byte.newline, count: lastContent == nil ? breaks.filter { $0 }.count : kept)
        default: if let lastContent, breaks[lastContent] { text.append(Byte.newline) }
        }
        return YAMLScalar(String(decoding: text, as: UTF8.self), style: literal ? .literal : .folded)
    }

    private static func literalText(_ lines: [ArraySlice<UInt8>], through last: Int?) -> [UInt8] {
        guard let last else { return [] }
        var text: [UInt8] = []
        for (number, line) in lines[...last].enumerated() {
            if number > 0 { text.append(Byte.newline) }
            text += line
        }
        return text
    }

    /// Folded lines: a break between two lines that are not more indented becomes a space (an empty line between
    /// them, a line feed); around more-indented lines every break is kept.
    private static func foldedText(_ lines: [ArraySlice<UInt8>], through last: Int?) -> [UInt8] {
        guard let last else { return [] }
        var text: [UInt8] = []
        var previousMoreIndented: Bool?
        var emptyLines = 0
        for line in lines[...last] {
            guard let first = line.first else {
                emptyLines += 1
                continue
            }
            let moreIndented = isBlank(first)
            if let previousMoreIndented {
                let folds = !previousMoreIndented && !moreIndented
                text +=
                    folds && emptyLines == 0
                    ? [Byte.space] : Array(repeating: Byte.newline, count: emptyLines + (folds ? 0 : 1))
            } else {
                text += Array(repeating: Byte.newline, count: emptyLines)
            }
            text += line
            previousMoreIndented = moreIndented
            emptyLines = 0
        }
        return text
    }
}
