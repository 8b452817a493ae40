import Foundation

/// Test hook that makes chosen storage system calls fail with a chosen `errno`, without a full disk.
///
/// The journal, dedup file and file sink consult it before `pwrite`, `write`, `fdatasync` and `fsync`.
/// Production code passes nil.
public final class SyscallFaults: @unchecked Sendable {
    private let lock = NSLock()
    private var planned: [String: (errno: Int32, remaining: Int)] = [:]

    /// Creates a hook with no planned failures.
    public init() {}

    /// Makes the next `times` calls named `call` (e.g. `"pwrite"`, `"fdatasync"`) fail with `errno`.
    public func fail(_ call: String, errno: Int32, times: Int = Int.max) {
        lock.withLock { planned[call] = (errno, times) }
    }

    /// Stops all planned failures.
    public func clear() {
        lock.withLock { planned.removeAll() }
    }

    /// The errno to fail `call` with now, consuming one planned failure; nil to let the call run.
    func injectedErrno(for call: String) -> Int32? {
        lock.withLock {
            guard let plan = planned[call], plan.remaining > 0 else { return nil }
            planned[call] = (plan.errno, plan.remaining - 1)
            return plan.errno
        }
    }
}
