import HTTP1

/// Numbers of a request's log line written as bytes, as their `description` spells them, without building strings.
enum DecimalText {
    static func append(_ value: Int, to line: inout [UInt8]) {
        ASCII.appendDecimal(Int64(value), to: &line)
    }

    static func append(_ value: UInt64, to line: inout [UInt8]) {
        ASCII.appendDecimal(value, to: &line)
    }

    /// Appends `thousandths / 1000` as `(Double(thousandths) / 1000).description` spells it: `0.25`, `12.0`,
    /// `12345.678`. Written from the integer up to 10^12 (about 31 years in microseconds), where that description is
    /// the exact decimal with at least one fractional digit; past it (or below 0) through `Double`.
    static func appendThousandths(_ thousandths: Int, to line: inout [UInt8]) {
        guard (0..<1_000_000_000_000).contains(thousandths) else {
            line.append(contentsOf: (Double(thousandths) / 1000).description.utf8)
            return
        }
        ASCII.appendDecimal(Int64(thousandths / 1000), to: &line)
        line.append(UInt8(ascii: "."))
        var fraction = thousandths % 1000
        guard fraction != 0 else { return line.append(UInt8(ascii: "0")) }
        var divisor = 100
        while fraction != 0 {
            line.append(UInt8(ascii: "0") + UInt8(fraction / divisor))
            fraction %= divisor
            divisor /= 10
        }
    }
}
