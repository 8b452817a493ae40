import Synchronization

/// The outcome of a dead-letter retry whose hook has run and whose delivered mark is still on its way, which a
/// shutdown's drain waits for (``DeliveryDispatcher/oweRetryOutcome(giveUp:)``). It is told once, by whoever comes
/// first: the retry (``tell(_:)``), or a drain past its bound, which runs `giveUp` instead (the daemon exits next).
final class OwedRetryOutcome: Sendable {
    private let told = Mutex(false)
    private let giveUp: @Sendable () -> Void
    private let settled: @Sendable (ObjectIdentifier) -> Void

    /// An outcome told by `giveUp` if a drain comes first; `settled` lets the drain stop waiting for it.
    init(giveUp: @escaping @Sendable () -> Void, settled: @escaping @Sendable (ObjectIdentifier) -> Void) {
        self.giveUp = giveUp
        self.settled = settled
    }

    /// Runs `body`, then lets the drain stop waiting; nothing when a drain has given the outcome up already.
    func tell(_ body: () -> Void) {
        guard take() else { return }
        body()
        settled(ObjectIdentifier(self))
    }

    /// A drain past its bound: runs `giveUp` unless the retry has told the outcome already.
    func giveUpUnlessTold() {
        if take() { giveUp() }
    }

    /// True the first time only.
    private func take() -> Bool {
        told.withLock { told in
            defer { told = true }
            return !told
        }
    }
}
