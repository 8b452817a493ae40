import CSystem
import Glibc
import Synchronization

/// Something registered with an `EventLoop`: told about readiness of its descriptor, on the loop's thread.
public protocol EventLoopClient: AnyObject {
    /// `events` is the epoll mask (EPOLLIN, EPOLLOUT, EPOLLRDHUP, EPOLLHUP, EPOLLERR bits).
    func ready(_ events: UInt32)
}

/// One thread of the process's own waiting on an epoll set: descriptors, tasks posted from other threads, and a
/// periodic tick. The HTTP server runs its connections on such loops (``register(_:events:client:)``); the process
/// runner watches its children's pipes and pidfds on one (``watch(_:for:queue:handler:)``).
///
/// Why not Dispatch sources: every read event of a Dispatch source wakes a worker thread and re-arms the source
/// through libdispatch's manager thread, which cost more CPU per request than the request's own work; and
/// libdispatch's epoll backend on Linux frees a source's multiplexing note on the source's own target queue when it
/// acknowledges an `EPOLLHUP` (which every output pipe delivers when its child exits), while the manager thread may
/// still be walking that note in `_dispatch_event_merge_fd` (swift-corelibs-libdispatch #949): with many children
/// exiting at once this crashed the process (SIGSEGV in `_dispatch_event_loop_drain`), about one test run in three.
/// Here a readable socket is read on the thread that saw it, and an answer given on another thread (after a journal
/// fsync) reaches its connection through `execute`, which wakes the loop at most once per batch of tasks (one
/// `eventfd` write).
///
/// A client registered with `register` is touched only on the loop's thread. Descriptors are reported by a token
/// that is never reused, so a readiness for a client or watch removed meanwhile is dropped; a descriptor is removed
/// from the epoll set while it is still open, so a reused descriptor number can never inherit it.
public final class EventLoop: @unchecked Sendable {
    private struct Inbox {
        var tasks: [@Sendable () -> Void] = []
        /// Whether a wake-up is already on its way (the eventfd was written since the loop last emptied the inbox).
        var wakeSent = false
        var stopping = false
    }

    /// Interval of `tick` while `wantsTicks` is set.
    private static let tickInterval: Int32 = 50  // milliseconds
    private static let batchSize: Int32 = 128
    private static let wakeToken: UInt64 = 0

    let epfd: Int32
    private let wakeFD: Int32
    private let inbox = Mutex(Inbox())
    private let threadID = Atomic<UInt>(0)
    /// The next token of a registration or watch (from any thread).
    private let nextToken = Atomic<UInt64>(1)
    /// Watches, which any thread may add or remove (see `EventLoop+Watch.swift`).
    let watches = Mutex<[UInt64: Watch.Registration]>([:])

    // Loop thread only.
    private var clients: [UInt64: any EventLoopClient] = [:]
    /// The task array the inbox is given next, emptied; kept only up to ``keptTaskCapacity`` (after a burst, the
    /// big one is freed).
    private var spareTasks: [@Sendable () -> Void] = []
    private static let keptTaskCapacity = 1024
    private var timers: [(deadline: UInt64, task: () -> Void)] = []
    /// Called every `tickInterval` while `wantsTicks` is true (to check deadlines); loop thread only.
    public var tick: (_ nowNanoseconds: UInt64) -> Void = { _ in }
    /// Whether the loop should wake up for `tick` even when nothing else happens; loop thread only.
    public var wantsTicks = false

    /// Creates the epoll set and starts the thread.
    /// - Parameter name: The thread's name (the first 15 bytes), as `ps -L` and `/proc` show it.
    /// - Throws: ``SystemCallError`` when the epoll set, its wake-up eventfd or the thread cannot be created.
    public init(name: String) throws(SystemCallError) {
        epfd = try Syscall.retrying("epoll_create1") { csystem_epoll_create() }
        do {
            wakeFD = try Syscall.retrying("eventfd") { csystem_eventfd() }
        } catch {
            Syscall.close(epfd)
            throw error
        }
        let events = EventMask.input | EventMask.edgeTriggered
        do {
            try Syscall.retrying("epoll_ctl(eventfd)") {
                csystem_epoll_control(epfd, csystem_epoll_add, wakeFD, events, Self.wakeToken)
            }
            try JoinableThread.detached { [self] in run(name: name) }
        } catch {
            Syscall.close(wakeFD)
            Syscall.close(epfd)
            throw error
        }
    }

