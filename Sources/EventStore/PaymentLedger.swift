import Dispatch
import Glibc
import Logging
import Metrics
import POSIX
import Synchronization

/// The ePayment payments the daemon has seen, for reconciliation: per payment (msn + reference) the events held and
/// whether it is final (see ``PaymentState``). Bounded: payments whose latest event is older than the window are
/// forgotten, and at most ``Options/maximumPayments`` are kept (the oldest go first).
///
/// Kept in `<state_dir>/payments.log`, one JSON line per event held, ending with its checksum (``PaymentLineChecksum``;
/// an earlier version's file, without them, is rewritten with them on open), appended in batches (written and `fdatasync`ed
/// within ``Options/flushDelayMillis`` of the event, off the ingest path). The ledger only chooses which payments to
/// ask the vendor about — whether an event was received is decided by the journal's dedup index — so a crash may
/// lose the last fraction of a second of lines and nothing else. On open, lines of forgotten payments are dropped by
/// rewriting the file (temporary file, fsync, rename, directory fsync); a damaged line is logged, counted, and the
/// damaged file kept under `<state_dir>/corrupt/`; a torn last line (a crash in a write) is dropped quietly.
public final class PaymentLedger: Sendable {
    /// Limits and timing.
    public struct Options: Sendable {
        /// Payments whose latest event is older than this many milliseconds are forgotten.
        public var windowMillis: Int64
        /// Most payments kept; past it, a new payment takes the place of the one whose latest event was recorded
        /// first (the oldest latest event, as events are recorded in time order; see ``PaymentEvictionOrder``).
        public var maximumPayments: Int
        /// Longest time a new line waits before it is written and synced.
        public var flushDelayMillis: Int
        /// Most events recorded and not yet applied (at least 1): the one that reaches it has them applied (and their
        /// lines written) at once, not at the end of the flush delay, so a burst does not pile them up in memory, and
        /// applying them (on the ledger's queue, a few µs each) does not take a CPU from the connections for long.
        public var maximumWaiting: Int
        /// While running, the file is rewritten without forgotten payments once it is this large and four times
        /// what it held after the last rewrite.
        public var compactionBytes: Int
        /// The share of one CPU a running rewrite takes (0 < share ≤ 1): after each 5 ms of its own CPU time it
        /// pauses long enough to keep to it, so a rewrite under load does not take a CPU from the connections for a
        /// tenth of a second at a time. 1 = no pauses. A ``PaymentLedger/flush()`` (or close) waiting for the rewrite
        /// ends them, and so do 10 seconds of rewriting (a reader that slow might not catch up with the appends).
        public var compactionCPUShare: Double
        /// Most bytes of lines applied and not yet written. Reached only while writes fail (normally at most
        /// ``maximumWaiting`` lines wait): past it the lines of newly held events are dropped, logged and counted
        /// (`vipps_webhookd_payment_ledger_dropped_lines_total`), so a file that cannot be written does not grow the
        /// daemon's memory with every event the journal still takes.
        public var maximumPendingBytes: Int

        /// Creates options; the defaults are 7 days, 49,000 payments, 200 ms, 512, 16 MiB, a quarter of a CPU and
        /// 4 MiB.
        /// A payment costs about 230 bytes (an 80-byte ``PaymentProgress`` and its 16-byte ``PaymentKey`` in a hash
        /// table of 65,536 slots, the key's texts on the heap, 24-byte entries in the ``PaymentEvictionOrder``): 49,000
        /// keeps the table at its load limit (3/4) of 65,536 slots, where 50,000 would double it; ≈ 11 MB in all.
        public init(
            windowMillis: Int64 = 7 * 24 * 3_600_000,
            maximumPayments: Int = 49_000,
            flushDelayMillis: Int = 200,
            maximumWaiting: Int = 512,
            compactionBytes: Int = 16 << 20,
            compactionCPUShare: Double = 0.25,
            maximumPendingBytes: Int = 4 << 20
        ) {
            self.windowMillis = windowMillis
            self.maximumPayments = maximumPayments
            self.flushDelayMillis = flushDelayMillis
            self.maximumWaiting = max(1, maximumWaiting)
            self.compactionBytes = compactionBytes
            self.compactionCPUShare = min(1, max(0.01, compactionCPUShare))
            self.maximumPendingBytes = maximumPendingBytes
        }
    }

