/// What the daemon knows of one ePayment payment (merchant serial number and reference): the events it holds and
/// whether, as far as they show, nothing more can happen to it.
public struct PaymentState: Sendable, Equatable {
    /// `msn`.
    public var msn: String
    /// `reference`.
    public var reference: String
    /// The endpoint its latest event arrived on (reconciliation routes through it).
    public var endpoint: String
    /// A 64-bit fingerprint of `pspReference` and `name` of every event held (a payment has a handful; 8 bytes
    /// each instead of a set of strings, so a hundred thousand payments stay small).
    private var events: [UInt64] = []
    /// When the daemon stored the payment's latest event (milliseconds since 1970).
    public var lastEventMillis: Int64
    /// When reconciliation last asked the vendor about it (0 = never).
    public var lastCheckedMillis: Int64 = 0
    private var authorized: Int64 = 0
    private var captured: Int64 = 0
    private var refunded: Int64 = 0
    private var ended = false

    /// Names after which nothing more happens to a payment.
    static let terminalNames: Set<String> = ["ABORTED", "EXPIRED", "CANCELLED", "TERMINATED"]

    /// A payment known from nothing yet.
    init(msn: String, reference: String, endpoint: String, lastEventMillis: Int64) {
        self.msn = msn
        self.reference = reference
        self.endpoint = endpoint
        self.lastEventMillis = lastEventMillis
    }

    /// Whether the payment is final: aborted, expired, cancelled or terminated, or fully captured (captured ≥
    /// authorized) or fully refunded (refunded ≥ captured), counting successful events only.
    public var isFinal: Bool {
        ended || (authorized > 0 && captured >= authorized) || (captured > 0 && refunded >= captured)
    }

    /// Adds `observation` (of this payment); an event already held changes nothing. Returns whether it was new.
    @discardableResult
    mutating func add(_ observation: PaymentObservation) -> Bool {
        lastEventMillis = max(lastEventMillis, observation.atMillis)
        endpoint = observation.endpoint
        let event = Self.fingerprint(pspReference: observation.pspReference, name: observation.name)
        guard !events.contains(event) else { return false }
        events.append(event)
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

    /// Events held.
    public var eventCount: Int { events.count }

    /// Whether the event `pspReference`/`name` is held.
    public func holds(pspReference: String, name: String) -> Bool {
        events.contains(Self.fingerprint(pspReference: pspReference, name: name))
    }

    /// FNV-1a (64 bits) of `pspReference`, a NUL and `name`: stable across restarts (the ledger is rebuilt from its
    /// file); two events of one payment share a fingerprint with a chance of about 2^-64.
    static func fingerprint(pspReference: String, name: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in pspReference.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        hash = (hash ^ 0) &* 0x100_0000_01b3
        for byte in name.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return hash
    }

    /// `total + amount`, saturating: amounts come from event bodies, and a trap here would recur on every start
    /// (the ledger replays its lines on open).
    private static func sum(_ total: Int64, _ amount: Int64) -> Int64 {
        let (result, overflow) = total.addingReportingOverflow(amount)
        return overflow ? (amount > 0 ? .max : .min) : result
    }
}
