import Glibc

extension EventLoop {
    /// Runs `body`, holding back the wake-ups that ``execute(_:)`` calls made by this thread inside it would send:
    /// each loop given a task meanwhile is woken once, when `body` returns (or throws). Other threads' tasks still
    /// wake the loop at once (and with it, run the tasks held back so far).
    ///
    /// For a thread that hands a burst of tasks to the loops (the event store answering a batch of requests): a loop
    /// on another CPU drains its inbox as soon as it is woken, so without this each task could cost its own
    /// `eventfd` write, wake-up and `epoll_wait`. Tasks wait at most as long as `body` runs: keep it short and never
    /// block in it. Nested calls join the outermost.
    public static func batchingWakeUps<R>(_ body: () throws -> R) rethrows -> R {
        if HeldWakeUps.current != nil { return try body() }
        let held = HeldWakeUps()
        HeldWakeUps.current = held
        defer {
            HeldWakeUps.current = nil
            held.send()
        }
        return try body()
    }

    /// Inside ``batchingWakeUps(_:)``, sends the wake-ups held back so far (and goes on holding back later ones);
    /// outside it, does nothing. For a batch that is about to block (a disk sync): the answers given so far must not
    /// wait for it.
    public static func sendHeldWakeUps() {
        HeldWakeUps.current?.send()
    }
}

/// The loops owed a wake-up inside one thread's ``EventLoop/batchingWakeUps(_:)``; reached through a pthread key.
final class HeldWakeUps {
    private var loops: [EventLoop] = []

    /// The thread's pthread key, created once for the process.
    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        let status = pthread_key_create(&key, nil)
        precondition(status == 0, "pthread_key_create: \(status)")
        return key
    }()

    /// This thread's held wake-ups, if it is inside ``EventLoop/batchingWakeUps(_:)``. The value is kept alive by
    /// that call's frame, so the key holds an unretained reference.
    static var current: HeldWakeUps? {
        get { pthread_getspecific(key).map { Unmanaged<HeldWakeUps>.fromOpaque($0).takeUnretainedValue() } }
        set { pthread_setspecific(key, newValue.map { Unmanaged.passUnretained($0).toOpaque() }) }
    }

    func add(_ loop: EventLoop) {
        if !loops.contains(where: { $0 === loop }) { loops.append(loop) }
    }

    /// Sends the wake-ups held so far and forgets them.
    func send() {
        for loop in loops { loop.sendHeldWakeUp() }
        loops.removeAll(keepingCapacity: true)
    }
}