    /// What opening found.
    public struct OpenReport: Sendable, Equatable {
        /// Payments known after the open.
        public var payments: Int
        /// Payments forgotten because they were older than the window.
        public var forgotten: Int
        /// Damaged lines (a torn last line is not counted).
        public var damagedLines: Int
        /// Where the damaged file was kept, when there was damage.
        public var damagedCopy: String?
    }

    /// The file name in the state directory.
    public static let fileName = "payments.log"
    /// An empty file beside it, made (durably) before this version writes its first line: its lines carry checksums,
    /// so a line without one is damage even when no line of the file has an intact checksum left (one line cut into
    /// an earlier version's shape would otherwise be read, and the file upgraded, with the cut line's amount).
    public static let checksumsMarkerName = "payments.log.checksummed"

    private struct State {
        var payments: [PaymentKey: PaymentProgress] = [:]
        /// Every payment of the table, in the order the bound forgets them.
        var order = PaymentEvictionOrder()
        /// Endpoint paths, numbered in order of first use: a payment holds its endpoint's number.
        var endpoints: [String] = []
        var endpointNumbers: [String: UInt32] = [:]
        /// The endpoint numbered last looked up (events mostly come from one endpoint: no hashing of its path).
        var lastEndpoint: (path: String, number: UInt32)?
        var pending: [UInt8] = []
        /// The last written lines' storage, emptied, for `pending` after the next write (see `appendPending`).
        var sparePending = SpareStorage<UInt8>()
        var maximumPayments: Int
        /// Bound of `pending`: none while writes succeed (it is written every flush delay or ``Options/maximumWaiting``
        /// events), ``Options/maximumPendingBytes`` while they fail.
        var pendingBound = Int.max
        /// Lines of newly held events left out of a full `pending`, not yet reported.
        var droppedLines = 0
        /// Bytes of the batch being written (taken out of `pending`): they count against the bound.
        var writing = 0

        /// Applies `observations` to the table and adds the lines of newly held events to `pending`, as long as it is
        /// under its bound (the others are counted in `droppedLines`).
        mutating func apply(_ observations: [PaymentObservation]) {
            for observation in observations where add(observation) {
                if pending.count + writing < pendingBound {
                    observation.appendLine(to: &pending)
                } else {
                    droppedLines += 1
                }
            }
        }

        /// Adds one observation; whether it is a newly held event. The payment is queued in the eviction order
        /// (again, when its latest event time grows), and out-of-date entries are shed once they pile up.
        ///
        /// At the bound, a new payment takes the place of the one whose latest event was recorded first
        /// (``forgetOldest()``) before it is inserted: the table never holds more, so it never doubles (49,000
        /// payments fill 65,536 slots to 3/4; one more and it would take 131,072 slots, 14.7 MB instead of 7.3).
        mutating func add(_ observation: PaymentObservation) -> Bool {
            let endpoint = number(of: observation.endpoint)
            let key = PaymentKey(msn: observation.msn, reference: observation.reference)
            let added: Bool
            if let index = payments.index(forKey: key) {
                let before = payments.values[index].lastEventMillis
                added = payments.values[index].add(observation, endpointIndex: endpoint)
                let latest = payments.values[index].lastEventMillis
                if latest != before { order.append(key, millis: latest) }
            } else {
                if payments.count >= maximumPayments { forgetOldest() }
                var progress = PaymentProgress(endpointIndex: endpoint, lastEventMillis: observation.atMillis)
                added = progress.add(observation, endpointIndex: endpoint)
                payments[key] = progress
                order.append(key, millis: progress.lastEventMillis)
            }
            if !order.isMostlyCurrent(payments: payments.count) { removeOutOfDateEntries() }
            return added
        }

        /// Drops the eviction order's entries whose payment has a later event or went, keeping the order (no sort).
        mutating func removeOutOfDateEntries() {
            order.removeOutOfDate { [payments] entry in payments[entry.key]?.lastEventMillis == entry.millis }
        }

        /// Forgets the payment whose latest event was recorded first, by the eviction order: front entries no longer
        /// current (their payment had a later event, or went) are skipped, the first current one goes. Returns
        /// whether one went (none when the order is empty).
        @discardableResult
        mutating func forgetOldest() -> Bool {
            while let entry = order.removeFirst() {
                guard payments[entry.key]?.lastEventMillis == entry.millis else { continue }
                payments.removeValue(forKey: entry.key)
                return true
            }
            return false
        }

