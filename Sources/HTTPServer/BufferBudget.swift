/// The bytes an event loop may hold for requests it has not answered yet (received head bytes, parsed heads, body
/// pieces), and the choice of the request to cut when they run out. A value type without I/O; each `ConnectionLoop`
/// owns one, with its share of `HTTPServerConfiguration.maxBufferedBytes`.
///
/// Connections report what they hold with `recharge(from:to:)`. A read may take at most `readAllowance`; when that
/// is 0 the loop cuts the request `victim(among:)` names, or, when nothing can be cut, lets the read wait until bytes
/// are released. A read can overshoot the limit by what it was allowed plus allocator rounding; the next read then
/// finds no room.
struct BufferBudget: Sendable, Equatable {
    /// A request that may be cut to make room.
    struct Candidate: Equatable {
        /// Which connection (as the loop knows it).
        var id: ObjectIdentifier
        /// When the request's first byte arrived (monotonic nanoseconds).
        var startedAt: UInt64
        /// Bytes it holds.
        var heldBytes: Int
    }

    /// Bytes this budget allows.
    let limit: Int
    /// The least a read is allowed: below it a read waits (or a request is cut), so that a nearly full budget does
    /// not turn into a stream of tiny reads.
    let minimumRead: Int
    /// Bytes charged now.
    private(set) var used = 0

    /// - Parameters:
    ///   - limit: bytes allowed (at least 1).
    ///   - minimumRead: the smallest read worth making; capped at `limit`.
    init(limit: Int, minimumRead: Int = 4096) {
        self.limit = max(1, limit)
        self.minimumRead = max(1, min(minimumRead, self.limit))
    }

    /// Bytes still free (0 when the budget is used up or overshot).
    var room: Int { max(0, limit - used) }

    /// Moves a holder's charge from `old` to `new` bytes.
    mutating func recharge(from old: Int, to new: Int) {
        used += new - old
        precondition(used >= 0, "buffer budget released more than was charged")
    }

    /// How many bytes the next read may take, at most `readSize`: 0 when less than `minimumRead` is free.
    func readAllowance(readSize: Int) -> Int {
        let room = room
        return room >= minimumRead ? min(room, readSize) : 0
    }

    /// The request to cut when the budget is used up: among those holding bytes, the one that started first (the
    /// one holding more on a tie); nil when none holds anything.
    static func victim(among candidates: some Sequence<Candidate>) -> ObjectIdentifier? {
        var best: Candidate?
        for candidate in candidates where candidate.heldBytes > 0 {
            guard let current = best else {
                best = candidate
                continue
            }
            if candidate.startedAt < current.startedAt
                || (candidate.startedAt == current.startedAt && candidate.heldBytes > current.heldBytes)
            {
                best = candidate
            }
        }
        return best?.id
    }
}
