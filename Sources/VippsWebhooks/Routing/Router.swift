/// The routes of one endpoint.
public struct Router: Sendable, Equatable {
    /// Routes in configured order.
    public var routes: [Route]

    /// Creates a router.
    public init(routes: [Route]) {
        self.routes = routes
    }

    /// Sink names for `event`: the union of the sinks of every matching route, in first-seen order, without
    /// duplicates. Empty when no route matches (the caller counts such events as unrouted).
    public func sinks(for event: DecodedEvent) -> [String] {
        var seen: Set<String> = []
        var result: [String] = []
        for route in routes where route.matches(event) {
            for sink in route.sinks where seen.insert(sink).inserted {
                result.append(sink)
            }
        }
        return result
    }
}
