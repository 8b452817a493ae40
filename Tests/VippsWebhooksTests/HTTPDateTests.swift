import Testing

@testable import VippsWebhooks

@Suite("HTTP-date")
struct HTTPDateTests {
    @Test("known dates parse to their epoch seconds and format back")
    func knownDates() {
        let cases: [(String, Int64)] = [
            ("Thu, 01 Jan 1970 00:00:00 GMT", 0),
            ("Sun, 06 Nov 1994 08:49:37 GMT", 784_111_777),
            ("Thu, 30 Mar 2023 08:38:32 GMT", 1_680_165_512),
            ("Mon, 31 Mar 2025 10:15:00 GMT", 1_743_416_100),
            ("Thu, 29 Feb 2024 23:59:59 GMT", 1_709_251_199),
            ("Sun, 22 Nov 2026 19:00:00 GMT", 1_795_374_000),
        ]
        for (text, seconds) in cases {
            #expect(HTTPDate.parse(text) == seconds, "\(text)")
            #expect(HTTPDate.format(secondsSince1970: seconds) == text)
        }
    }

    @Test("obsolete RFC 850 and asctime forms are accepted")
    func obsoleteForms() {
        #expect(HTTPDate.parse("Sunday, 06-Nov-94 08:49:37 GMT") == 784_111_777)
        #expect(HTTPDate.parse("Sun Nov  6 08:49:37 1994") == 784_111_777)
    }

    @Test("format and parse agree over a wide range of days")
    func roundTrip() {
        var seconds: Int64 = -86_400 * 365 * 2
        while seconds < 86_400 * 365 * 200 {
            let text = HTTPDate.format(secondsSince1970: seconds)
            #expect(HTTPDate.parse(text) == seconds, "\(text)")
            seconds += 86_400 * 17 + 3_607
        }
    }

    @Test(
        "invalid dates are rejected",
        arguments: [
            "", "yesterday", "Thu, 30 Mar 2023 08:38:32", "Thu, 30 Mar 2023 08:38:32 UTC",
            "Thu, 30 Mar 2023 8:38:32 GMT",
            "Thu, 31 Apr 2023 08:38:32 GMT", "Thu, 29 Feb 2023 08:38:32 GMT", "Thu, 30 Foo 2023 08:38:32 GMT",
            "Thu, 30 Mar 2023 24:00:00 GMT", "Thu,  30 Mar 2023 08:38:32 GMT", "Xyz, 30 Mar 2023 08:38:32 GMT",
            "Thu, 3 Mar 2023 08:38:32 GMT", "Thu, 30 Mar 23 08:38:32 GMT", "Thu, 30 Mar 2023 08:38:-2 GMT",
            "Thu, +1 Mar 2023 08:38:32 GMT",
        ]
    )
    func invalid(text: String) {
        #expect(HTTPDate.parse(text) == nil)
    }
}
