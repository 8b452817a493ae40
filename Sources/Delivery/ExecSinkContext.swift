/// What the decoder supplies for one event, beyond the `StoredEvent`, to run its hooks.
///
/// It is rebuilt from the `StoredEvent` whenever needed (e.g. when a dead letter is re-queued), so nothing in it
/// has to be stored.
public struct ExecSinkContext: Sendable {
    /// Text of a body field by dotted path: a string as is, any other value as compact JSON, nil when missing.
    public var fields: @Sendable (String) -> String?
    /// Extra environment variables for the hook (`VIPPS_MSN`, `VIPPS_REFERENCE`, …); names must start with
    /// `VIPPS_` and consist of `A-Z`, `0-9`, `_`, others are dropped.
    public var variables: [String: String]
    /// The file-sink JSON line of the event; the hook reads it on stdin, ending in one newline (added if missing).
    public var line: [UInt8]

    /// Creates a context.
    public init(fields: @escaping @Sendable (String) -> String?, variables: [String: String], line: [UInt8]) {
        self.fields = fields
        self.variables = variables
        self.line = line
    }
}
