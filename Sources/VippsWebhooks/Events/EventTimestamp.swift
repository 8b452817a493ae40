import HTTP1

/// RFC 3339 timestamps as the webhook bodies carry them (`2025-05-31T17:29:23.358Z`, `2023-05-09T11:37:04.6313913Z`).
public enum EventTimestamp {
    /// Milliseconds since 1970-01-01T00:00:00Z of an RFC 3339 date-time (`T`/`t` or space separator, 1–9
    /// fractional digits, `Z`/`z` or `±HH:MM`), with calendar checks (month lengths, leap years); `nil` if invalid.
    /// A leap second (`:60`) is accepted and counted as the following second.
    public static func millisecondsSinceEpoch(_ text: String) -> Int64? {
        text.withUTF8Bytes { millisecondsSinceEpoch(utf8: $0) }
    }

    /// ``millisecondsSinceEpoch(_:)`` of the text whose UTF-8 bytes are `bytes` (read in place, not copied).
    private static func millisecondsSinceEpoch(utf8 bytes: UnsafeBufferPointer<UInt8>) -> Int64? {
        var offset = 0
        func number(_ digits: Int) -> Int? {
            guard offset + digits <= bytes.count else { return nil }
            var value = 0
            for byte in bytes[offset..<offset + digits] {
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
            }
            offset += digits
            return value
        }
        func expect(_ allowed: StaticString) -> Bool {
            let allowedBytes = UnsafeBufferPointer(start: allowed.utf8Start, count: allowed.utf8CodeUnitCount)
            guard offset < bytes.count, allowedBytes.contains(bytes[offset]) else { return false }
            offset += 1
            return true
        }
        guard let year = number(4), expect("-"), let month = number(2), expect("-"), let day = number(2),
            expect("Tt "), let hour = number(2), expect(":"), let minute = number(2), expect(":"),
            let second = number(2)
        else { return nil }
        guard (1...12).contains(month), day >= 1, day <= CivilDate.daysInMonth(year: year, month: month), hour <= 23,
            minute <= 59, second <= 60
        else { return nil }
        var millis = 0
        if offset < bytes.count, bytes[offset] == UInt8(ascii: ".") {
            offset += 1
            var digits = 0
            while offset < bytes.count, bytes[offset] >= UInt8(ascii: "0"), bytes[offset] <= UInt8(ascii: "9") {
                if digits < 3 { millis = millis * 10 + Int(bytes[offset] - UInt8(ascii: "0")) }
                digits += 1
                offset += 1
            }
            guard (1...9).contains(digits) else { return nil }
            var scale = digits
            while scale < 3 {
                millis *= 10
                scale += 1
            }
        }
        var offsetSeconds = 0
        if offset < bytes.count, bytes[offset] == UInt8(ascii: "+") || bytes[offset] == UInt8(ascii: "-") {
            let sign = bytes[offset] == UInt8(ascii: "-") ? -1 : 1
            offset += 1
            guard let offsetHours = number(2), expect(":"), let offsetMinutes = number(2), offsetHours <= 23,
                offsetMinutes <= 59
            else { return nil }
            offsetSeconds = sign * (offsetHours * 3600 + offsetMinutes * 60)
        } else if !expect("Zz") {
            return nil
        }
        guard offset == bytes.count else { return nil }
        let days = CivilDate.daysSince1970(year: year, month: month, day: day)
        let secondOfDay = Int64(hour * 3600 + minute * 60 + second - offsetSeconds)
        return (days * 86_400 + secondOfDay) * 1000 + Int64(millis)
    }

    /// Formats milliseconds since the epoch as UTC RFC 3339 with `fractionDigits` (0–9) fractional digits, e.g.
    /// `2025-05-31T17:29:23.358Z`. Digits past the third are zeros.
    public static func format(millisecondsSinceEpoch millis: Int64, fractionDigits: Int = 3) -> String {
        var bytes: [UInt8] = []
        append(millisecondsSinceEpoch: millis, fractionDigits: fractionDigits, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends ``format(millisecondsSinceEpoch:fractionDigits:)``'s text to `bytes` without making a string (log
    /// lines and sink lines, one per event).
    public static func append(millisecondsSinceEpoch millis: Int64, fractionDigits: Int = 3, to bytes: inout [UInt8]) {
        let totalSeconds = millis >= 0 ? millis / 1000 : (millis - 999) / 1000
        let milliPart = Int(millis - totalSeconds * 1000)
        let days = CivilDate.floorDivide(totalSeconds, 86_400)
        let secondOfDay = Int(totalSeconds - days * 86_400)
        let (year, month, day) = CivilDate.date(daysSince1970: days)
        let digits = min(max(fractionDigits, 0), 9)
        // Built on the stack and appended once: this runs for several lines per event.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 48) { text in
            var count = 0
            func put(_ byte: UInt8) {
                text[count] = byte
                count += 1
            }
            func put(_ value: Int, width: Int) {
                // Digits from the last place back (a plain loop: a `stride` cost several times more here).
                var remaining = value
                var place = count + width
                while place > count {
                    place -= 1
                    text[place] = UInt8(ascii: "0") + UInt8(remaining % 10)
                    remaining /= 10
                }
                count += width
            }
            if (0...9999).contains(year) {
                put(year, width: 4)
            } else {
                for byte in String(year).utf8 { put(byte) }
            }
            put(UInt8(ascii: "-"))
            put(month, width: 2)
            put(UInt8(ascii: "-"))
            put(day, width: 2)
            put(UInt8(ascii: "T"))
            put(secondOfDay / 3600, width: 2)
            put(UInt8(ascii: ":"))
            put(secondOfDay / 60 % 60, width: 2)
            put(UInt8(ascii: ":"))
            put(secondOfDay % 60, width: 2)
            if digits > 0 {
                // The milliseconds' three digits, cut or followed by zeros to `digits`.
                put(UInt8(ascii: "."))
                put(milliPart, width: 3)
                count -= max(3 - digits, 0)
                for _ in 3..<max(digits, 3) { put(UInt8(ascii: "0")) }
            }
            put(UInt8(ascii: "Z"))
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: text[..<count]))
        }
    }
}
