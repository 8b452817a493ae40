/// One entry of a route's `events` list: a glob on the event type.
///
/// `*` matches any run of characters (dots included), `?` exactly one character; everything else matches itself.
/// Events of type `unknown` are selected only by the pattern `*` alone or the literal word `unknown`, never by other
/// globs that happen to match the word (`u*`, `*n`).
public struct EventPattern: Sendable, Hashable, CustomStringConvertible {
    /// The pattern as configured.
    public let pattern: String
    private let scalars: [Unicode.Scalar]
    /// Whether the pattern has no wildcard: it matches the one type that is its text, scalar for scalar.
    private let isLiteral: Bool

    /// Creates a pattern from its configured text.
    public init(_ pattern: String) {
        self.pattern = pattern
        self.scalars = Array(pattern.unicodeScalars)
        isLiteral = !scalars.contains("*") && !scalars.contains("?")
    }

    public var description: String { pattern }

    /// Whether an event of type `type` is selected.
    public func matches(_ type: String) -> Bool {
        if type == DecodedEvent.unknownType {
            return pattern == "*" || pattern == DecodedEvent.unknownType
        }
        // Asked on every event: the two common forms are answered without the glob's scalar arrays.
        if pattern == "*" { return true }
        if isLiteral { return pattern.utf8.elementsEqual(type.utf8) }
        return EventPattern.glob(scalars, matches: Array(type.unicodeScalars))
    }

    /// Iterative wildcard match with single-star backtracking: O(pattern × text) worst case, no recursion.
    private static func glob(_ pattern: [Unicode.Scalar], matches text: [Unicode.Scalar]) -> Bool {
        var patternIndex = 0
        var textIndex = 0
        var starPattern = -1
        var starText = 0
        while textIndex < text.count {
            if patternIndex < pattern.count
                && (pattern[patternIndex] == "?" || pattern[patternIndex] == text[textIndex])
            {
                patternIndex += 1
                textIndex += 1
            } else if patternIndex < pattern.count && pattern[patternIndex] == "*" {
                starPattern = patternIndex
                starText = textIndex
                patternIndex += 1
            } else if starPattern >= 0 {
                patternIndex = starPattern + 1
                starText += 1
                textIndex = starText
            } else {
                return false
            }
        }
        while patternIndex < pattern.count && pattern[patternIndex] == "*" { patternIndex += 1 }
        return patternIndex == pattern.count
    }
}
