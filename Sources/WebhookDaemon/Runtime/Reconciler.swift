import Dispatch
import EventStore
import Logging
import Metrics
import POSIX
import VippsAPI
import VippsWebhooks

/// Reconciliation of ePayment payments against the vendor's event log: every entry of a payment's log that the
/// daemon does not hold is journaled (fsync) exactly like a webhook — same identity (the business key), routes of the
/// payment's endpoint, `source: reconciliation` — and handed to the dispatcher when there is one (else delivered
/// when the daemon next starts, from the journal).
///
/// Never runs on the ingest path: callers run it on their own thread or queue; one payment at a time.
final class Reconciler: Sendable {
    /// What reconciling one payment did.
    struct Outcome: Sendable, Equatable {
        /// The payment.
        var msn: String
        /// The payment.
        var reference: String
        /// Events journaled now.
        var added: Int = 0
        /// Entries of the vendor's log the daemon already held.
        var held: Int = 0
        /// Entries left alone: malformed, or from before this version took the state directory over.
        var skipped: [String] = []
        /// Why the payment could not be reconciled (an API or storage error); nothing more was journaled.
        var error: String?

        /// One line: `REF (msn M): 2 events added, 1 held` or `REF (msn M): error: …`.
        var line: String {
            var text = "\(reference) (msn \(msn)): "
            if let error { return text + "error: \(error)" }
            text += "\(added) event\(added == 1 ? "" : "s") added, \(held) held"
            if !skipped.isEmpty { text += ", \(skipped.count) skipped (\(skippedReasons))" }
            return text
        }

        /// Reasons shown for entries left alone: the first ``shownReasons``, then how many more (a hostile log of
        /// thousands of malformed entries would make one line of megabytes).
        var skippedReasons: String {
            let shown = skipped.prefix(Self.shownReasons).joined(separator: "; ")
            return skipped.count > Self.shownReasons ? shown + "; and \(skipped.count - Self.shownReasons) more" : shown
        }

        static let shownReasons = 10
    }

    private let client: EPaymentClient

    /// Requests sent to the vendor's API so far, retries and token requests included.
    var apiRequests: Int { client.requests }
    private let store: EventStore
    private let payments: PaymentLedger
    private let endpoints: EndpointTableBox
    private let deliver: (@Sendable (StoredEvent, DecodedEvent, [String]) -> Void)?
    private let logger: Logger
    private let checks = Counter(label: "vipps_webhookd_reconcile_checks_total")
    private let added = Counter(label: "vipps_webhookd_reconcile_events_added_total")
    private let apiErrors = Counter(label: "vipps_webhookd_reconcile_api_errors_total")
    /// Payments left unfinished for another reason than the API: an endpoint not configured, a journal write.
    private let otherErrors = Counter(label: "vipps_webhookd_reconcile_errors_total")

    /// Creates a reconciler.
    /// - Parameters:
    ///   - deliver: hands a journaled event to its sinks (the daemon's dispatcher); nil when nothing delivers now.
    init(
        client: EPaymentClient,
        store: EventStore,
        payments: PaymentLedger,
        endpoints: EndpointTableBox,
        deliver: (@Sendable (StoredEvent, DecodedEvent, [String]) -> Void)?,
        logger: Logger
    ) {
        self.client = client
        self.store = store
        self.payments = payments
        self.endpoints = endpoints
        self.deliver = deliver
        self.logger = logger
        for counter in [checks, added, apiErrors, otherErrors] { counter.increment(by: 0) }
    }

