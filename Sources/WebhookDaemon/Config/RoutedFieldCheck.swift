import Delivery
import VippsWebhooks

/// Checks route event patterns against the known event types, `where:` fields against the fields of the types the
/// route selects, and exec placeholders against the fields of the types routed to their sink (`EventFieldCatalogue`).
///
/// - A pattern is `*`, `unknown`, a glob matching at least one known type, or a known type. A misspelled type would
///   never match (events of a type the daemon does not know arrive as `unknown`), so it is a problem, with the
///   nearest known type suggested.
/// - A placeholder must be a field at least one known type routed to the sink can have (`*` routes every known type).
///   Events of no known type have no known fields: a sink that receives only those can use no placeholder (the hook
///   reads the event from stdin). A sink no route uses is not checked (it is warned about).
enum RoutedFieldCheck {
    /// Why `pattern` can never select an event, or nil when it can.
    static func problem(pattern: String) -> String? {
        let known = SampleEvents.knownTypes
        if pattern == "*" || pattern == DecodedEvent.unknownType || known.contains(pattern) { return nil }
        let eventPattern = EventPattern(pattern)
        let isGlob = pattern.contains("*") || pattern.contains("?")
        if isGlob {
            if known.contains(where: eventPattern.matches) { return nil }
            return "glob \"\(pattern)\" matches no known event type, so this route never selects anything "
                + "(events of a type the daemon does not know arrive as \"unknown\": route them with \"unknown\" "
                + "or \"*\")"
        }
        let suggestion = EditDistance.nearest(to: pattern, in: known).map { " (did you mean \"\($0)\"?)" } ?? ""
        return "\"\(pattern)\" is not a known event type\(suggestion); events of a type the daemon does not know "
            + "arrive as \"unknown\", so this route would never match (`vipps-webhookd send --help` lists the types)"
    }

    /// What is wrong with a route's `where:` filter on `field`, if anything: filters compare top-level fields of the
    /// body, so a dotted path never matches (a problem), nor does a field none of the known types the route selects
    /// has (a misspelling): a problem, or only a warning when the route also selects events of no known type, which
    /// may have it. A route selecting only events of no known type is not checked.
    static func concern(whereField field: String, events: [EventPattern]) -> (message: String, isProblem: Bool)? {
        if field.contains(".") {
            let message =
                "where: compares top-level fields of the body; \"\(field)\" is a nested path, so this route "
                + "would never match (route on a top-level field, or filter in the hook)"
            return (message, true)
        }
        let known = SampleEvents.knownTypes.filter { type in events.contains { $0.matches(type) } }
        let topLevel: [String] = known.flatMap { type in
            EventFieldCatalogue.fields(of: type).map(\.path).filter { !$0.contains(".") }
        }
        guard !known.isEmpty, !topLevel.contains(field) else { return nil }
        let fields = Array(Set(topLevel)).sorted()
        let suggestion = EditDistance.nearest(to: field, in: fields).map { " (did you mean \"\($0)\"?)" } ?? ""
        let unknown = events.contains { $0.matches(DecodedEvent.unknownType) }
        let message =
            "no known event type this route selects has a top-level field \"\(field)\"\(suggestion), so "
            + (unknown ? "only events of no known type can match it" : "this route would never match")
            + "; fields: \(fields.joined(separator: ", "))"
        return (message, !unknown)
    }

    /// The event types routed to `sink` by any endpoint: known types in the order of `SampleEvents.knownTypes`, and
    /// whether events of no known type reach it too.
    static func routedTypes(
        to sink: String,
        endpoints: [DaemonConfiguration.Endpoint]
    ) -> (known: [String], unknown: Bool) {
        let patterns = endpoints.flatMap { endpoint in
            endpoint.routes.filter { $0.sinks.contains(sink) }.flatMap(\.events)
        }
        let known = SampleEvents.knownTypes.filter { type in patterns.contains { $0.matches(type) } }
        let unknown = patterns.contains { $0.matches(DecodedEvent.unknownType) }
        return (known, unknown)
    }

    /// One message per placeholder of `argv` that no event type routed to sink `name` can have, and for a template
    /// that cannot be parsed.
    static func problems(sink name: String, argv: [String], endpoints: [DaemonConfiguration.Endpoint]) -> [String] {
        let template: ExecSinkTemplate
        do {
            template = try ExecSinkTemplate(argv)
        } catch {
            return argv.isEmpty || argv[0].contains("{") ? [] : [error.description]
        }
        let routed = routedTypes(to: name, endpoints: endpoints)
        guard !routed.known.isEmpty || routed.unknown else { return [] }
        let types =
            routed.known.count == SampleEvents.knownTypes.count
            ? "any known type" : routed.known.joined(separator: ", ")
        let fields = fieldPaths(of: routed.known)
        var messages: [String] = []
        var seen: Set<String> = []
        for placeholder in template.fieldNames where seen.insert(placeholder).inserted {
            guard !routed.known.contains(where: { EventFieldCatalogue.canHave(placeholder, type: $0) }) else {
                continue
            }
            guard !routed.known.isEmpty else {
                messages.append(
                    "placeholder {\(placeholder)}: sink \"\(name)\" receives only events of no known type, whose "
                        + "fields are not known; read the event from the hook's stdin instead"
                )
                continue
            }
            let suggestion = EditDistance.nearest(to: placeholder, in: fields).map { " (did you mean {\($0)}?)" } ?? ""
            messages.append(
                "placeholder {\(placeholder)} of sink \"\(name)\" is not a field of the event types routed to it "
                    + "(\(types))\(suggestion); fields: \(fields.sorted().joined(separator: ", "))"
            )
        }
        return messages
    }

    /// The field paths events of `types` can have, each once, in the order of the types and their catalogue entries.
    private static func fieldPaths(of types: [String]) -> [String] {
        var paths: [String] = []
        for type in types {
            for field in EventFieldCatalogue.fields(of: type) where !paths.contains(field.path) {
                paths.append(field.path)
            }
        }
        return paths
    }
}