    deinit {
        Syscall.close(wakeFD)
        Syscall.close(epfd)
    }

    /// Whether the caller runs on this loop's thread.
    public var inLoop: Bool { threadID.load(ordering: .relaxed) == UInt(pthread_self()) }

    /// Runs `task` on the loop's thread (after the current iteration's work), from any thread. False (and `task`
    /// dropped) once the loop is stopping.
    @discardableResult
    public func execute(_ task: @escaping @Sendable () -> Void) -> Bool {
        let (accepted, wake, held) = inbox.withLock { inbox -> (Bool, Bool, HeldWakeUps?) in
            guard !inbox.stopping else { return (false, false, nil) }
            inbox.tasks.append(task)
            guard !inbox.wakeSent else { return (true, false, nil) }
            // A wake-up held back by this thread is not on its way yet: other threads' tasks must still send one.
            let held = HeldWakeUps.current
            if held == nil { inbox.wakeSent = true }
            return (true, true, held)
        }
        if wake {
            if let held { held.add(self) } else { signal() }
        }
        return accepted
    }

    /// Sends a wake-up held back by ``batchingWakeUps(_:)``, unless one is on its way already (sent by another
    /// thread after the held tasks were posted, so it covers them).
    func sendHeldWakeUp() {
        let wake = inbox.withLock { inbox in
            guard !inbox.wakeSent else { return false }
            inbox.wakeSent = true
            return true
        }
        if wake { signal() }
    }

    /// Runs `task` on the loop's thread once `milliseconds` have passed (checked at tick resolution); loop thread only.
    public func after(milliseconds: Int, _ task: @escaping () -> Void) {
        timers.append((monotonicNanoseconds() + UInt64(max(0, milliseconds)) * 1_000_000, task))
    }

    /// Ends the thread after its current iteration; pending and later tasks are dropped.
    public func stop() {
        inbox.withLock { $0.stopping = true }
        signal()
    }

    /// Registers `fd` for `events` (``EventMask`` bits); loop thread only. Returns the token to `unregister` with.
    /// - Throws: ``SystemCallError`` for `epoll_ctl(ADD)` (e.g. ENOSPC: the user's epoll watch limit).
    public func register(
        _ fd: Int32,
        events: UInt32,
        client: any EventLoopClient
    ) throws(SystemCallError) -> UInt64 {
        let token = makeToken()
        try Syscall.retrying("epoll_ctl(ADD)") { csystem_epoll_control(epfd, csystem_epoll_add, fd, events, token) }
        clients[token] = client
        return token
    }

    /// Removes `fd` (still open) from the epoll set and forgets its client; loop thread only.
    public func unregister(_ fd: Int32, token: UInt64) {
        _ = csystem_epoll_control(epfd, csystem_epoll_delete, fd, 0, 0)
        clients[token] = nil
    }

    /// A token never handed out before.
    func makeToken() -> UInt64 {
        nextToken.add(1, ordering: .relaxed).oldValue
    }

    // MARK: - The thread

    /// Wakes the loop's thread: an `eventfd` write that `epoll_wait` sees.
    private func signal() {
        var one: UInt64 = 1
        _ = write(wakeFD, &one, 8)  // EAGAIN only when the counter is full: a wake-up is pending anyway
    }

