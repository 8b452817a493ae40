/// A node of a YAML document as ``YAMLParser`` reads it: a scalar, a sequence or a mapping, with the position where
/// it starts. Anchors and aliases are already resolved (an alias is a copy of its anchored node).
public struct YAMLNode: Sendable, Equatable {
    /// What the node holds.
    public enum Content: Sendable, Equatable {
        case scalar(YAMLScalar)
        case sequence([YAMLNode])
        case mapping(YAMLMapping)
    }

    /// What the node holds.
    public var content: Content
    /// The line of the node's first character, from 1.
    public var line: Int
    /// The column (byte) of the node's first character, from 1.
    public var column: Int

    /// A node holding `content` that starts at `line` and `column`.
    public init(_ content: Content, line: Int, column: Int) {
        self.content = content
        self.line = line
        self.column = column
    }

    /// The scalar, when the node is one.
    public var scalar: YAMLScalar? {
        if case .scalar(let scalar) = content { return scalar }
        return nil
    }

    /// The scalar's text, when the node is a scalar (of any tag).
    public var string: String? { scalar?.text }

    /// The items, when the node is a sequence.
    public var sequence: [YAMLNode]? {
        if case .sequence(let items) = content { return items }
        return nil
    }

    /// The pairs, when the node is a mapping.
    public var mapping: YAMLMapping? {
        if case .mapping(let mapping) = content { return mapping }
        return nil
    }

    /// The resolved tag: a scalar's from its style and text (``YAMLTag/resolve(plain:)``), `sequence` or `mapping`.
    public var tag: YAMLTag {
        switch content {
        case .scalar(let scalar): scalar.tag
        case .sequence: .sequence
        case .mapping: .mapping
        }
    }

    /// The scalar's whole number when its tag is `int` (decimal, `0x` hexadecimal, `0o` or leading-`0` octal, `0b`
    /// binary, `_` separators ignored), nil otherwise or when it does not fit.
    public var int: Int? {
        guard let scalar, scalar.tag == .int else { return nil }
        return YAMLTag.integer(plain: scalar.text)
    }

    /// The scalar's truth value when its tag is `bool`.
    public var bool: Bool? {
        guard let scalar, scalar.tag == .bool else { return nil }
        return YAMLTag.truth(plain: scalar.text)
    }
}

/// A scalar: its text (escapes and line folding applied) and how it was written.
public struct YAMLScalar: Sendable, Equatable {
    /// How a scalar was written.
    public enum Style: Sendable, Equatable {
        case plain, singleQuoted, doubleQuoted, literal, folded
    }

    /// The scalar's value.
    public var text: String
    /// How it was written.
    public var style: Style

    /// A scalar of `text` written in `style`.
    public init(_ text: String, style: Style) {
        self.text = text
        self.style = style
    }

    /// `str` for every quoted or block scalar; a plain scalar's from its text.
    public var tag: YAMLTag { style == .plain ? YAMLTag.resolve(plain: text) : .str }
}

/// The pairs of a mapping, in document order.
public struct YAMLMapping: Sendable, Equatable, Sequence {
    /// The pairs, in document order.
    public var pairs: [(key: YAMLNode, value: YAMLNode)]

    /// A mapping of `pairs`.
    public init(_ pairs: [(key: YAMLNode, value: YAMLNode)]) {
        self.pairs = pairs
    }

    /// The number of pairs.
    public var count: Int { pairs.count }

    /// The first pair.
    public var first: (key: YAMLNode, value: YAMLNode)? { pairs.first }

    /// The value of the first pair whose key is a string scalar equal to `key`.
    public subscript(key: String) -> YAMLNode? {
        pairs.first { $0.key.scalar?.text == key && $0.key.tag == .str }?.value
    }

    public func makeIterator() -> IndexingIterator<[(key: YAMLNode, value: YAMLNode)]> {
        pairs.makeIterator()
    }

    public static func == (lhs: YAMLMapping, rhs: YAMLMapping) -> Bool {
        lhs.pairs.count == rhs.pairs.count
            && zip(lhs.pairs, rhs.pairs).allSatisfy { $0.key == $1.key && $0.value == $1.value }
    }
}