        /// The number of the endpoint path `path`, numbering it when new.
        private mutating func number(of path: String) -> UInt32 {
            if let lastEndpoint, lastEndpoint.path == path { return lastEndpoint.number }
            let number: UInt32
            if let known = endpointNumbers[path] {
                number = known
            } else {
                number = UInt32(endpoints.count)
                endpoints.append(path)
                endpointNumbers[path] = number
            }
            lastEndpoint = (path, number)
            return number
        }

        /// The payment `key` as callers see it.
        func state(_ key: PaymentKey, _ progress: PaymentProgress) -> PaymentState {
            PaymentState(
                msn: key.msn,
                reference: key.reference,
                endpoint: endpoints[Int(progress.endpointIndex)],
                progress: progress
            )
        }

        /// Forgets the payments whose latest event is older than `windowMillis` at `nowMillis`, in place (no second
        /// table), and their entries in the eviction order; returns how many went.
        mutating func forget(olderThan windowMillis: Int64, nowMillis: Int64) -> Int {
            let stale = payments.compactMap { nowMillis - $0.value.lastEventMillis > windowMillis ? $0.key : nil }
            for key in stale { payments.removeValue(forKey: key) }
            removeOutOfDateEntries()
            return stale.count
        }

        /// After an open trimmed the table: the table and the eviction order moved to room for what is left (and the
        /// bound), no longer the whole file's room, which a table in place and a ring never give back.
        mutating func fit(bound: Int) {
            removeOutOfDateEntries()
            // Room for the bound, which the table fills as it runs (not past a million slots for a huge bound).
            let room = max(payments.count, min(bound, 1 << 20))
            guard payments.capacity > 2 * room + 16 else { return }
            var fitted = [PaymentKey: PaymentProgress](minimumCapacity: room)
            for (key, progress) in payments { fitted[key] = progress }
            payments = fitted
        }
    }

    /// The open file and its size; touched on `queue` only (and in `init`).
    private struct FileState {
        var handle: SyscallFile
        var size: Int
        /// Size right after the last rewrite (or open).
        var compactedSize: Int
        /// A failed write's bytes are still past `size`: cutting them off failed too, and is done before the next one.
        var uncut = false
    }

    private let path: String
    private let options: Options
    private let logger: Logger
    private let state: Mutex<State>
    /// Observations recorded but not yet applied, under a lock of their own: ``record(_:)`` (a connection thread,
    /// for each webhook) only appends here and never waits for the table, its sorting or the file.
    private let inbox = Mutex<Inbox>(Inbox())

    private struct Inbox {
        var observations: [PaymentObservation] = []
        /// The observations' storage from the last take, emptied, for the next ones to fill (see ``withTable(_:)``).
        var spare = SpareStorage<PaymentObservation>()
        /// A timer will write what is recorded: the flush delay's, or the retry's after a failed write. At most one
        /// is ever pending, so a failing file gets one attempt a second, not one chain of retries per failure.
        var scheduled = false
        /// The last write failed: a full inbox is then applied (its lines kept, up to their bound) but not written
        /// until the retry.
        var failing = false
        var closed = false
    }
    private let queue = DispatchQueue(label: "vipps-webhookd.payment-ledger")
    /// Callers of ``flush()`` waiting for `queue`: a rewrite then stops pausing.
    private let flushesWaiting = Atomic<Int>(0)
    private let file: Mutex<FileState>
    private let writeErrors = Counter(label: "vipps_webhookd_payment_ledger_errors_total")
    /// Damaged lines found on open or by a compaction (each logged, the file kept under `corrupt/`).
    private let damagedCounter = Counter(label: "vipps_webhookd_payment_ledger_damaged_lines_total")
    /// Lines of held events never written because the pending lines were at their bound while writes failed.
    private let droppedCounter = Counter(label: "vipps_webhookd_payment_ledger_dropped_lines_total")
    private let faults: SyscallFaults?
    /// What opening found.
    public let openReport: OpenReport