    private func run(name: String) {
        threadID.store(UInt(pthread_self()), ordering: .relaxed)
        _ = csystem_set_thread_name(String(name.prefix(15)))
        var tokens = [UInt64](repeating: 0, count: Int(Self.batchSize))
        var events = [UInt32](repeating: 0, count: Int(Self.batchSize))
        var nextTick = monotonicNanoseconds() + UInt64(Self.tickInterval) * 1_000_000
        while true {
            let timeout: Int32
            if wantsTicks || !timers.isEmpty {
                let now = monotonicNanoseconds()
                timeout = nextTick > now ? Int32((nextTick - now) / 1_000_000) + 1 : 0
            } else {
                timeout = -1
            }
            let count = tokens.withUnsafeMutableBufferPointer { tokenBuffer in
                events.withUnsafeMutableBufferPointer { eventBuffer in
                    csystem_epoll_wait_events(
                        epfd,
                        tokenBuffer.baseAddress,
                        eventBuffer.baseAddress,
                        Self.batchSize,
                        timeout
                    )
                }
            }
            if count < 0 {
                let code = errno
                if code == EINTR { continue }  // The timeout is computed again for the next tick.
                // Only a broken epoll descriptor (EBADF, EINVAL) gets here; without the loop no connection is served
                // and no child reaped again, so stop loudly rather than hang.
                fatalError("\(SystemCallError(call: "epoll_wait", errno: code))")
            }
            // Posted tasks first: they are mostly answers that clients are waiting for, and a batch of reads
            // (each a whole request's parse and verification) would otherwise delay them.
            if tokens[0..<Int(count)].contains(Self.wakeToken), !runTasks() { break }
            for index in 0..<Int(count) where tokens[index] != Self.wakeToken {
                if let client = clients[tokens[index]] {
                    client.ready(events[index])
                } else {
                    dispatchWatch(tokens[index])
                }
            }
            let now = monotonicNanoseconds()
            if now >= nextTick {
                nextTick = now + UInt64(Self.tickInterval) * 1_000_000
                runTimers(now: now)
                if wantsTicks { tick(now) }
            }
        }
        clients.removeAll()
        watches.withLock { $0.removeAll() }
        timers.removeAll()
        tick = { _ in }
    }

    /// Runs the posted tasks; false once the loop is stopping.
    private func runTasks() -> Bool {
        var drained: UInt64 = 0
        _ = read(wakeFD, &drained, 8)
        // The inbox gets the emptied array of the last round, so appends do not regrow one from nothing each wake.
        var tasks: [@Sendable () -> Void] = []
        swap(&tasks, &spareTasks)
        let stopping = inbox.withLock { inbox in
            inbox.wakeSent = false
            swap(&tasks, &inbox.tasks)
            return inbox.stopping
        }
        if stopping { return false }
        for task in tasks { task() }
        if tasks.capacity <= Self.keptTaskCapacity {
            tasks.removeAll(keepingCapacity: true)
            spareTasks = tasks
        }
        return true
    }

    private func runTimers(now: UInt64) {
        guard !timers.isEmpty else { return }
        let due = timers.filter { $0.deadline <= now }
        timers.removeAll { $0.deadline <= now }
        for timer in due { timer.task() }
    }
}

/// CLOCK_MONOTONIC in nanoseconds.
public func monotonicNanoseconds() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
}

/// epoll event bits as `UInt32`.
public enum EventMask {
    /// Readable, or the peer shut down its side.
    public static let input = csystem_epoll_in | csystem_epoll_rdhup
    /// Writable.
    public static let output = csystem_epoll_out
    /// Edge-triggered: reported once per change, not while the condition lasts.
    public static let edgeTriggered = csystem_epoll_et
    /// Bits after which a read makes progress (data, end of stream or an error to report).
    public static let readableOrClosed = csystem_epoll_in | csystem_epoll_rdhup | csystem_epoll_hup | csystem_epoll_err
    /// Bits saying the peer will send no more (FIN, hang-up, error): reading on reaches the end of the stream.
    public static let peerClosed = csystem_epoll_rdhup | csystem_epoll_hup | csystem_epoll_err
    /// Bits after which a write makes progress (room, or an error to report).
    public static let writableOrClosed = csystem_epoll_out | csystem_epoll_hup | csystem_epoll_err
}
