import CSystem
import Glibc
import Synchronization

/// Something registered with an `EventLoop`: told about readiness of its descriptor, on the loop's thread.
protocol EventLoopClient: AnyObject {
    /// `events` is the epoll mask (EPOLLIN, EPOLLOUT, EPOLLRDHUP, EPOLLHUP, EPOLLERR bits).
    func ready(_ events: UInt32)
}

/// One thread waiting on an epoll set: descriptors, tasks posted from other threads, and a periodic tick.
///
/// Why not Dispatch sources: every read event of a Dispatch source wakes a worker thread and re-arms the source
/// through libdispatch's manager thread, which cost more CPU per request than the request's own work; and
/// libdispatch's epoll backend on Linux has a use-after-free on `EPOLLHUP` (swift-corelibs-libdispatch #949, see
/// `ProcessRunnerEventLoop`). Here a readable socket is read on the thread that saw it, and an answer given on
/// another thread (after a journal fsync) reaches its connection through `execute`, which wakes the loop at most
/// once per batch of tasks (one `eventfd` write).
///
/// Everything registered with the loop is touched only on its thread. Descriptors are reported by a token that is
/// never reused, so a readiness for a client removed meanwhile is dropped.
final class EventLoop: @unchecked Sendable {
    private struct Inbox {
        var tasks: [@Sendable () -> Void] = []
        /// Whether a wake-up is already on its way (the eventfd was written since the loop last emptied the inbox).
        var wakeSent = false
        var stopping = false
    }

    /// Interval of `tick` while `wantsTicks` is set.
    static let tickInterval: Int32 = 50  // milliseconds
    private static let batchSize: Int32 = 128
    private static let wakeToken: UInt64 = 0

    private let epfd: Int32
    private let wakeFD: Int32
    private let inbox = Mutex(Inbox())
    private let threadID = Atomic<UInt>(0)

    // Loop thread only.
    private var clients: [UInt64: any EventLoopClient] = [:]
    private var nextToken: UInt64 = 1
    private var timers: [(deadline: UInt64, task: () -> Void)] = []
    /// Called every `tickInterval` while `wantsTicks` is true (to check deadlines).
    var tick: (_ nowNanoseconds: UInt64) -> Void = { _ in }
    /// Whether the loop should wake up for `tick` even when nothing else happens.
    var wantsTicks = false

    /// Creates the epoll set and starts the thread.
    init(name: String) throws(HTTPServerError) {
        epfd = csystem_epoll_create()
        guard epfd >= 0 else { throw .system(call: "epoll_create1", errno: errno) }
        wakeFD = csystem_eventfd()
        guard wakeFD >= 0 else {
            let code = errno
            Syscall.close(epfd)
            throw .system(call: "eventfd", errno: code)
        }
        guard csystem_epoll_add_events(epfd, wakeFD, EventMask.input | EventMask.edgeTriggered, Self.wakeToken) == 0
        else {
            let code = errno
            Syscall.close(wakeFD)
            Syscall.close(epfd)
            throw .system(call: "epoll_ctl(eventfd)", errno: code)
        }
        try startThread(name: name)
    }

    deinit {
        Syscall.close(wakeFD)
        Syscall.close(epfd)
    }

    /// Whether the caller runs on this loop's thread.
    var inLoop: Bool { threadID.load(ordering: .relaxed) == UInt(pthread_self()) }

    /// Runs `task` on the loop's thread (after the current iteration's work), from any thread. False (and `task`
    /// dropped) once the loop is stopping.
    @discardableResult
    func execute(_ task: @escaping @Sendable () -> Void) -> Bool {
        let (accepted, wake) = inbox.withLock { inbox -> (Bool, Bool) in
            guard !inbox.stopping else { return (false, false) }
            inbox.tasks.append(task)
            guard !inbox.wakeSent else { return (true, false) }
            inbox.wakeSent = true
            return (true, true)
        }
        if wake { signal() }
        return accepted
    }

