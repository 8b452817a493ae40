/// The answer to ``EventStore/accept(id:type:endpoint:receivedAtMillis:body:sinks:completion:)``.
public enum AcceptOutcome: Sendable, Equatable {
    /// Journaled and synced to disk; answer 200 and deliver it.
    case stored(StoredEvent)
    /// An event with this id was accepted before (or just now by a concurrent request whose sync succeeded);
    /// answer 200 and deliver nothing.
    case duplicate
    /// Not stored (disk full, I/O error, store closed, queue full); answer 503 so the vendor retries.
    case failed(StorageError)
}

/// An event that was journaled but is not yet delivered to all of its sinks.
public struct PendingDelivery: Sendable, Equatable {
    /// The event.
    public var event: StoredEvent
    /// Sinks it still has to go to, in the order they were given when it was accepted.
    public var sinks: [String]
}
