import HTTP1

/// The part of a ``PaymentState`` the ledger keeps per payment, packed for a table of tens of thousands: event
/// fingerprints (three inline, more in an array that stays unallocated for most payments), the sums that decide
/// finality, the two times, and the endpoint as an index into the ledger's table of endpoint paths. 80 bytes.
struct PaymentProgress: Sendable, Equatable {
    private var first: UInt64 = 0
    private var second: UInt64 = 0
    private var third: UInt64 = 0
    /// Fingerprints past the third.
    private var more: [UInt64] = []
    /// When the daemon stored the payment's latest event (milliseconds since 1970).
    var lastEventMillis: Int64
    /// When reconciliation last asked the vendor about it (0 = never).
    var lastCheckedMillis: Int64 = 0
    private var authorized: Int64 = 0
    private var captured: Int64 = 0
    private var refunded: Int64 = 0
    /// The endpoint its latest event arrived on, as the ledger numbers endpoint paths.
    var endpointIndex: UInt32
    /// Fingerprints held inline (0 to 3).
    private var inlineCount: UInt8 = 0
    private var ended = false

    /// Names after which nothing more happens to a payment.
    static let terminalNames: Set<String> = ["ABORTED", "EXPIRED", "CANCELLED", "TERMINATED"]

    /// A payment known from nothing yet.
    init(endpointIndex: UInt32, lastEventMillis: Int64) {
        self.endpointIndex = endpointIndex
        self.lastEventMillis = lastEventMillis
    }

    /// Whether the payment is final: aborted, expired, cancelled or terminated, or fully captured (captured ≥
    /// authorized) or fully refunded (refunded ≥ captured), counting successful events only.
    var isFinal: Bool {
        ended || (authorized > 0 && captured >= authorized) || (captured > 0 && refunded >= captured)
    }

    /// Events held.
    var eventCount: Int { Int(inlineCount) + more.count }

    /// Whether the event with `fingerprint` (``fingerprint(pspReference:name:)``) is held.
    func holds(_ fingerprint: UInt64) -> Bool {
        (inlineCount > 0 && first == fingerprint) || (inlineCount > 1 && second == fingerprint)
            || (inlineCount > 2 && third == fingerprint) || more.contains(fingerprint)
    }

    /// Adds `observation` (of this payment), which arrived on the endpoint numbered `endpointIndex`; an event
    /// already held changes nothing (as on disk, where only new events get a line). Returns whether it was new.
    mutating func add(_ observation: PaymentObservation, endpointIndex: UInt32) -> Bool {
        let event = Self.fingerprint(pspReference: observation.pspReference, name: observation.name)
        guard !holds(event) else { return false }
        lastEventMillis = max(lastEventMillis, observation.atMillis)
        self.endpointIndex = endpointIndex
        switch inlineCount {
        case 0: first = event
        case 1: second = event
        case 2: third = event
        default: more.append(event)
        }
        inlineCount = min(inlineCount + 1, 3)
        guard observation.success else { return true }
        let amount = observation.amount ?? 0
        switch observation.name {
        case "AUTHORIZED": authorized = max(authorized, amount)
        case "CAPTURED": captured = Self.sum(captured, amount)
        case "REFUNDED": refunded = Self.sum(refunded, amount)
        case let name where Self.terminalNames.contains(name): ended = true
        default: break
        }
        return true
    }

    /// FNV-1a (64 bits) of `pspReference`, a NUL and `name`: stable across restarts (the ledger is rebuilt from its
    /// file); two events of one payment share a fingerprint with a chance of about 2^-64.
    static func fingerprint(pspReference: String, name: String) -> UInt64 {
        let hash = fnv1a(pspReference, from: 0xcbf2_9ce4_8422_2325)
        return fnv1a(name, from: (hash ^ 0) &* 0x100_0000_01b3)
    }

    /// FNV-1a of `text`'s UTF-8 continuing from `hash`, over its contiguous bytes (walking a `String.UTF8View` costs
    /// far more per byte).
    private static func fnv1a(_ text: String, from hash: UInt64) -> UInt64 {
        text.withUTF8Bytes { $0.reduce(hash) { ($0 ^ UInt64($1)) &* 0x100_0000_01b3 } }
    }

    /// `total + amount`, saturating: amounts come from event bodies, and a trap here would recur on every start
    /// (the ledger replays its lines on open).
    private static func sum(_ total: Int64, _ amount: Int64) -> Int64 {
        let (result, overflow) = total.addingReportingOverflow(amount)
        return overflow ? (amount > 0 ? .max : .min) : result
    }
}