    /// Opens (creating when missing) `<stateDirectory>/payments.log`, forgetting what is older than the window.
    /// `faults` makes chosen writes and syncs of the file fail (tests; nil in production).
    /// - Throws: ``StorageError`` when the file cannot be read, rewritten or opened for appending.
    public init(
        stateDirectory: String,
        nowMillis: Int64,
        options: Options = Options(),
        logger: Logger,
        faults: SyscallFaults? = nil
    ) throws {
        path = stateDirectory + "/" + Self.fileName
        let marker = stateDirectory + "/" + Self.checksumsMarkerName
        let markedChecksummed = try Self.exists(marker)
        self.options = options
        self.logger = logger
        self.faults = faults
        var table = State(payments: [:], maximumPayments: .max)
        var damagedLines = 0
        // Lines without a checksum are an earlier version's file, or damage in this version's (see
        // PaymentLineChecksum): which one is known from the marker, or else at the end.
        var checksummedLines = 0
        var earlierLines: [PaymentObservation] = []
        let tornTail = try Self.forEachLine(path: path) { line in
            if let observation = PaymentObservation(line: line) {
                _ = table.add(observation)
                checksummedLines += 1
            } else if let observation = PaymentObservation(line: line, earlierVersion: true) {
                earlierLines.append(observation)
            } else {
                damagedLines += 1
            }
        }
        let upgrading = !markedChecksummed && checksummedLines == 0 && !earlierLines.isEmpty
        if upgrading {
            for observation in earlierLines { _ = table.add(observation) }
        } else {
            damagedLines += earlierLines.count
        }
        earlierLines = []
        table.order.rebuild(from: table.payments)  // by time: a file's lines may be in any order
        let before = table.payments.count
        _ = table.forget(olderThan: options.windowMillis, nowMillis: nowMillis)
        while table.payments.count > options.maximumPayments, table.forgetOldest() {}
        if table.payments.count < before { table.fit(bound: options.maximumPayments) }
        let forgotten = before - table.payments.count
        // A link, not a rename: until the rewrite below replaces it, payments.log stays whole, so a crash in between
        // loses no payment.
        let damagedCopy = damagedLines > 0 ? try Self.setAside(path, nowMillis: nowMillis) : nil
        var rewritten: (file: SyscallFile, size: Int)?
        if forgotten > 0 || damagedLines > 0 || tornTail || upgrading {
            let written = try Self.rewrite(path: path, faults: faults, upgrading: upgrading) {
                table.payments[$0] != nil
            }
            rewritten = (written.file, written.size)
        }
        let opened =
            try rewritten?.file ?? SyscallFile.openCreating(path: path, flags: O_WRONLY | O_APPEND, faults: faults)
        let size = try rewritten?.size ?? Int(opened.size())
        if !markedChecksummed {
            // After an upgrade's rewrite: a crash before it leaves an earlier version's file unmarked, to upgrade again.
            do {
                try SyscallFile.openCreating(path: marker, flags: O_WRONLY, faults: faults).close()
            } catch {
                opened.close()
                throw error
            }
        }
        file = Mutex(FileState(handle: opened, size: size, compactedSize: size))
        openReport = OpenReport(
            payments: table.payments.count,
            forgotten: forgotten,
            damagedLines: damagedLines,
            damagedCopy: damagedCopy
        )
        table.maximumPayments = options.maximumPayments
        state = Mutex(table)
        damagedCounter.increment(by: damagedLines)
        if upgrading {
            logger.notice(
                "payment ledger: an earlier version's lines rewritten with checksums",
                metadata: ["file": "\(path)", "payments": "\(table.payments.count)"]
            )
        }
        if damagedLines > 0 {
            logger.error(
                "payment ledger: damaged lines skipped",
                metadata: [
                    "file": "\(path)", "damaged_lines": "\(damagedLines)", "copy": "\(damagedCopy ?? "")",
                ]
            )
        }
    }

    deinit { file.withLock { $0.handle.close() } }

    /// Adds an event the daemon now holds; it is applied and its line written and synced on the ledger's queue
    /// within the flush delay, or at once when ``Options/maximumWaiting`` events wait. Cheap: it only appends to an
    /// inbox.
    public func record(_ observation: PaymentObservation) {
        let (startDelay, full) = inbox.withLock { inbox -> (Bool, Bool) in
            guard !inbox.closed else { return (false, false) }
            inbox.observations.append(observation)
            // While writes fail, the retry is the next attempt (the one under way, which reset `scheduled`, or the
            // one it schedules; one that succeeds starts the flush delay's timer for what came meanwhile).
            let startDelay = !inbox.scheduled && !inbox.failing
            if startDelay { inbox.scheduled = true }
            // The count passes the limit once between two takes of the inbox.
            return (startDelay, inbox.observations.count == options.maximumWaiting)
        }
        if startDelay { startTimer(after: .milliseconds(options.flushDelayMillis)) }
        if full { queue.async { [self] in writeWaiting() } }
    }

