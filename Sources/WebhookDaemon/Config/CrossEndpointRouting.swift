import VippsWebhooks

/// Finds endpoints that would send the same event to different sinks.
///
/// Deduplication is across endpoints: an event delivered to two endpoints (two registrations of one event type) is
/// stored once, routed by the endpoint it reached first. When two endpoints route a type to different sinks, which
/// sinks get such an event depends on which delivery came first; the operator is warned at load time. A catch-all
/// pattern (`*` alone) is left out: it takes whatever a registration sends, not a type the endpoint was set up for.
enum CrossEndpointRouting {
    /// One pair of endpoints that route `type` to different sink sets (route filters are not considered).
    struct Conflict: Equatable {
        var first: Int
        var second: Int
        var type: String
        var firstSinks: [String]
        var secondSinks: [String]
    }

    /// The first conflicting type for each pair of endpoints, over every known type and `unknown`.
    static func conflicts(_ endpoints: [DaemonConfiguration.Endpoint]) -> [Conflict] {
        let types = SampleEvents.knownTypes + [DecodedEvent.unknownType]
        let routed = endpoints.map { endpoint in types.map { sinks(of: endpoint.routes, for: $0) } }
        var found: [Conflict] = []
        for first in endpoints.indices {
            for second in endpoints.indices where second > first {
                for (index, type) in types.enumerated() {
                    let a = routed[first][index]
                    let b = routed[second][index]
                    guard !a.isEmpty, !b.isEmpty, a != b else { continue }
                    found.append(
                        Conflict(
                            first: first,
                            second: second,
                            type: type,
                            firstSinks: a.sorted(),
                            secondSinks: b.sorted()
                        )
                    )
                    break
                }
            }
        }
        return found
    }

    /// The sinks that routes of `routes` name for events of `type` through a pattern other than the catch-all.
    private static func sinks(of routes: [Route], for type: String) -> Set<String> {
        let selecting = routes.filter { route in route.events.contains { $0.pattern != "*" && $0.matches(type) } }
        return Set(selecting.flatMap(\.sinks))
    }
}
