import EventStore
import VippsAPI
import VippsWebhooks

/// One run of `reconcile`: which payments to ask about, each reconciled in turn, one output line per payment and
/// a total. The same in the daemon (control socket) and in the command when no daemon runs.
struct ReconcileRun {
    /// The reconciler.
    let reconciler: Reconciler
    /// The payments seen.
    let payments: PaymentLedger
    /// The configuration (for the default MSN and endpoint).
    let configuration: DaemonConfiguration

    /// Runs `request`, giving each output line to `output`; returns whether every payment was reconciled.
    func run(_ request: ReconcileRequest, nowMillis: Int64, output: (String) -> Void) -> Bool {
        var targets: [(msn: String, reference: String, endpoint: String)] = []
        var failures = 0
        if request.references.isEmpty {
            let seen = payments.payments(since: nowMillis - request.sinceSeconds * 1000)
            for payment in seen where !payment.isFinal {
                targets.append((payment.msn, payment.reference, payment.endpoint))
            }
            output(
                "\(targets.count) unfinished payment\(targets.count == 1 ? "" : "s") seen in the last \(request.sinceSeconds) s"
            )
        } else {
            // One snapshot, not one per reference: each copies every payment under the lock the ingest path takes.
            let seen = Dictionary(grouping: payments.payments(since: 0), by: \.reference)
            for reference in request.references {
                let known = seen[reference] ?? []
                if !known.isEmpty {
                    // A payment the daemon saw keeps the endpoint it came in on (its routes pick the sinks, and its
                    // later webhooks arrive there); --endpoint and --msn are for references it never saw.
                    targets += known.map { ($0.msn, $0.reference, $0.endpoint) }
                    if let endpoint = request.endpoint, known.contains(where: { $0.endpoint != endpoint }) {
                        output("\(reference): seen on \(known[0].endpoint); --endpoint is for references not seen")
                    }
                    continue
                }
                guard let msn = request.msn ?? configuration.vippsAPI?.credentials.msn else {
                    output("\(reference): error: not seen by the daemon and no MSN known (give --msn or VIPPS_MSN)")
                    failures += 1
                    continue
                }
                guard let endpoint = request.endpoint ?? Self.defaultEndpoint(in: configuration) else {
                    output("\(reference): error: no endpoint routes ePayment events (give --endpoint PATH)")
                    failures += 1
                    continue
                }
                targets.append((msn, reference, endpoint))
            }
        }
        var added = 0
        for target in targets {
            let outcome = reconciler.reconcile(msn: target.msn, reference: target.reference, endpoint: target.endpoint)
            if outcome.error != nil { failures += 1 }
            added += outcome.added
            output(outcome.line)
        }
        output(
            "total: \(targets.count) payment\(targets.count == 1 ? "" : "s"), \(added) event\(added == 1 ? "" : "s") added, "
                + "\(failures) error\(failures == 1 ? "" : "s")"
        )
        return failures == 0
    }

    /// The first endpoint (in configuration order) with a route that sends ePayment events somewhere (matched on
    /// the type only: a route's `where` filters pick sinks per event, not the endpoint).
    static func defaultEndpoint(in configuration: DaemonConfiguration) -> String? {
        let type = EPaymentEvent.Name.captured.eventType
        return configuration.endpoints.first { endpoint in
            endpoint.routes.contains { route in !route.sinks.isEmpty && route.events.contains { $0.matches(type) } }
        }?.path
    }
}
