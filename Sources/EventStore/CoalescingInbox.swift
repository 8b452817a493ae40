import Synchronization

/// A list that producers on any thread append to and one consumer empties, with at most one hand-off to the consumer
/// pending at a time: a burst of appends costs one `queue.async`, not one each.
///
/// Usage: `if inbox.append(item) { queue.async { process(inbox.takeAll()) } }`.
///
/// Inlinable, so that a user in another module (a sink worker, once per event) gets code specialised for its element
/// type instead of generic code that looks up type metadata on every call.
public final class CoalescingInbox<Element: Sendable>: Sendable {
    @usableFromInline
    struct State {
        @usableFromInline var items: [Element] = []
        /// An emptied batch's storage, for the next batch to fill (see ``drain(_:)``).
        @usableFromInline var spare = SpareStorage<Element>()
        @usableFromInline var handOffPending = false

        @inlinable init() {}
    }

    @usableFromInline let state = Mutex(State())

    @inlinable public init() {}

    /// Appends `item`. True when the caller must schedule a hand-off to the consumer (none was pending).
    @inlinable
    public func append(_ item: Element) -> Bool {
        state.withLock { state in
            state.items.append(item)
            defer { state.handOffPending = true }
            return !state.handOffPending
        }
    }

    /// Takes everything appended so far, oldest first; the next `append` asks for a new hand-off.
    @inlinable
    public func takeAll() -> [Element] {
        state.withLock { state in
            state.handOffPending = false
            defer { state.items = [] }
            return state.items
        }
    }

    /// Calls `body` with everything appended so far, oldest first, outside the lock; the next `append` asks for a new
    /// hand-off. The batch's storage is kept (up to ``keptCapacity`` items) for later appends to fill, so batches do
    /// not grow their arrays from empty again (a malloc and a free at every doubling, and glibc consolidates its heap
    /// when a freed block passes 64 KiB). For the one consumer only, as ``takeAll()``.
    @inlinable
    public func drain(_ body: (Element) -> Void) {
        var taken = state.withLock { state in
            state.handOffPending = false
            return state.spare.take(&state.items)
        }
        for item in taken { body(item) }
        guard SpareStorage.emptied(&taken, keepingUpTo: Self.keptCapacity) else { return }
        state.withLock { $0.spare.keep(&taken) }
    }

    /// Most items whose storage ``drain(_:)`` keeps for the next batch.
    public static var keptCapacity: Int { 4096 }

    /// Whether nothing waits to be taken.
    @inlinable
    public var isEmpty: Bool {
        state.withLock { $0.items.isEmpty }
    }
}
