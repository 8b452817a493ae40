import Glibc

/// Keeps a long loop on one thread (the payment ledger's rewrite) to a share of one CPU: after each slice of the
/// thread's own CPU time (5 ms), ``pace(unlessHurried:)`` sleeps long enough that the slice is that share of the time
/// since the previous one, at most 100 ms at a time. Time the thread waited for a CPU does not count as work.
struct RewritePacer {
    /// CPU time of work between pauses.
    static let sliceNanoseconds: Int64 = 5_000_000
    /// Longest single pause.
    static let longestPauseNanoseconds: Int64 = 100_000_000

    private let cpuShare: Double
    private let cpuClock: () -> Int64
    private let sleep: (Int64) -> Void
    private var sliceStart: Int64

    /// A pacer to `cpuShare` (0 < share ≤ 1; 1 never pauses) of one CPU, by the calling thread's CPU clock. `cpuClock`
    /// and `sleep` (nanoseconds) are for tests.
    init(
        cpuShare: Double,
        cpuClock: @escaping () -> Int64 = RewritePacer.threadCPUNanoseconds,
        sleep: @escaping (Int64) -> Void = RewritePacer.sleep(nanoseconds:)
    ) {
        self.cpuShare = cpuShare
        self.cpuClock = cpuClock
        self.sleep = sleep
        sliceStart = cpuClock()
    }

    /// Called between steps of the loop: pauses when a slice of work is done, unless `hurried` (someone waits for the
    /// loop to end), and starts the next slice.
    mutating func pace(unlessHurried hurried: Bool) {
        guard cpuShare < 1 else { return }
        let worked = cpuClock() - sliceStart
        guard worked >= Self.sliceNanoseconds else { return }
        if !hurried {
            sleep(min(Int64(Double(worked) * (1 - cpuShare) / cpuShare), Self.longestPauseNanoseconds))
        }
        sliceStart = cpuClock()
    }

    /// The calling thread's CPU time (CLOCK_THREAD_CPUTIME_ID), in nanoseconds.
    static func threadCPUNanoseconds() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
        return Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec)
    }

    private static func sleep(nanoseconds: Int64) {
        var request = timespec(tv_sec: Int(nanoseconds / 1_000_000_000), tv_nsec: Int(nanoseconds % 1_000_000_000))
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
    }
}
