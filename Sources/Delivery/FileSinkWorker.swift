import Dispatch
import EventStore
import Glibc
import Logging

/// Writes events to a `FileSink` on its own serial queue, in arrival order, batching whatever queued up while the
/// previous batch was being synced (one fsync per batch), then marks them delivered.
///
/// Batches start at most every `minFlushInterval` (10 ms): under load that bounds the sink's fsyncs — each also
/// writes the file's inode, as the file grows — to 100 per second, so they do not crowd the journal's fsyncs that
/// answers wait for; a lone event is still written at once. Events arrive through an inbox that costs one hop to
/// the queue per batch, not per event: arrivals while a batch is scheduled wait in it for that batch.
///
/// A failing write (disk full) is retried with backoff (0.5 s doubling, at most 5 s), keeping order; arrivals beyond
/// the memory bound (events or bytes, ``HeldMemory``) are given back to the journal, and so are all later arrivals
/// until the journal re-feed has caught up (the file keeps arrival order).
final class FileSinkWorker: SinkWorker, @unchecked Sendable {
    let name: String
    /// The file written.
    var path: String { sink.path }
    /// Which files it writes now or after its next reopen.
    func fileIdentities() throws -> Set<FileSink.FileIdentity> { try sink.fileIdentities() }
    private let sink: FileSink
    private let store: EventStore
    private let metrics: any DeliveryMetrics
    private let logger: Logger
    /// Bounds the lines of marks tried again while the journal refuses them (a full disk).
    private let markRetryLog: RateLimitedLog
    private let queue: DispatchQueue
    /// Bounds what `pending` holds.
    private var held: HeldMemory
    private let maxBatch = 4096
    private let minFlushInterval = DispatchTimeInterval.milliseconds(10)
    /// Batches written whose marks are not recorded yet (`drain` waits for them).
    private let marking = DispatchGroup()
    /// Events handed over and not yet taken by `queue`.
    private let inbox = CoalescingInbox<DeliverableEvent>()

    // Guarded by `queue`.
    private var pending: [DeliverableEvent] = []
    private var flushScheduled = false
    private var failures = 0
    private var spilled = false
    private var draining = false
    private var lastFlush = DispatchTime(uptimeNanoseconds: 0)
    /// Batches written whose marks are not recorded yet, oldest first, with where each starts. The marks of a later
    /// batch carry the start of the oldest of them as the sink's position instead of their own line ends: a
    /// restart then scans back over that batch's lines, whose events are still pending if its marks were refused
    /// and never recorded, instead of writing them again.
    private var unmarked: [(number: UInt64, start: SinkPosition)] = []
    private var batches: UInt64 = 0

    init(
        name: String,
        sink: FileSink,
        store: EventStore,
        metrics: any DeliveryMetrics,
        logger: Logger,
        memoryLimit: Int = 100_000,
        memoryBytes: Int = 64 << 20
    ) {
        self.name = name
        self.sink = sink
        self.store = store
        self.metrics = metrics
        self.logger = logger
        markRetryLog = RateLimitedLog(logger: logger)
        held = HeldMemory(maximumEvents: memoryLimit, maximumBytes: memoryBytes)
        queue = DispatchQueue(label: "vipps-webhookd.file-sink.\(name)")
    }

    func deliver(_ event: DeliverableEvent) {
        if inbox.append(event) {
            queue.async { [self] in
                // A batch is due within the pacing interval and takes the inbox then: taking it now would only have
                // the next arrival wake this queue again (a futex wake and a thread switch per journal batch, 0.3 a
                // request at 16 connections). While writes fail the next batch may be seconds away, so arrivals are
                // taken at once, against the memory bound.
                guard !flushScheduled || failures > 0 else { return }
                takeInbox()
                scheduleFlush(after: pacingDelay())
            }
        }
    }

    func refeed(_ events: [DeliverableEvent]) {
        queue.async { [self] in
            guard !draining else { return store.giveBack(events.map(\.sequence), sink: name) }
            pending.append(contentsOf: events)
            held.add(bytes: events.reduce(0) { $0 + $1.heldBytes }, events: events.count)
            scheduleFlush(after: pacingDelay())
        }
    }

    var room: Int {
        queue.sync {
            takeInbox()
            return draining ? 0 : held.room
        }
    }

    func caughtUp() {
        queue.async { [self] in spilled = false }
    }

