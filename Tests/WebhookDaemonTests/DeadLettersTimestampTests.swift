import Testing

@testable import WebhookDaemon

/// `dead-letters list` prints times with the one RFC 3339 formatter (VippsWebhooks' `EventTimestamp`).
@Suite struct DeadLettersTimestampTests {
    @Test func wholeSecondsInUTC() {
        typealias List = DeadLettersCommand.List
        #expect(List.timestamp(0) == "1970-01-01T00:00:00Z")
        #expect(List.timestamp(1_748_712_563_358) == "2025-05-31T17:29:23Z")
        // Leap day, and a time before 1970 rounds down to its second.
        #expect(List.timestamp(951_782_400_999) == "2000-02-29T00:00:00Z")
        #expect(List.timestamp(-1) == "1969-12-31T23:59:59Z")
    }
}
