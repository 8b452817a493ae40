/// How the delivery of one event to one exec sink ended.
public enum ExecDeliveryOutcome: Sendable, Equatable {
    /// A hook run exited 0 after this many attempts: the event is done for this sink.
    case delivered(attempts: Int)
    /// Every attempt failed; the event is in the dead-letter folder under `name`: done for this sink.
    case deadLettered(attempts: Int, lastError: ExecSinkFailure, name: String)
    /// Not finished (shutdown, or the dead letter could not be written): the event must stay pending in the
    /// journal and be submitted again later.
    case pending(attempts: Int, reason: String)
}