    /// The table with every recorded observation applied, for `body`.
    ///
    /// The inbox's array is handed back emptied once applied, so the next observations fill it instead of growing a
    /// new one from empty (up to ``Options/maximumWaiting`` of them: a malloc and a free at every doubling, and glibc
    /// consolidates its heap when a freed block passes 64 KiB).
    ///
    /// The inbox is taken while the table is held (the one place the two locks nest, always in this order): two
    /// threads here at once (the ledger's queue and a reader such as ``payment(msn:reference:)``) then apply their
    /// batches in the order they were taken, and the lines reach the file in the order the events were recorded.
    private func withTable<Result>(_ body: (inout State) -> Result) -> Result {
        var observations: [PaymentObservation] = []
        let result = state.withLock { state in
            inbox.withLock { observations = $0.spare.take(&$0.observations) }
            if !observations.isEmpty { state.apply(observations) }
            return body(&state)
        }
        if SpareStorage.emptied(&observations, keepingUpTo: 2 * options.maximumWaiting) {
            inbox.withLock { $0.spare.keep(&observations) }
        }
        return result
    }

    /// How many payments the hash table has room for before it grows (for tests of its bound).
    var tableCapacity: Int { withTable { $0.payments.capacity } }

    /// Slots in the eviction order's ring (for tests of its bound).
    var evictionOrderCapacity: Int { withTable { $0.order.capacity } }

    /// The payment `msn`/`reference`, when known.
    public func payment(msn: String, reference: String) -> PaymentState? {
        let key = PaymentKey(msn: msn, reference: reference)
        return withTable { state in state.payments[key].map { state.state(key, $0) } }
    }

    /// Payments whose latest event is at or after `millis`, oldest first.
    public func payments(since millis: Int64) -> [PaymentState] {
        // Sorted outside the lock, which the store's queue takes to record each webhook.
        withTable { state in
            state.payments.compactMap { $0.value.lastEventMillis >= millis ? state.state($0.key, $0.value) : nil }
        }
        .sorted { $0.lastEventMillis < $1.lastEventMillis }
    }

    /// Unfinished payments worth asking about at `nowMillis`: quiet for at least `quietMillis` since their latest
    /// event, and not checked within the spacing — `spacingMillis`, growing to half the payment's quiet time, at
    /// most an hour — so a payment that stays authorized for days costs a few calls an hour, not one per interval.
    /// Oldest check first.
    public func due(nowMillis: Int64, quietMillis: Int64, spacingMillis: Int64) -> [PaymentState] {
        withTable { state in
            state.payments.compactMap { key, payment in
                let quiet = nowMillis - payment.lastEventMillis
                let spacing = min(max(spacingMillis, quiet / 2), 3_600_000)
                let due = !payment.isFinal && quiet >= quietMillis && nowMillis - payment.lastCheckedMillis >= spacing
                return due ? state.state(key, payment) : nil
            }
        }
        .sorted { $0.lastCheckedMillis < $1.lastCheckedMillis }
    }

    /// Notes that the vendor was asked about `msn`/`reference` at `millis`.
    public func markChecked(msn: String, reference: String, atMillis millis: Int64) {
        state.withLock { $0.payments[PaymentKey(msn: msn, reference: reference)]?.lastCheckedMillis = millis }
    }

    /// Writes and syncs the lines not yet on disk; on failure they are kept for the next flush, and the error is
    /// logged and counted.
    public func flush() {
        flushesWaiting.add(1, ordering: .relaxed)
        defer { flushesWaiting.subtract(1, ordering: .relaxed) }
        queue.sync { writePending(onTimer: false) }
    }

    /// On `queue`: writes and syncs the pending lines, then compacts the file when it is due. `onTimer`: called by the
    /// one scheduled timer (the flush delay's or the retry's), which is then no longer pending.
    private func writePending(onTimer: Bool) {
        if onTimer { inbox.withLock { $0.scheduled = false } }
        if appendPending() { compact() }
    }

    /// Starts the one timer (its caller set `scheduled`): the flush delay's, or the retry's after a failed write.
    private func startTimer(after delay: DispatchTimeInterval) {
        queue.asyncAfter(deadline: .now() + delay) { [self] in writePending(onTimer: true) }
    }

