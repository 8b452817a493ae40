/// The JSON line a file sink appends per event, also the exec sink's stdin. Pure.
///
/// `{"id": "...", "type": "...", "endpoint": "...", "received_at": "2026-11-22T20:15:00.123Z", "payload": …}` and a
/// final `\n`. When the body is valid JSON (``JSONSyntax``) its bytes are spliced in unchanged, except raw CR and LF
/// (which in valid JSON can only be whitespace) become spaces so the line stays one line; otherwise the payload is
/// the body as a JSON string (invalid UTF-8 replaced by U+FFFD).
public enum EventLine {
    /// The line for `event`, newline included.
    public static func render(_ event: StoredEvent) -> [UInt8] {
        var line: [UInt8] = []
        line.reserveCapacity(event.body.count + event.id.utf8.count + 160)
        line += Array("{\"id\": ".utf8)
        appendString(event.id, to: &line)
        line += Array(", \"type\": ".utf8)
        appendString(event.type, to: &line)
        line += Array(", \"endpoint\": ".utf8)
        appendString(event.endpoint, to: &line)
        line += Array(", \"received_at\": \"".utf8)
        line += Array(timestamp(millis: event.receivedAtMillis).utf8)
        line += Array("\", \"payload\": ".utf8)
        if JSONSyntax.isValid(event.body) {
            for byte in event.body {
                line.append(byte == 0x0A || byte == 0x0D ? 0x20 : byte)
            }
        } else {
            appendString(String(decoding: event.body, as: UTF8.self), to: &line)
        }
        line += Array("}\n".utf8)
        return line
    }

    /// RFC 3339 UTC with milliseconds, e.g. `2026-11-22T20:15:00.123Z`.
    public static func timestamp(millis: Int64) -> String {
        let (seconds, milliseconds) = floorDivide(millis, 1000)
        let (days, secondOfDay) = floorDivide(seconds, 86_400)
        let (year, month, day) = civilDate(daysSinceEpoch: days)
        func pad(_ value: Int64, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(secondOfDay / 3600, 2)):"
            + "\(pad(secondOfDay / 60 % 60, 2)):\(pad(secondOfDay % 60, 2)).\(pad(milliseconds, 3))Z"
    }

    /// Appends `text` as a JSON string literal (quotes, escapes for `"`, `\` and control characters).
    static func appendString(_ text: String, to line: inout [UInt8]) {
        let hex = Array("0123456789abcdef".utf8)
        line.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): line += [UInt8(ascii: "\\"), UInt8(ascii: "\"")]
            case UInt8(ascii: "\\"): line += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
            case 0x0A: line += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
            case 0x0D: line += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
            case 0x09: line += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
            case 0x00..<0x20: line += Array("\\u00".utf8) + [hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]]
            default: line.append(byte)
            }
        }
        line.append(UInt8(ascii: "\""))
    }

    private static func floorDivide(_ value: Int64, _ divisor: Int64) -> (Int64, Int64) {
        let remainder = value % divisor
        return remainder < 0 ? (value / divisor - 1, remainder + divisor) : (value / divisor, remainder)
    }

    /// Proleptic Gregorian date of a day count since 1970-01-01 (H. Hinnant's `civil_from_days`).
    private static func civilDate(daysSinceEpoch: Int64) -> (Int64, Int64, Int64) {
        let shifted = daysSinceEpoch + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
