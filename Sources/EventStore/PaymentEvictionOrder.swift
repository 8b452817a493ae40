/// The payment ledger's payments in the order its bound forgets them, kept without walking the table: a queue (a
/// ring of 24-byte entries) of payments, each stamped with the payment's latest event time when it was queued.
///
/// A payment whose latest event time grows is queued again with the new time (nothing is searched for or moved); its
/// earlier entries stay behind, out of date, and are skipped when they reach the front (their stamp is no longer the
/// payment's latest time). So the first current front entry belongs to the payment whose latest event was recorded
/// first: the one with the oldest latest event, as long as events are recorded in the order of their times (stored
/// events are, to the milliseconds between a sync and the answers it releases; reconciliation and a clock step may
/// record one out of order, and the order of recording wins). ``rebuild(from:)`` sorts by time, for the lines of a
/// file; ``removeOutOfDate(isCurrent:)`` drops out-of-date entries in place, keeping the order, when they pile up
/// (``isMostlyCurrent(payments:)``) or their payments were forgotten.
struct PaymentEvictionOrder {
    /// A payment and its latest event time when it was queued.
    struct Entry {
        var key: PaymentKey
        var millis: Int64
    }

    /// The ring: `count` entries from `head`, wrapping around at its end.
    private var slots: [Entry?] = []
    private var head = 0
    /// Entries queued, out-of-date ones too.
    private(set) var count = 0

    /// Queues `key`, stamped `millis`, at the end.
    mutating func append(_ key: PaymentKey, millis: Int64) {
        if count == slots.count { resize(to: max(16, 2 * slots.count)) }
        slots[wrapped(head + count)] = Entry(key: key, millis: millis)
        count += 1
    }

    /// Takes the front entry; nil when none is queued.
    mutating func removeFirst() -> Entry? {
        guard count > 0 else { return nil }
        defer {
            slots[head] = nil
            head = wrapped(head + 1)
            count -= 1
        }
        return slots[head]
    }

    /// Slots in the ring (for tests of its bound).
    var capacity: Int { slots.count }

    /// Whether few enough entries of a table of `payments` payments are out of date (at most a quarter more than
    /// the payments, and 16): past it the owner removes them, so the ring stays within about 1.25 entries a payment.
    func isMostlyCurrent(payments: Int) -> Bool {
        count < Self.room(for: payments)
    }

    /// Removes the entries `isCurrent` rejects, in place and in order, then gives back the ring's room past what
    /// ``isMostlyCurrent(payments:)`` allows for the entries left (after an open trimmed a large file to the bound).
    mutating func removeOutOfDate(isCurrent: (Entry) -> Bool) {
        var kept = 0
        for offset in 0..<count {
            let index = wrapped(head + offset)
            guard let entry = slots[index] else { continue }
            slots[index] = nil
            if isCurrent(entry) {
                slots[wrapped(head + kept)] = entry
                kept += 1
            }
        }
        count = kept
        let room = Self.room(for: count)
        if slots.count > 2 * room { resize(to: room) }
    }

    /// Replaces the entries with one per payment of `payments`, stamped with its latest event time, oldest first
    /// (payments of the same time in any order), in a ring with room for the out-of-date entries
    /// ``isMostlyCurrent(payments:)`` allows.
    mutating func rebuild(from payments: [PaymentKey: PaymentProgress]) {
        var entries = payments.map { Entry(key: $0.key, millis: $0.value.lastEventMillis) }
        entries.sort { $0.millis < $1.millis }
        slots = []
        count = 0
        resize(to: Self.room(for: entries.count))
        for entry in entries { append(entry.key, millis: entry.millis) }
    }

    /// Slots for `count` current entries, the out-of-date ones ``isMostlyCurrent(payments:)`` allows, and the one
    /// appended before the owner sheds them (so a ring sized by it never grows for out-of-date entries).
    private static func room(for count: Int) -> Int {
        count + count / 4 + 17
    }

    /// `index` within the ring: indices reach at most twice its size.
    private func wrapped(_ index: Int) -> Int {
        index >= slots.count ? index - slots.count : index
    }

    /// Moves the entries, in order, to a ring of `size` slots (at least `count`).
    private mutating func resize(to size: Int) {
        var moved = [Entry?](repeating: nil, count: size)
        for offset in 0..<count { moved[offset] = slots[wrapped(head + offset)] }
        slots = moved
        head = 0
    }
}