    /// On `queue`, once ``Options/maximumWaiting`` events wait: writes them at once, or, while writes fail, applies
    /// them only (their lines wait for the retry, up to their bound), so a burst costs no extra failing attempt.
    private func writeWaiting() {
        if appendPendingUnlessFailing() { compact() }
    }

    /// On `queue`, for events due outside the timers (a full inbox, a rewrite reading the file): ``appendPending()``,
    /// or while writes fail only the inbox applied (its lines wait for the retry timer, up to their bound), so neither
    /// a burst nor a long rewrite adds failing attempts. Whether the file is due for compaction.
    private func appendPendingUnlessFailing() -> Bool {
        guard inbox.withLock({ $0.failing }) else { return appendPending() }
        withTable { _ in }
        return false
    }

    /// Logs and counts the lines dropped since the last report (see ``Options/maximumPendingBytes``); called by each
    /// write attempt, so while writes fail at most once a second.
    private func reportDroppedLines() {
        let dropped = state.withLock { state in
            defer { state.droppedLines = 0 }
            return state.droppedLines
        }
        guard dropped > 0 else { return }
        droppedCounter.increment(by: dropped)
        logger.error(
            "payment ledger: lines dropped, pending lines at their bound while writes fail",
            metadata: [
                "file": "\(path)", "dropped_lines": "\(dropped)", "bound_bytes": "\(options.maximumPendingBytes)",
            ]
        )
    }

    /// On `queue`: applies the recorded observations, appends the pending lines to the file and syncs it; whether the
    /// file is now due for compaction. On failure the lines are kept for a retry a second later.
    private func appendPending() -> Bool {
        // The lines' storage goes back to the table emptied once written (as the inbox's does, see `withTable`).
        var bytes = withTable { state in
            let taken = state.sparePending.take(&state.pending)
            state.writing = taken.count
            return taken
        }
        reportDroppedLines()
        guard !bytes.isEmpty else { return false }
        let (handle, before, uncut) = file.withLock { ($0.handle, $0.size, $0.uncut) }
        do {
            if uncut {
                try handle.truncate(to: UInt64(before))
                file.withLock { $0.uncut = false }
            }
            try bytes.withUnsafeBytes { try handle.append($0) }
            try handle.syncData()
            let (recovered, restartDelay) = inbox.withLock { inbox -> (Bool, Bool) in
                defer { inbox.failing = false }
                guard inbox.failing else { return (false, false) }
                // Events recorded while the retry ran waited for it: the flush delay's timer takes them on.
                let restart = !inbox.scheduled && !inbox.closed
                if restart { inbox.scheduled = true }
                return (true, restart)
            }
            state.withLock { state in
                state.writing = 0
                if recovered { state.pendingBound = .max }
            }
            if restartDelay { startTimer(after: .milliseconds(options.flushDelayMillis)) }
            let due = file.withLock { file in
                file.size += bytes.count
                return file.size >= max(options.compactionBytes, 4 * file.compactedSize)
            }
            if SpareStorage.emptied(&bytes, keepingUpTo: Self.keptPendingCapacity) {
                state.withLock { $0.sparePending.keep(&bytes) }
            }
            return due
        } catch {
            writeErrors.increment()
            logger.error("payment ledger: write failed; retried", metadata: ["file": "\(path)", "error": "\(error)"])
            // A partial write is cut off again (if the cut fails too, before the next write; else the retried batch
            // would follow the partial one, its first line glued to it); the whole batch is written again.
            do {
                try handle.truncate(to: UInt64(before))
            } catch {
                file.withLock { $0.uncut = true }
            }
            state.withLock { state in
                state.pending = bytes + state.pending
                state.writing = 0
                state.pendingBound = options.maximumPendingBytes
            }
            // One retry a second, unless a timer is already pending (it is the retry then).
            let retry = inbox.withLock { inbox -> Bool in
                defer {
                    inbox.failing = true
                    inbox.scheduled = true
                }
                return !inbox.closed && !inbox.scheduled
            }
            if retry { startTimer(after: .seconds(1)) }
            return false
        }
    }