    /// Reconciles payment `reference` of merchant `msn`, routing new events through `endpoint`.
    func reconcile(msn: String, reference: String, endpoint: String) -> Outcome {
        checks.increment()
        var outcome = Outcome(msn: msn, reference: reference)
        defer {
            payments.markChecked(msn: msn, reference: reference, atMillis: Self.nowMillis())
            log(outcome)
        }
        let log: (entries: [EPaymentLogEntry], skipped: [String])
        do {
            log = try client.events(reference: reference, msn: msn)
        } catch {
            apiErrors.increment()
            outcome.error = error.description
            return outcome
        }
        outcome.skipped = log.skipped
        // An endpoint no longer (or never) configured would journal the events with no sink: held, yet never
        // delivered, and the real webhook later a duplicate.
        guard let router = endpoints.current.entries[endpoint]?.router else {
            otherErrors.increment()
            outcome.error = "endpoint \(endpoint) is not configured; nothing journaled"
            return outcome
        }
        // The vendor's timestamps and our receive times come from two clocks: every edge below keeps a margin, so
        // an entry near one is left alone rather than possibly delivered twice.
        let margin = Self.clockMarginMillis
        let rememberedSince = Self.nowMillis() - store.dedupRetentionMillis + margin
        // What the ledger holds of this payment, read once (a read copies under the lock the ingest path records
        // under); an entry that this loop journals is a duplicate to the store if the log lists it again.
        let known = payments.payment(msn: msn, reference: reference)
        for entry in log.entries {
            let what = "\(entry.name.rawValue) \(entry.pspReference)"
            guard let timestamp = entry.timestampMillis else {
                outcome.skipped.append("\(what) has no valid timestamp")
                continue
            }
            // Older than the dedup retention: the daemon may have received it and forgotten its id.
            guard timestamp >= rememberedSince else {
                outcome.skipped.append(
                    "\(what) is older than the \(store.dedupRetentionMillis / 86_400_000)-day dedup window"
                )
                continue
            }
            if let upgraded = store.upgradedAtMillis, timestamp < upgraded + margin {
                outcome.skipped.append("\(what) is from before the upgrade")
                continue
            }
            if known?.holds(pspReference: entry.pspReference, name: entry.name.rawValue) == true {
                outcome.held += 1
                continue
            }
            // The dedup index dropped ids for room (dedup_max_ids): an event this old may be held and forgotten.
            if let dropped = store.dedupDroppedThroughMillis, timestamp <= dropped + margin {
                outcome.skipped.append("\(what) is older than ids the full dedup index dropped (dedup_max_ids)")
                continue
            }
            let body = entry.body(msn: msn)
            let decoded = DecodedEvent.decode(body: body)
            let sinks = router.sinks(for: decoded)
            let now = Self.nowMillis()
            switch accept(body: body, decoded: decoded, endpoint: endpoint, sinks: sinks, now: now) {
            case .stored(let event):
                added.increment()
                outcome.added += 1
                deliver?(event, decoded, sinks)
            case .duplicate:
                outcome.held += 1
            case .failed(let error):
                otherErrors.increment()
                outcome.error = "cannot journal \(entry.name.rawValue) \(entry.pspReference): \(error)"
                return outcome
            }
            if let observation = PaymentObservation(decoded, endpoint: endpoint, atMillis: now) {
                payments.record(observation)
            }
        }
        return outcome
    }

    /// Journals one event and waits for the store's answer.
    private func accept(
        body: [UInt8],
        decoded: DecodedEvent,
        endpoint: String,
        sinks: [String],
        now: Int64
    ) -> AcceptOutcome {
        let done = DispatchSemaphore(value: 0)
        let result = ResultBox()
        store.accept(
            id: EventIdentity.id(body: body, decoded: decoded),
            source: .reconciliation,
            type: decoded.type,
            endpoint: endpoint,
            receivedAtMillis: now,
            body: body,
            sinks: sinks
        ) { outcome in
            result.value = outcome
            done.signal()
        }
        done.wait()
        return result.value ?? .failed(StorageError(.unavailable, call: "accept", detail: "no answer"))
    }

    private func log(_ outcome: Outcome) {
        var metadata: Logger.Metadata = [
            "msn": "\(outcome.msn)", "reference": "\(LogText.escaped(outcome.reference))",
            "added": "\(outcome.added)", "held": "\(outcome.held)",
        ]
        if !outcome.skipped.isEmpty {
            metadata["skipped"] = "\(LogText.escaped(outcome.skippedReasons))"
        }
        if let error = outcome.error {
            metadata["error"] = "\(LogText.escaped(error))"
            logger.error("reconciliation failed", metadata: metadata)
        } else if outcome.added > 0 {
            logger.notice("reconciliation added events the webhooks never brought", metadata: metadata)
        } else {
            logger.info("reconciliation", metadata: metadata)
        }
    }

    /// Margin for the difference between the vendor's clock and ours at the dedup-window, upgrade and dropped-id
    /// edges: 10 minutes, twice the default `clock_skew_seconds`.
    static let clockMarginMillis: Int64 = 600_000

    static func nowMillis() -> Int64 { currentEpochMilliseconds() }

    /// The store's answer, handed from its queue to the waiting caller.
    private final class ResultBox: @unchecked Sendable {
        var value: AcceptOutcome?
    }
}
