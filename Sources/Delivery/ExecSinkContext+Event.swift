import EventStore
import VippsWebhooks

extension ExecSinkContext {
    /// The hook input of a stored event: its fields by dotted path for `{placeholders}`, its `VIPPS_*` variables and its
    /// file-sink JSON line for stdin. Used for first deliveries and for dead-letter retries alike, so a retried hook
    /// sees exactly what the first run saw.
    /// - Parameters:
    ///   - event: The stored event.
    ///   - decoded: `DecodedEvent.decode(body: event.body)`.
    init(event: StoredEvent, decoded: DecodedEvent) {
        let variables = Dictionary(
            decoded.environment.map { ($0.name, $0.value) },
            uniquingKeysWith: { first, _ in first }
        )
        self.init(fields: { decoded.fieldText($0) }, variables: variables, line: EventLine.render(event))
    }
}
