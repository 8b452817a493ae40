import Testing

@testable import Delivery

@Suite("dead-letter write retries")
struct DeadLetterRetryDelayTests {
    @Test("a dead letter that could not be written is tried again after 1 s, doubling up to a minute")
    func delaysDoubleUpToAMinute() {
        let delays = (1...9).map { ExecDispatcher.deadLetterRetryDelay(afterFailures: $0) }
        #expect(delays == [1, 2, 4, 8, 16, 32, 60, 60, 60].map { Duration.seconds($0) })
    }
}
