import VippsAPI
import VippsWebhooks

/// Holds one endpoint of the configuration against the merchant's registrations (pure; no I/O).
///
/// A registration belongs to the endpoint when its URL gives the endpoint's signed target (host and path+query, as
/// the signature covers them); several registrations for one URL (a secret rotation) count together. Event types are
/// compared with the routes' patterns:
/// - a registered type is *routed* when some route pattern matches it;
/// - a route pattern without `*` or `?` is *registered* when that very type is; a glob is registered when at least
///   one registered type matches it; `unknown` needs no registration (it selects types nobody can register).
enum RegistrationCheck {
    /// What the check found for one endpoint.
    enum Outcome: Equatable, Sendable {
        /// Registered, for exactly the routed event types.
        case ok
        /// No registration for the endpoint's signed URL; `elsewhere` lists registered URLs with the same path on
        /// another host (a likely typo or an old host name).
        case missing(elsewhere: [String])
        /// Registered, but the event types differ.
        case differs(routedNotRegistered: [String], registeredNotRouted: [String])
        /// The endpoint has no public URL, so there is no URL to look for.
        case uncheckable

        /// Whether the endpoint is fine.
        var isOK: Bool { self == .ok }

        /// A short stable word for logs: `ok`, `missing`, `differs` or `uncheckable`.
        var word: String {
            switch self {
            case .ok: "ok"
            case .missing: "missing"
            case .differs: "differs"
            case .uncheckable: "uncheckable"
            }
        }
    }

    /// The outcome for `endpoint` given the `registrations` listed.
    static func check(_ endpoint: DaemonConfiguration.Endpoint, against registrations: [WebhookRegistration]) -> Outcome
    {
        guard let target = endpoint.signedTarget else { return .uncheckable }
        var mine: [WebhookRegistration] = []
        var elsewhere: [String] = []
        for registration in registrations {
            guard let registered = try? SignedTarget(url: registration.url) else { continue }
            if registered == target {
                mine.append(registration)
            } else if registered.pathAndQuery == target.pathAndQuery, !elsewhere.contains(registration.url) {
                elsewhere.append(registration.url)
            }
        }
        guard !mine.isEmpty else { return .missing(elsewhere: elsewhere) }
        var registered: [String] = []
        for event in mine.flatMap(\.events) where !registered.contains(event) { registered.append(event) }
        var patterns: [EventPattern] = []
        for pattern in endpoint.routes.flatMap(\.events) where !patterns.contains(pattern) { patterns.append(pattern) }
        let routedNotRegistered = patterns.filter { pattern in
            guard pattern.pattern != DecodedEvent.unknownType else { return false }
            return isGlob(pattern.pattern)
                ? !registered.contains(where: pattern.matches) : !registered.contains(pattern.pattern)
        }.map(\.pattern)
        let registeredNotRouted = registered.filter { type in !patterns.contains { $0.matches(type) } }
        guard routedNotRegistered.isEmpty, registeredNotRouted.isEmpty else {
            return .differs(routedNotRegistered: routedNotRegistered, registeredNotRouted: registeredNotRouted)
        }
        return .ok
    }

    /// One line for `webhooks status` and the daemon's log, e.g.
    /// `/vipps/epayment: differs: routed but not registered: epayments.payment.refunded.v1`.
    static func line(endpoint: DaemonConfiguration.Endpoint, outcome: Outcome) -> String {
        "\(endpoint.path): \(detail(endpoint: endpoint, outcome: outcome))"
    }

    /// The outcome in words, without the endpoint's path.
    static func detail(endpoint: DaemonConfiguration.Endpoint, outcome: Outcome) -> String {
        let url = endpoint.signedTarget.map { "\($0)" } ?? ""
        switch outcome {
        case .ok:
            return "ok"
        case .missing(let elsewhere):
            let hint = elsewhere.isEmpty ? "" : " (the same path is registered at \(elsewhere.joined(separator: ", ")))"
            return "missing: no registration for \(url)\(hint)"
        case .differs(let routed, let registered):
            var parts: [String] = []
            if !routed.isEmpty { parts.append("routed but not registered: \(routed.joined(separator: ", "))") }
            if !registered.isEmpty {
                parts.append("registered but not routed: \(registered.joined(separator: ", "))")
            }
            return "differs: " + parts.joined(separator: "; ")
        case .uncheckable:
            return "cannot check: no public_url, so the registered URL is unknown (set public_url)"
        }
    }

    private static func isGlob(_ pattern: String) -> Bool {
        pattern.contains("*") || pattern.contains("?")
    }
}