    /// Runs `task` on the loop's thread once `milliseconds` have passed (checked at tick resolution); loop thread only.
    func after(milliseconds: Int, _ task: @escaping () -> Void) {
        timers.append((monotonicNanoseconds() + UInt64(max(0, milliseconds)) * 1_000_000, task))
    }

    /// Ends the thread after its current iteration; pending and later tasks are dropped.
    func stop() {
        inbox.withLock { $0.stopping = true }
        signal()
    }

    /// Registers `fd` for `events`; loop thread only. Returns the token to `unregister` with.
    func register(_ fd: Int32, events: UInt32, client: any EventLoopClient) throws(HTTPServerError) -> UInt64 {
        let token = nextToken
        nextToken += 1
        guard csystem_epoll_add_events(epfd, fd, events, token) == 0 else {
            throw .system(call: "epoll_ctl(ADD)", errno: errno)
        }
        clients[token] = client
        return token
    }

    /// Removes `fd` (still open) from the epoll set and forgets its client; loop thread only.
    func unregister(_ fd: Int32, token: UInt64) {
        _ = csystem_epoll_remove(epfd, fd)
        clients[token] = nil
    }

    // MARK: - The thread

    private func signal() {
        var one: UInt64 = 1
        _ = write(wakeFD, &one, 8)  // EAGAIN only when the counter is full: a wake-up is pending anyway
    }

    private func startThread(name: String) throws(HTTPServerError) {
        final class Start {
            let body: () -> Void
            init(_ body: @escaping () -> Void) { self.body = body }
        }
        let start = Unmanaged.passRetained(Start { [self] in run(name: name) }).toOpaque()
        var thread = pthread_t()
        let result = pthread_create(
            &thread,
            nil,
            { argument in
                Unmanaged<Start>.fromOpaque(argument!).takeRetainedValue().body()
                return nil
            },
            start
        )
        guard result == 0 else {
            Unmanaged<Start>.fromOpaque(start).release()
            throw .system(call: "pthread_create", errno: result)
        }
        pthread_detach(thread)
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
                if code == EINTR { continue }
                fatalError("epoll_wait failed: \(systemErrorMessage(code)) (errno \(code))")
            }
            // Posted tasks first: they are mostly answers that clients are waiting for, and a batch of reads
            // (each a whole request's parse and verification) would otherwise delay them.
            if tokens[0..<Int(count)].contains(Self.wakeToken), !runTasks() { break }
            for index in 0..<Int(count) where tokens[index] != Self.wakeToken {
                clients[tokens[index]]?.ready(events[index])
            }
            let now = monotonicNanoseconds()
            if now >= nextTick {
                nextTick = now + UInt64(Self.tickInterval) * 1_000_000
                runTimers(now: now)
                if wantsTicks { tick(now) }
            }
        }
        clients.removeAll()
        timers.removeAll()
        tick = { _ in }
    }

    /// Runs the posted tasks; false once the loop is stopping.
    private func runTasks() -> Bool {
        var drained: UInt64 = 0
        _ = read(wakeFD, &drained, 8)
        var tasks: [@Sendable () -> Void] = []
        let stopping = inbox.withLock { inbox in
            inbox.wakeSent = false
            swap(&tasks, &inbox.tasks)
            return inbox.stopping
        }
        if stopping { return false }
        for task in tasks { task() }
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
func monotonicNanoseconds() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
}

/// epoll event bits as `UInt32`.
enum EventMask {
    static let input = csystem_epoll_in | csystem_epoll_rdhup
    static let output = csystem_epoll_out
    static let edgeTriggered = csystem_epoll_et
    /// Bits after which a read makes progress (data, end of stream or an error to report).
    static let readableOrClosed = csystem_epoll_in | csystem_epoll_rdhup | csystem_epoll_hup | csystem_epoll_err
    /// Bits saying the peer will send no more (FIN, hang-up, error): reading on reaches the end of the stream.
    static let peerClosed = csystem_epoll_rdhup | csystem_epoll_hup | csystem_epoll_err
    /// Bits after which a write makes progress (room, or an error to report).
    static let writableOrClosed = csystem_epoll_out | csystem_epoll_hup | csystem_epoll_err
}
