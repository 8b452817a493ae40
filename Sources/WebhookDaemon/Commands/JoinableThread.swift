import Glibc

/// A POSIX thread running one closure, which the creator waits for with `join()`.
final class JoinableThread {
    private final class Work {
        let body: () -> Void
        init(_ body: @escaping () -> Void) { self.body = body }
    }

    private var thread = pthread_t()

    /// Starts a thread running `body`.
    init(_ body: @escaping () -> Void) {
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
        precondition(result == 0, "pthread_create failed: \(result)")
    }

    /// Waits until the thread has finished.
    func join() {
        pthread_join(thread, nil)
    }
}
