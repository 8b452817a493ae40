import Foundation
import Testing
import VippsWebhooks

@Suite("Event timestamps")
struct EventTimestampTests {
    @Test(arguments: [
        ("1970-01-01T00:00:00Z", Int64(0)),
        ("2025-05-31T17:29:23.358Z", 1_748_712_563_358),
        ("2025-05-31T19:29:23.358+02:00", 1_748_712_563_358),
        ("2025-05-31t17:29:23.3z", 1_748_712_563_300),
        ("2023-05-09T11:37:04.6313913Z", 1_683_632_224_631),
        ("2024-02-29T23:59:59.123456789-00:30", 1_709_252_999_123),
        ("1969-12-31T23:59:59.999Z", -1),
    ])
    func parses(_ text: String, _ millis: Int64) {
        #expect(EventTimestamp.millisecondsSinceEpoch(text) == millis)
    }

    @Test(arguments: [
        "", "2025-05-31", "2025-13-01T00:00:00Z", "2023-02-29T00:00:00Z", "2025-04-31T00:00:00Z",
        "2025-05-31T17:60:00Z", "2025-05-31T17:29:23", "2025-05-31T17:29:23.1234567890Z", "2025-05-31T17:29:23+0200",
        "2025-05-31T17:29:23Z ", "2025-5-31T17:29:23Z",
    ])
    func rejects(_ text: String) {
        #expect(EventTimestamp.millisecondsSinceEpoch(text) == nil)
    }

    @Test("every fraction width 0-9, years before 1970 and past 9999, and the byte form equal to the text form")
    func formatsEveryWidth() {
        let millis: Int64 = 1_748_712_563_058
        let expected = [
            "2025-05-31T17:29:23Z", "2025-05-31T17:29:23.0Z", "2025-05-31T17:29:23.05Z", "2025-05-31T17:29:23.058Z",
            "2025-05-31T17:29:23.0580Z", "2025-05-31T17:29:23.05800Z", "2025-05-31T17:29:23.058000Z",
            "2025-05-31T17:29:23.0580000Z", "2025-05-31T17:29:23.05800000Z", "2025-05-31T17:29:23.058000000Z",
        ]
        for (digits, text) in expected.enumerated() {
            #expect(EventTimestamp.format(millisecondsSinceEpoch: millis, fractionDigits: digits) == text)
            var bytes = Array("prefix ".utf8)
            EventTimestamp.append(millisecondsSinceEpoch: millis, fractionDigits: digits, to: &bytes)
            #expect(bytes == Array("prefix \(text)".utf8))
        }
        #expect(EventTimestamp.format(millisecondsSinceEpoch: millis, fractionDigits: 12).hasSuffix(".058000000Z"))
        #expect(EventTimestamp.format(millisecondsSinceEpoch: -62_135_596_800_000) == "0001-01-01T00:00:00.000Z")
        #expect(EventTimestamp.format(millisecondsSinceEpoch: 253_402_300_800_000) == "10000-01-01T00:00:00.000Z")
        #expect(EventTimestamp.format(millisecondsSinceEpoch: -86_400_001) == "1969-12-30T23:59:59.999Z")
    }

    @Test("random instants from 1583 to 9999 agree with Foundation's ISO 8601 formatter, and parse back")
    func agreesWithFoundation() {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        formatter.timeZone = TimeZone(identifier: "UTC")
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            // From 1583: Foundation's calendar is Julian before October 1582; RFC 3339 is proleptic Gregorian.
            let millis = Int64.random(in: -12_212_553_600_000..<253_402_300_800_000, using: &generator)
            let text = EventTimestamp.format(millisecondsSinceEpoch: millis)
            let date = Date(timeIntervalSince1970: Double(millis) / 1000)
            #expect(text == formatter.string(from: date), "\(millis)")
            #expect(EventTimestamp.millisecondsSinceEpoch(text) == millis)
        }
    }

    @Test func formatsAndRoundTrips() {
        #expect(EventTimestamp.format(millisecondsSinceEpoch: 1_748_712_563_358) == "2025-05-31T17:29:23.358Z")
        #expect(
            EventTimestamp.format(millisecondsSinceEpoch: 1_748_712_563_358, fractionDigits: 0)
                == "2025-05-31T17:29:23Z"
        )
        #expect(
            EventTimestamp.format(millisecondsSinceEpoch: 1_683_632_224_631, fractionDigits: 7)
                == "2023-05-09T11:37:04.6310000Z"
        )
        #expect(EventTimestamp.format(millisecondsSinceEpoch: -1) == "1969-12-31T23:59:59.999Z")
        for millis: Int64 in [0, 951_782_400_000, 4_102_444_800_000, 1_709_251_199_999, 86_399_999] {
            #expect(
                EventTimestamp.millisecondsSinceEpoch(EventTimestamp.format(millisecondsSinceEpoch: millis)) == millis
            )
        }
    }
}
