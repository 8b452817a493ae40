import Delivery
import Testing

@Suite("RetryPolicy")
struct RetryPolicyTests {
    @Test("delays grow exponentially up to the cap and stop after maxAttempts")
    func exponentialWithCap() {
        let policy = RetryPolicy(
            maxAttempts: 12,
            baseDelay: .seconds(1),
            factor: 2,
            maxDelay: .seconds(300),
            jitter: .none
        )
        let delays = (1..<12).map { policy.delay(afterFailedAttempt: $0, random: 0.5) }
        #expect(Array(delays.prefix(9)) == [1, 2, 4, 8, 16, 32, 64, 128, 256].map { Duration?.some(.seconds($0)) })
        #expect(delays[9] == .seconds(300))
        #expect(delays[10] == .seconds(300))
        #expect(policy.delay(afterFailedAttempt: 12, random: 0.5) == nil)
        #expect(RetryPolicy(maxAttempts: 1).delay(afterFailedAttempt: 1, random: 0) == nil)
        #expect(RetryPolicy(maxAttempts: 0).maxAttempts == 1)
    }

    @Test("jitter stays within its range and follows the injected draw")
    func jitterRanges() throws {
        let full = RetryPolicy(maxAttempts: 5, baseDelay: .seconds(4), jitter: .full)
        #expect(full.delay(afterFailedAttempt: 1, random: 0) == .zero)
        #expect(full.delay(afterFailedAttempt: 1, random: 0.25) == .seconds(1))
        let equal = RetryPolicy(maxAttempts: 5, baseDelay: .seconds(4), jitter: .equal)
        #expect(equal.delay(afterFailedAttempt: 1, random: 0) == .seconds(2))
        #expect(equal.delay(afterFailedAttempt: 2, random: 0.5) == .seconds(6))

        var generator = SystemRandomNumberGenerator()
        for attempt in 1..<5 {
            let delay = try #require(equal.delay(afterFailedAttempt: attempt, using: &generator))
            let top = Duration.seconds(4 << (attempt - 1))
            #expect(delay >= top / 2 && delay <= top)
        }
    }
}
