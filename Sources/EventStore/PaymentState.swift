/// What the daemon knows of one ePayment payment (merchant serial number and reference): the events it holds and
/// whether, as far as they show, nothing more can happen to it. A copy taken from the ledger, which keeps a packed
/// ``PaymentProgress`` per payment.
public struct PaymentState: Sendable, Equatable {
    /// `msn`.
    public let msn: String
    /// `reference`.
    public let reference: String
    /// The endpoint its latest event arrived on (reconciliation routes through it).
    public let endpoint: String
    private let progress: PaymentProgress

    /// The payment as the ledger keeps it, with its endpoint index resolved to `endpoint`.
    init(msn: String, reference: String, endpoint: String, progress: PaymentProgress) {
        self.msn = msn
        self.reference = reference
        self.endpoint = endpoint
        self.progress = progress
    }

    /// When the daemon stored the payment's latest event (milliseconds since 1970).
    public var lastEventMillis: Int64 { progress.lastEventMillis }

    /// When reconciliation last asked the vendor about it (0 = never).
    public var lastCheckedMillis: Int64 { progress.lastCheckedMillis }

    /// Whether the payment is final: aborted, expired, cancelled or terminated, or fully captured (captured ≥
    /// authorized) or fully refunded (refunded ≥ captured), counting successful events only.
    public var isFinal: Bool { progress.isFinal }

    /// Events held.
    public var eventCount: Int { progress.eventCount }

    /// Whether the event `pspReference`/`name` is held.
    public func holds(pspReference: String, name: String) -> Bool {
        progress.holds(PaymentProgress.fingerprint(pspReference: pspReference, name: name))
    }
}
