/// How an event reached the daemon: the `source` of its file-sink line and `VIPPS_EVENT_SOURCE` of its hooks.
public struct EventSource: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// `webhook` or `reconciliation` (kept as read, so a record from a newer version still decodes).
    public var rawValue: String

    /// A source named `rawValue`.
    public init(rawValue: String) {
        self.rawValue = rawValue
    }

    /// Delivered by the vendor as a signed webhook.
    public static let webhook = EventSource(rawValue: "webhook")
    /// Fetched from the vendor's event log by reconciliation.
    public static let reconciliation = EventSource(rawValue: "reconciliation")

    public var description: String { rawValue }
}
