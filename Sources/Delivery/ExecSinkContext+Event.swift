import VippsWebhooks

extension ExecSinkContext {
    /// The hook input of an event: its fields by dotted path for `{placeholders}`, its `VIPPS_*` variables and its
    /// file-sink JSON line for stdin, all from the event's one decode. Used for first deliveries and for dead-letter
    /// retries alike, so a retried hook sees exactly what the first run saw.
    public init(_ event: DeliverableEvent) {
        let decoded = event.decoded
        let variables = Dictionary(
            decoded.environment.map { ($0.name, $0.value) },
            uniquingKeysWith: { first, _ in first }
        )
        self.init(fields: { decoded.fieldText($0) }, variables: variables, line: event.line)
    }
}
