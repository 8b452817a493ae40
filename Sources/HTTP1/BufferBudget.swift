/// The bytes an event loop may hold for requests it has not answered yet (received head bytes, parsed heads, body
/// pieces), and the choice of the requests to cut when they run out. A value type without I/O; each `ConnectionLoop`
/// owns one, with its share of `HTTPServerConfiguration.maxBufferedBytes`.
///
/// Connections report what they hold with `recharge(from:to:)`. A read may take at most `readAllowance`; when that
/// is 0 the loop cuts the requests `selectVictims(_:now:)` names, or, when nothing can be cut, lets the read wait
/// until bytes are released. A read can overshoot the limit by what it was allowed plus allocator rounding; the next
/// read then finds no room.
public struct BufferBudget: Sendable, Equatable {
    /// A request that may be cut to make room: one not handed to the handler yet.
    public struct Candidate: Equatable, Sendable {
        /// Which connection (as the loop knows it).
        public var id: ObjectIdentifier
        /// Bytes it holds.
        public var heldBytes: Int
        /// Whether its head is still incomplete.
        public var inHead: Bool
        /// When it last received a byte (monotonic nanoseconds).
        public var lastProgressAt: UInt64

        /// A candidate holding `heldBytes`, its head complete or not, last fed at `lastProgressAt`.
        public init(id: ObjectIdentifier, heldBytes: Int, inHead: Bool, lastProgressAt: UInt64) {
            self.id = id
            self.heldBytes = heldBytes
            self.inHead = inHead
            self.lastProgressAt = lastProgressAt
        }
    }

    /// How long without a byte makes a request's cost grow by its held bytes once more (at most `maxStallSteps`).
    public static let stallStepNanoseconds: UInt64 = 1_000_000_000
    /// The most a stall multiplies a request's cost by, beyond 1.
    public static let maxStallSteps: UInt64 = 3

    /// Bytes this budget allows.
    public let limit: Int
    /// The least a read is allowed: below it a read waits (or a request is cut), so that a nearly full budget does
    /// not turn into a stream of tiny reads.
    public let minimumRead: Int
    /// Bytes charged now.
    public private(set) var used = 0

    /// - Parameters:
    ///   - limit: bytes allowed (at least 1).
    ///   - minimumRead: the smallest read worth making; capped at `limit`.
    public init(limit: Int, minimumRead: Int = 4096) {
        self.limit = max(1, limit)
        self.minimumRead = max(1, min(minimumRead, self.limit))
    }

    /// Bytes still free (0 when the budget is used up or overshot).
    public var room: Int { max(0, limit - used) }

    /// Bytes one round of cuts frees at least (when that many can be cut): a sixteenth of the limit, so that a flood
    /// costs one scan of the connections per many cuts rather than one per read.
    public var bytesToFreePerCut: Int { max(minimumRead, limit / 16) }

    /// Moves a holder's charge from `old` to `new` bytes.
    public mutating func recharge(from old: Int, to new: Int) {
        used += new - old
        precondition(used >= 0, "buffer budget released more than was charged")
    }

    /// How many bytes the next read may take, at most `readSize`: 0 when less than `minimumRead` is free.
    public func readAllowance(readSize: Int) -> Int {
        let room = room
        return room >= minimumRead ? min(room, readSize) : 0
    }

    /// What keeping `candidate` costs, in weighted bytes: its held bytes, doubled while its head is incomplete (a
    /// real client's head is small and quick; a big slow one is the cheapest way to hold memory), and multiplied by
    /// 1 plus the time since its last byte in `stallStepNanoseconds` (at most 1 + `maxStallSteps`). Age alone counts
    /// for nothing: a flood's requests are always newer than the authentic one they would crowd out.
    public static func cost(of candidate: Candidate, now: UInt64) -> Int {
        let stalled = now > candidate.lastProgressAt ? now - candidate.lastProgressAt : 0
        // Fixed point in 1/1024 steps, so that a stall of a fraction of a step already counts.
        let stallWeight = 1024 + Int(min(stalled / (stallStepNanoseconds / 1024), maxStallSteps * 1024))
        return candidate.heldBytes * (candidate.inHead ? 2 : 1) * stallWeight
    }

    /// Orders `candidates` so that the requests to cut come first, and returns how many to cut: those of highest
    /// cost (`cost(of:now:)`) until together they hold `bytesToFreePerCut`, at least one when any holds bytes.
    /// Candidates holding nothing are never chosen (cutting them frees nothing).
    public func selectVictims(_ candidates: inout [Candidate], now: UInt64) -> Int {
        candidates.removeAll { $0.heldBytes <= 0 }
        candidates.sort { Self.cost(of: $0, now: now) > Self.cost(of: $1, now: now) }
        var freed = 0
        var count = 0
        while count < candidates.count && freed < bytesToFreePerCut {
            freed += candidates[count].heldBytes
            count += 1
        }
        return count
    }
}
