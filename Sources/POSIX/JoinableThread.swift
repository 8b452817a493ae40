import Glibc

/// A POSIX thread running one closure, which the creator waits for with `join()`. The one thread starter of the
/// project (event loops start theirs with ``detached(_:)``); a new thread inherits its creator's signal mask.
public final class JoinableThread {
    private final class Work {
        let body: () -> Void
        init(_ body: @escaping () -> Void) { self.body = body }
    }

    private let thread: pthread_t

    /// Starts a thread running `body`; stops the process when no thread can be created.
    public init(_ body: @escaping () -> Void) {
        let started = Self.start(body)
        precondition(started.errno == 0, "\(SystemCallError(call: "pthread_create", errno: started.errno))")
        thread = started.thread
    }

    /// Waits until the thread has finished.
    public func join() {
        pthread_join(thread, nil)
    }

    /// Starts a thread running `body` that nobody joins.
    /// - Throws: ``SystemCallError`` for `pthread_create` (EAGAIN: the thread limit).
    public static func detached(_ body: @escaping () -> Void) throws(SystemCallError) {
        let started = start(body)
        guard started.errno == 0 else { throw SystemCallError(call: "pthread_create", errno: started.errno) }
        pthread_detach(started.thread)
    }

    /// `pthread_create(3)` of a thread running `body`: the thread, or the error number (0 on success).
    private static func start(_ body: @escaping () -> Void) -> (thread: pthread_t, errno: Int32) {
        var thread = pthread_t()
        let work = Unmanaged.passRetained(Work(body)).toOpaque()
        let result = pthread_create(
            &thread,
            nil,
            { context in
                let work = Unmanaged<Work>.fromOpaque(context!).takeRetainedValue()
                work.body()
                return nil
            },
            work
        )
        if result != 0 { Unmanaged<Work>.fromOpaque(work).release() }
        return (thread, result)
    }
}