    /// On `queue`: rewrites the file with the lines of the payments still known, forgetting those older than the
    /// window (the file is otherwise only trimmed on open). A failure is logged and counted; appends go on.
    ///
    /// A rewrite reads the whole file, which takes a while under load (the longer for its pauses, see
    /// ``Options/compactionCPUShare``): meanwhile, every flush delay (or as soon as ``Options/maximumWaiting`` events
    /// wait), what was recorded is applied and appended to the file being read, as outside a rewrite, so the inbox
    /// and the pending lines do not pile up in memory. The reader goes on to the file's end, so those lines are copied
    /// too; nothing is appended between its reaching the end and the rename (both happen here, on `queue`).
    private func compact() {
        let now = currentEpochMilliseconds()
        _ = state.withLock { $0.forget(olderThan: options.windowMillis, nowMillis: now) }
        var damagedCopy: String?
        var lastAppend = ContinuousClock.now
        var pacer = RewritePacer(cpuShare: options.compactionCPUShare)
        // Pauses end after this long, so that a reader slowed by them still outruns the appends it must catch up with.
        let pausesEnd = lastAppend + .seconds(Self.longestPacedRewriteSeconds)
        do {
            // A line stays when its payment is known at the time it is read (no copy of the table's keys).
            let keep = { (key: PaymentKey) in self.state.withLock { $0.payments[key] != nil } }
            // Damage found now (a line spoilt on disk since the open) is dropped as on open, the file first kept aside.
            let setAside = { [path] (damagedLines: Int) in
                damagedCopy = damagedLines > 0 ? try Self.setAside(path, nowMillis: now) : nil
            }
            let (reopened, size, damagedLines) = try Self.rewrite(
                path: path,
                faults: faults,
                keep: keep,
                beforeReplacing: setAside
            ) {
                let due =
                    ContinuousClock.now - lastAppend >= .milliseconds(options.flushDelayMillis)
                    || inbox.withLock({ $0.observations.count }) >= options.maximumWaiting
                if due {
                    lastAppend = .now
                    _ = appendPendingUnlessFailing()
                }
                pacer.pace(
                    unlessHurried: flushesWaiting.load(ordering: .relaxed) > 0 || ContinuousClock.now > pausesEnd
                )
            }
            let old = file.withLock { file -> SyscallFile in
                defer { file = FileState(handle: reopened, size: size, compactedSize: size) }
                return file.handle
            }
            old.close()
            logger.info("payment ledger: compacted", metadata: ["file": "\(path)", "bytes": "\(size)"])
            if damagedLines > 0 {
                damagedCounter.increment(by: damagedLines)
                logger.error(
                    "payment ledger: damaged lines dropped by compaction",
                    metadata: [
                        "file": "\(path)", "damaged_lines": "\(damagedLines)", "copy": "\(damagedCopy ?? "")",
                    ]
                )
            }
        } catch {
            writeErrors.increment()
            logger.error("payment ledger: compaction failed", metadata: ["file": "\(path)", "error": "\(error)"])
            file.withLock { $0.compactedSize = $0.size }  // try again once it has grown fourfold
        }
    }

    /// Writes what is pending and stops recording.
    public func close() {
        flush()
        inbox.withLock { $0.closed = true }
    }

    /// Most bytes of capacity of written lines kept for the next lines (a batch of ``Options/maximumWaiting`` is about
    /// 100 KiB at the default).
    static let keptPendingCapacity = 1 << 20

    /// Seconds a rewrite keeps to ``Options/compactionCPUShare``; past them it runs unpaused.
    static let longestPacedRewriteSeconds: Int64 = 10

    /// Longest line kept for parsing; a ledger line is a few hundred bytes, so a longer one is damage.
    static let maximumLineBytes = 64 * 1024

