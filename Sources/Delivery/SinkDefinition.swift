/// A configured sink as the ``SinkFactory`` builds its worker: a name and what the sink does.
public struct SinkDefinition: Sendable {
    /// The sink's configured name (routes name it; the journal stores it with each event).
    public var name: String
    /// What the sink does with an event.
    public var kind: Kind

    /// What a sink does with an event.
    public enum Kind: Sendable {
        /// Appends a JSON line (``EventLine``) to the file at `path`.
        case file(path: String)
        /// Runs a hook (``ExecSink``) with its limits.
        case exec(argv: [String], timeoutSeconds: Int, maxAttempts: Int, concurrency: Int)
    }

    /// Creates a sink definition.
    public init(name: String, kind: Kind) {
        self.name = name
        self.kind = kind
    }
}
