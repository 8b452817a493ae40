import POSIX

/// Tunables of an ``EventStore``; the defaults suit the daemon.
public struct EventStoreOptions: Sendable {
    /// Journal segment size; a new segment starts when a batch would cross it. Default 16 MiB.
    public var segmentSize: UInt64 = 16 << 20
    /// Pre-fill segments with zeros (cheaper `fdatasync` per batch). The next segment is prepared in the background;
    /// a rotation that finds none ready starts a plain segment instead of waiting.
    public var preallocateSegments = true
    /// Most event ids remembered for deduplication; the oldest are dropped beyond. Default 2,000,000.
    public var dedupCapacity = 2_000_000
    /// How long an accepted id is remembered (the vendor's retry horizon). Default 7 days.
    public var dedupRetentionSeconds: Int64 = 7 * 24 * 3600
    /// Most accept/mark requests waiting for the next batch; beyond, requests fail at once (the daemon answers 503).
    public var maxQueuedRequests = 10_000
    /// Current time in milliseconds since 1970 (for dedup retention); injectable for tests.
    public var now: @Sendable () -> Int64 = { currentEpochMilliseconds() }
    /// Where copies of journal segments with damaged records are set aside; nil for `<directory>/corrupt`. Kept
    /// out of reach of segment retirement.
    public var asideDirectory: String?
    /// Failure injection for tests; nil in production.
    public var faults: SyscallFaults?

    /// Default options.
    public init() {}
}