    /// Calls `body` with each whole line of `path` (without its newline), reading 64 KiB at a time; returns whether
    /// a torn last line (no newline) was left. A line over ``maximumLineBytes`` (a run of garbage without a newline)
    /// is handed to `body` as an empty line, which no observation parses, and the rest of it up to the next newline
    /// is skipped: each byte is searched once, so a damaged file is read in linear time. A missing file has no lines.
    private static func forEachLine(path: String, _ body: (ArraySlice<UInt8>) throws -> Void) throws -> Bool {
        let fd: Int32
        do {
            fd = try Syscall.open(path, flags: O_RDONLY)
        } catch {
            guard error.errno == ENOENT else { throw error }
            return false
        }
        defer { Syscall.close(fd) }
        var carried: [UInt8] = []
        var skipping = false
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = try Syscall.retrying("read", detail: path) {
                buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            }
            if count == 0 { break }
            var searchFrom = carried.count
            carried += buffer[0..<count]
            var start = carried.startIndex
            while let end = firstNewline(in: carried, from: searchFrom) {
                if !skipping { try body(carried[start..<end]) }
                skipping = false
                start = end + 1
                searchFrom = start
            }
            carried.removeSubrange(..<start)
            if carried.count > maximumLineBytes {
                if !skipping { try body([]) }
                skipping = true
                carried.removeAll(keepingCapacity: true)
            }
        }
        return !carried.isEmpty && !skipping
    }

    /// The index of the first newline in `bytes[start...]`, or nil.
    private static func firstNewline(in bytes: [UInt8], from start: Int) -> Int? {
        bytes.withUnsafeBufferPointer { bytes in
            guard start < bytes.count, let found = memchr(bytes.baseAddress! + start, 0x0A, bytes.count - start) else {
                return nil
            }
            return UnsafeRawPointer(bytes.baseAddress!).distance(to: found)
        }
    }

    /// Writes the lines of `path` whose payment `keep` accepts to a temporary file (streamed, 64 KiB at a time),
    /// syncs it, renames it over `path` and syncs the directory; damaged lines are left out, and counted:
    /// `beforeReplacing` gets their number just before the rename (to keep the file aside while it is whole). Returns
    /// the new file, still open for appending (so no reopen can fail after the rename and leave appends going to the
    /// replaced file), its size and the damaged lines. `whileReading` is called after each 64 KiB read (whatever is
    /// kept); lines it appends to `path` are read too. `upgrading`: the file is an earlier version's (no line has a
    /// checksum): its lines are read as such and written again with checksums, instead of copied.
    static func rewrite(
        path: String,
        faults: SyscallFaults? = nil,
        upgrading: Bool = false,
        keep: (PaymentKey) -> Bool,
        beforeReplacing: (_ damagedLines: Int) throws -> Void = { _ in },
        whileReading: () -> Void = {}
    ) throws -> (file: SyscallFile, size: Int, damagedLines: Int) {
        let temporary = path + ".tmp"
        let file = try SyscallFile(path: temporary, flags: O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, faults: faults)
        var size = 0
        var damagedLines = 0
        do {
            var out: [UInt8] = []
            var readSinceCall = 0
            _ = try forEachLine(path: path) { line in
                readSinceCall += line.count + 1
                if readSinceCall >= 1 << 16 {
                    readSinceCall = 0
                    whileReading()
                }
                if upgrading {
                    guard let observation = PaymentObservation(line: line, earlierVersion: true) else {
                        damagedLines += 1
                        return
                    }
                    guard keep(PaymentKey(msn: observation.msn, reference: observation.reference)) else { return }
                    observation.appendLine(to: &out)
                } else {
                    guard let key = PaymentLineReader.paymentKey(line) else {
                        damagedLines += 1
                        return
                    }
                    guard keep(key) else { return }
                    out += line
                    out.append(0x0A)
                }
                if out.count >= 1 << 16 {
                    try out.withUnsafeBytes { try file.append($0) }
                    size += out.count
                    out.removeAll(keepingCapacity: true)
                }
            }
            try out.withUnsafeBytes { try file.append($0) }
            size += out.count
            try file.sync()
            try beforeReplacing(damagedLines)
            try Syscall.renameDurably(temporary, path)
        } catch {
            file.close()
            throw error
        }
        return (file, size, damagedLines)
    }

    /// Whether `path` exists; an error other than its absence is thrown, not taken for it.
    private static func exists(_ path: String) throws -> Bool {
        if access(path, F_OK) == 0 { return true }
        guard errno == ENOENT else { throw StorageError.fromErrno("access", detail: path) }
        return false
    }

    /// Links `path` (whole, before a rewrite replaces it) into `corrupt/` beside it, as `payments-<nowMillis>.log`
    /// (a copy of the same millisecond, a clock set back, is never overwritten), and syncs that directory; the copy's
    /// path.
    private static func setAside(_ path: String, nowMillis: Int64) throws -> String {
        let corrupt = String(path[..<path.lastIndex(of: "/")!]) + "/corrupt"
        try Syscall.makeDirectories(corrupt)
        var copy = corrupt + "/payments-\(nowMillis).log"
        var attempt = 1
        while link(path, copy) != 0 {
            guard errno == EEXIST, attempt < 100 else { throw StorageError.fromErrno("link", detail: copy) }
            attempt += 1
            copy = corrupt + "/payments-\(nowMillis)-\(attempt).log"
        }
        try Syscall.syncDirectory(corrupt)
        return copy
    }
}
