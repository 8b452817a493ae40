import Synchronization

/// OpenSSL contexts kept for reuse, so a digest or MAC allocates nothing once warm: a caller takes one, uses it
/// alone, and gives it back. At most `capacity` idle contexts are kept (one per thread that hashes at once is
/// enough); a context given back to a full pool is freed.
final class ContextPool: Sendable {
    private let idle: Mutex<[UInt]>
    private let capacity: Int
    private let make: @Sendable () -> OpaquePointer?
    private let free: @Sendable (OpaquePointer) -> Void

    /// - Parameters:
    ///   - capacity: how many idle contexts to keep.
    ///   - make: a new context; nil when OpenSSL cannot make one (a fatal error for the caller).
    ///   - free: frees a context.
    init(
        capacity: Int = 16,
        make: @escaping @Sendable () -> OpaquePointer?,
        free: @escaping @Sendable (OpaquePointer) -> Void
    ) {
        self.capacity = capacity
        self.make = make
        self.free = free
        var idle: [UInt] = []
        idle.reserveCapacity(capacity)
        self.idle = Mutex(idle)
    }

    deinit {
        for address in idle.withLock({ $0 }) { free(OpaquePointer(bitPattern: address)!) }
    }

    /// Runs `body` with a context no other thread uses meanwhile.
    func withContext<R>(_ body: (OpaquePointer) -> R) -> R {
        let reused = idle.withLock { $0.popLast() }
        guard let context = reused.flatMap({ OpaquePointer(bitPattern: $0) }) ?? make() else {
            preconditionFailure("OpenSSL could not allocate a context")
        }
        let result = body(context)
        let kept = idle.withLock { idle in
            guard idle.count < capacity else { return false }
            idle.append(UInt(bitPattern: context))
            return true
        }
        if !kept { free(context) }
        return result
    }
}
