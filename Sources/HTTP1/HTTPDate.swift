/// HTTP-date (RFC 9110 §5.6.7) parsing and formatting: the `Date` field of responses, and signed date headers.
///
/// Formatting always produces the preferred IMF-fixdate form (`Thu, 30 Mar 2023 08:38:32 GMT`). Parsing accepts
/// IMF-fixdate and, as recipients must, the obsolete RFC 850 and asctime forms. Values are whole seconds since
/// 1970-01-01T00:00:00Z; no Foundation date types, no locale, no time zone database.
public enum HTTPDate {
    private static let dayNames = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let longDayNames = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
    private static let monthNames = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ]

    /// IMF-fixdate text of `secondsSince1970`.
    public static func format(secondsSince1970 seconds: Int64) -> String {
        let days = CivilDate.floorDivide(seconds, 86_400)
        let secondOfDay = Int(seconds - days * 86_400)
        let (year, month, day) = CivilDate.date(daysSince1970: days)
        let weekday = Int(((days % 7) + 11) % 7)  // 1970-01-01 was a Thursday (4).
        return "\(dayNames[weekday]), \(pad2(day)) \(monthNames[month - 1]) \(year) "
            + "\(pad2(secondOfDay / 3600)):\(pad2(secondOfDay / 60 % 60)):\(pad2(secondOfDay % 60)) GMT"
    }

    /// Seconds since 1970 of an HTTP-date, or `nil` when `text` is not a valid HTTP-date.
    ///
    /// The day name is checked for form, not against the date (as RFC 9110 allows).
    public static func parse(_ text: String) -> Int64? {
        if let seconds = parseIMFFixdate(Array(text.utf8)) { return seconds }
        return parseObsolete(text)
    }

    /// IMF-fixdate at fixed byte positions (`Sun, 06 Nov 1994 08:49:37 GMT`): the form every sender uses, parsed
    /// without allocating substrings.
    private static func parseIMFFixdate(_ b: [UInt8]) -> Int64? {
        guard b.count == 29, b[3] == UInt8(ascii: ","), b[4] == 0x20, b[7] == 0x20, b[11] == 0x20, b[16] == 0x20,
            b[19] == UInt8(ascii: ":"), b[22] == UInt8(ascii: ":"), b[25] == 0x20,
            b[26] == UInt8(ascii: "G"), b[27] == UInt8(ascii: "M"), b[28] == UInt8(ascii: "T"),
            dayNameBytes.contains(where: { $0 == b[0..<3] }),
            let monthIndex = monthNameBytes.firstIndex(where: { $0 == b[8..<11] }),
            let day = number(b[5..<7]), let year = number(b[12..<16]), let hour = number(b[17..<19]),
            let minute = number(b[20..<22]), let second = number(b[23..<25])
        else { return nil }
        return make(year: year, month: monthIndex + 1, day: day, hour: hour, minute: minute, second: second)
    }

    private static let dayNameBytes = dayNames.map { Array($0.utf8)[...] }
    private static let monthNameBytes = monthNames.map { Array($0.utf8)[...] }

    private static func number(_ digits: ArraySlice<UInt8>) -> Int? {
        ASCII.decimalValue(bytes: digits)
    }

    /// The obsolete RFC 850 and asctime forms.
    private static func parseObsolete(_ text: String) -> Int64? {
        let parts = text.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
        if parts.count == 4, parts[0].hasSuffix(","), longDayNames.contains(String(parts[0].dropLast())),
            parts[3] == "GMT"
        {
            // RFC 850: Sunday, 06-Nov-94 08:49:37 GMT (two-digit year: 70–99 → 19xx, else 20xx).
            let date = parts[1].split(separator: "-", omittingEmptySubsequences: false).map(String.init)
            guard date.count == 3, date[0].count == 2, date[2].count == 2, let day = ASCII.decimalValue(date[0]),
                let month = monthIndex(date[1]), let shortYear = ASCII.decimalValue(date[2])
            else { return nil }
            return make(
                year: shortYear >= 70 ? 1900 + shortYear : 2000 + shortYear,
                month: month,
                day: day,
                time: parts[2]
            )
        }
        // asctime: Sun Nov  6 08:49:37 1994 (day padded with a space).
        let fields = text.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        if fields.count == 5, dayNames.contains(fields[0]), let month = monthIndex(fields[1]),
            (1...2).contains(fields[2].count), let day = ASCII.decimalValue(fields[2]), fields[4].count == 4,
            let year = ASCII.decimalValue(fields[4])
        {
            return make(year: year, month: month, day: day, time: fields[3])
        }
        return nil
    }

    private static func monthIndex(_ name: String) -> Int? {
        monthNames.firstIndex(of: name).map { $0 + 1 }
    }

    private static func make(year: Int, month: Int, day: Int, time: String) -> Int64? {
        let hms = time.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard hms.count == 3, hms.allSatisfy({ $0.count == 2 }), let hour = ASCII.decimalValue(hms[0]),
            let minute = ASCII.decimalValue(hms[1]), let second = ASCII.decimalValue(hms[2])
        else { return nil }
        return make(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
    }

    private static func make(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int) -> Int64? {
        guard hour < 24, minute < 60, second < 61,  // 60: a leap second, as HTTP allows.
            day >= 1, day <= CivilDate.daysInMonth(year: year, month: month)
        else { return nil }
        let days = CivilDate.daysSince1970(year: year, month: month, day: day)
        return days * 86_400 + Int64(hour * 3600 + minute * 60 + second)
    }

    private static func pad2(_ value: Int) -> String {
        value < 10 ? "0\(value)" : "\(value)"
    }
}
