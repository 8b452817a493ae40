import Synchronization

/// A list that producers on any thread append to and one consumer empties, with at most one hand-off to the consumer
/// pending at a time: a burst of appends costs one `queue.async`, not one each.
///
/// Usage: `if inbox.append(item) { queue.async { process(inbox.takeAll()) } }`.
public final class CoalescingInbox<Element: Sendable>: Sendable {
    private struct State {
        var items: [Element] = []
        var handOffPending = false
    }

    private let state = Mutex(State())

    public init() {}

    /// Appends `item`. True when the caller must schedule a hand-off to the consumer (none was pending).
    public func append(_ item: Element) -> Bool {
        state.withLock { state in
            state.items.append(item)
            defer { state.handOffPending = true }
            return !state.handOffPending
        }
    }

    /// Takes everything appended so far, oldest first; the next `append` asks for a new hand-off.
    public func takeAll() -> [Element] {
        state.withLock { state in
            state.handOffPending = false
            defer { state.items = [] }
            return state.items
        }
    }

    /// Whether nothing waits to be taken.
    public var isEmpty: Bool {
        state.withLock { $0.items.isEmpty }
    }
}