    /// Moves the inbox into `pending` (on `queue`). Past the memory bound (events or bytes), while spilled or
    /// draining, arrivals are given back to the journal.
    private func takeInbox() {
        var givenBack: [UInt64] = []
        inbox.drain { event in
            guard !spilled, !draining, held.hasRoom else {
                givenBack.append(event.sequence)
                return
            }
            pending.append(event)
            held.add(bytes: event.heldBytes)
        }
        guard !givenBack.isEmpty else { return }
        guard !draining else { return store.giveBack(givenBack, sink: name) }
        if !spilled {
            logger.error(
                "file sink queue full; further events wait in the journal",
                metadata: held.metadata(sink: name)
            )
        }
        metrics.deliveries(sink: name, outcome: "spilled", count: givenBack.count)
        spilled = true
        store.giveBack(givenBack, sink: name)
    }

    /// Seconds until the next batch may start.
    private func pacingDelay() -> Double {
        let next = lastFlush + minFlushInterval
        let now = DispatchTime.now()
        return next > now ? Double(next.uptimeNanoseconds - now.uptimeNanoseconds) / 1e9 : 0
    }

    func reopen() {
        queue.async { [self] in
            do {
                try sink.reopen()
                logger.info("file sink reopened", metadata: ["sink": "\(name)", "path": "\(sink.path)"])
            } catch {
                metrics.storageError(operation: "file_reopen")
                logger.error(
                    "file sink cannot reopen its file",
                    metadata: ["sink": "\(name)", "path": "\(sink.path)", "error": "\(error)"]
                )
            }
        }
    }

    func drain(deadline: DispatchTime, completion: @escaping @Sendable () -> Void) {
        queue.async { [self] in
            takeInbox()
            draining = true
            // Write what is queued now, unless the disk keeps failing; the rest goes back to the journal.
            while !pending.isEmpty, failures == 0, DispatchTime.now() < deadline {
                flushOnce()
            }
            if !pending.isEmpty {
                store.giveBack(pending.map(\.sequence), sink: name)
                pending = []
                held.removeAll()
            }
            marking.notify(queue: .global(), execute: completion)
        }
    }

    func abandon() {}

    private func scheduleFlush(after delay: Double) {
        guard !flushScheduled else { return }
        flushScheduled = true
        queue.asyncAfter(deadline: .now() + delay) { [self] in
            flushScheduled = false
            // Before the draining check: arrivals that waited for this batch are given back once draining (no later
            // arrival would get a hand-off to take them).
            takeInbox()
            guard !draining else { return }
            flushOnce()
            if !pending.isEmpty {
                scheduleFlush(
                    after: failures == 0 ? pacingDelay() : min(5, 0.25 * pow(2, Double(min(failures, 5))))
                )
            }
        }
    }

    private func flushOnce() {
        // Usually all of `pending`: shared, not copied (a copy retains every event).
        let batch = pending.count <= maxBatch ? pending : Array(pending.prefix(maxBatch))
        guard !batch.isEmpty else { return }
        lastFlush = .now()
        do {
            let written = try sink.writeBatch(batch)
            if batch.count == pending.count {
                pending.removeAll(keepingCapacity: true)
            } else {
                pending.removeFirst(batch.count)
            }
            held.remove(bytes: batch.reduce(0) { $0 + $1.heldBytes }, events: batch.count)
            if failures > 0 {
                logger.notice("file sink writes again", metadata: ["sink": "\(name)", "after_failures": "\(failures)"])
            }
            failures = 0
            metrics.deliveries(sink: name, outcome: "ok", count: batch.count)
            let earlier = unmarked.first?.start
            let marks = zip(batch, written.ends).map {
                (sequence: $0.sequence, sink: name, position: Optional(earlier ?? $1))
            }
            batches += 1
            let number = batches
            unmarked.append((number, written.start))
            marking.enter()
            store.markDurably(marks, sink: name, metrics: metrics, retryLog: markRetryLog) { [self] _ in
                queue.async { [self] in
                    unmarked.removeAll { $0.number == number }
                    marking.leave()
                }
            }
        } catch {
            failures += 1
            metrics.delivery(sink: name, outcome: "write_error")
            metrics.storageError(operation: "file_write")
            logger.error(
                "file sink write failed; retrying with backoff",
                metadata: [
                    "sink": "\(name)", "path": "\(sink.path)", "events": .stringConvertible(batch.count),
                    "attempt": .stringConvertible(failures), "error": "\(error)",
                ]
            )
        }
    }
}
