/// Makes text from a server fit for one line of terminal output.
public enum OutputText {
    /// Longest text kept from one server-provided string.
    public static let maximumLength = 300

    /// Whether `scalar` is a control character (C0, DEL, C1) or a space: what ``clean(_:maximumLength:)`` turns into
    /// a space.
    public static func isControlOrSpace(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || scalar.value == 0x7F || scalar == " " || (0x80...0x9F).contains(scalar.value)
    }

    /// `text` with control characters (C0, DEL, C1) replaced by spaces, runs of whitespace collapsed, trimmed, and
    /// cut to `maximumLength` characters (with `…` when cut).
    public static func clean(_ text: String, maximumLength: Int = maximumLength) -> String {
        var out = ""
        var lastWasSpace = true
        var count = 0
        for scalar in text.unicodeScalars {
            let isSpace = isControlOrSpace(scalar)
            if isSpace {
                if lastWasSpace { continue }
                out.unicodeScalars.append(" ")
            } else {
                out.unicodeScalars.append(scalar)
            }
            lastWasSpace = isSpace
            count += 1
            if count >= maximumLength {
                out += "…"
                break
            }
        }
        while out.hasSuffix(" ") { out.removeLast() }
        return out
    }

    /// Shortest secret redacted from text (shorter ones would mangle ordinary words; real keys are far longer).
    static let minimumRedactedLength = 8

    /// `text` with every occurrence of each secret of at least ``minimumRedactedLength`` bytes replaced by
    /// `<redacted>`.
    static func redacting(_ secrets: [String], in text: String) -> String {
        var result = text
        for secret in secrets where secret.utf8.count >= minimumRedactedLength {
            result = result.replacingAll(secret, with: "<redacted>")
        }
        return result
    }
}

extension String {
    /// The string with every non-overlapping occurrence of `target` replaced (no Foundation needed).
    fileprivate func replacingAll(_ target: String, with replacement: String) -> String {
        let source = Array(utf8)
        let needle = Array(target.utf8)
        guard !needle.isEmpty, source.count >= needle.count else { return self }
        var out: [UInt8] = []
        out.reserveCapacity(source.count)
        var index = 0
        while index < source.count {
            if index + needle.count <= source.count, source[index..<(index + needle.count)].elementsEqual(needle) {
                out += replacement.utf8
                index += needle.count
            } else {
                out.append(source[index])
                index += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
