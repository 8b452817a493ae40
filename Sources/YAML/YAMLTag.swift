/// The tags the reader resolves, after YAML 1.1's rules for plain scalars (as libyaml-based readers do): `null`
/// (empty, `~`, `null`), `bool` (`true`/`false`, `yes`/`no`, `on`/`off`, in lower, capitalised or upper case), `int`,
/// `float`, and `str` for everything else. Quoted and block scalars are always `str`.
public enum YAMLTag: Sendable, Equatable {
    case str, int, float, bool, null, sequence, mapping

    private static let nulls: Set<String> = ["", "~", "null", "Null", "NULL"]
    private static let truths: [String: Bool] = {
        var table: [String: Bool] = [:]
        for (word, value) in [("true", true), ("false", false), ("yes", true), ("no", false), ("on", true)]
            + [("off", false)]
        {
            table[word] = value
            table[word.prefix(1).uppercased() + word.dropFirst()] = value
            table[word.uppercased()] = value
        }
        return table
    }()

    /// The tag of a plain scalar whose text is `text`.
    public static func resolve(plain text: String) -> YAMLTag {
        if nulls.contains(text) { return .null }
        if truths[text] != nil { return .bool }
        if isIntegerSyntax(text) { return .int }
        if isFloat(text) { return .float }
        return .str
    }

    /// The truth value of a plain `bool` scalar.
    static func truth(plain text: String) -> Bool? { truths[text] }

    /// The value of a plain `int` scalar, nil when it is not one or does not fit in `Int`.
    static func integer(plain text: String) -> Int? {
        guard isIntegerSyntax(text) else { return nil }
        var digits = Substring(text.filter { $0 != "_" })
        var negative = false
        if let sign = digits.first, sign == "-" || sign == "+" {
            negative = sign == "-"
            digits = digits.dropFirst()
        }
        let radix: Int
        if digits.hasPrefix("0x") {
            (radix, digits) = (16, digits.dropFirst(2))
        } else if digits.hasPrefix("0b") {
            (radix, digits) = (2, digits.dropFirst(2))
        } else if digits.hasPrefix("0o") {
            (radix, digits) = (8, digits.dropFirst(2))
        } else if digits.count > 1 && digits.hasPrefix("0") {
            (radix, digits) = (8, digits.dropFirst())
        } else {
            radix = 10
        }
        return Int((negative ? "-" : "") + digits, radix: radix)
    }

    /// Whether `text` is written as a YAML 1.1 integer (sexagesimal `1:30` is not taken: it reads as text).
    private static func isIntegerSyntax(_ text: String) -> Bool {
        var bytes = Substring(text).utf8[...]
        if let sign = bytes.first, sign == UInt8(ascii: "-") || sign == UInt8(ascii: "+") { bytes = bytes.dropFirst() }
        func all(_ body: Substring.UTF8View.SubSequence, _ allowed: (UInt8) -> Bool) -> Bool {
            !body.isEmpty && body.allSatisfy { $0 == UInt8(ascii: "_") || allowed($0) }
        }
        let text = Array(bytes)
        if text == [UInt8(ascii: "0")] { return true }
        if text.starts(with: Array("0x".utf8)) { return all(bytes.dropFirst(2)) { Byte.hexValue($0) != nil } }
        if text.starts(with: Array("0b".utf8)) { return all(bytes.dropFirst(2)) { $0 == 0x30 || $0 == 0x31 } }
        if text.starts(with: Array("0o".utf8)) { return all(bytes.dropFirst(2)) { (0x30...0x37).contains($0) } }
        if text.first == UInt8(ascii: "0") { return all(bytes.dropFirst()) { (0x30...0x37).contains($0) } }
        guard let first = text.first, (0x31...0x39).contains(first) else { return false }
        return all(bytes, Byte.isDigit)
    }

    /// Whether `text` is written as a YAML 1.1 float (`1.5`, `-2e3`, `.5`, `.inf`, `.nan`, `_` separators).
    private static func isFloat(_ text: String) -> Bool {
        if [".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF", ".nan", ".NaN", ".NAN"]
            .contains(text)
        {
            return true
        }
        var bytes = Array(text.utf8)[...]
        if let sign = bytes.first, sign == UInt8(ascii: "-") || sign == UInt8(ascii: "+") { bytes = bytes.dropFirst() }
        let mantissaEnd = bytes.firstIndex { $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") } ?? bytes.endIndex
        let mantissa = bytes[..<mantissaEnd]
        let point = mantissa.firstIndex(of: UInt8(ascii: "."))
        let whole = mantissa[..<(point ?? mantissa.endIndex)]
        let fraction = point.map { mantissa[($0 + 1)...] } ?? []
        let digitsOK =
            whole.allSatisfy { Byte.isDigit($0) || $0 == UInt8(ascii: "_") }
            && fraction.allSatisfy { Byte.isDigit($0) || $0 == UInt8(ascii: "_") }
        guard digitsOK, whole.first.map(Byte.isDigit) ?? (point != nil && fraction.first.map(Byte.isDigit) == true)
        else {
            return false
        }
        guard mantissaEnd < bytes.endIndex else { return true }
        var exponent = bytes[(mantissaEnd + 1)...]
        if let sign = exponent.first, sign == UInt8(ascii: "-") || sign == UInt8(ascii: "+") {
            exponent = exponent.dropFirst()
        }
        return !exponent.isEmpty && exponent.allSatisfy(Byte.isDigit)
    }
}
