/// One entry of an endpoint's `routes`: which events (type patterns and `where` filters) go to which sinks.
public struct Route: Sendable, Equatable {
    /// The event is selected when any pattern matches its type.
    public var events: [EventPattern]
    /// All must hold (an empty list always holds).
    public var filters: [RouteFilter]
    /// Sink names, in configured order.
    public var sinks: [String]

    /// Creates a route.
    public init(events: [EventPattern], filters: [RouteFilter] = [], sinks: [String]) {
        self.events = events
        self.filters = filters
        self.sinks = sinks
    }

    /// Whether `event` is selected by this route.
    public func matches(_ event: DecodedEvent) -> Bool {
        events.contains { $0.matches(event.type) } && filters.allSatisfy { $0.matches(event) }
    }
}
