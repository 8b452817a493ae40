import Testing

@testable import EventStore

@Suite struct LogThrottleTests {
    @Test("one line per interval; the next line written gives how many were left out")
    func oneLinePerInterval() {
        var throttle = LogThrottle(interval: .seconds(1))
        let start = ContinuousClock.now
        #expect(throttle.admit(at: start) == 0)
        for step in 1...999 { #expect(throttle.admit(at: start + .milliseconds(step)) == nil) }
        #expect(throttle.admit(at: start + .milliseconds(1000)) == 999)
        #expect(throttle.admit(at: start + .milliseconds(1500)) == nil)
        #expect(throttle.admit(at: start + .milliseconds(5000)) == 1)
        #expect(throttle.admit(at: start + .milliseconds(6000)) == 0)
    }
}
