import Glibc
import Synchronization

/// Test hook that makes chosen system calls fail with a chosen `errno`, without a full disk, or take longer (a slow
/// disk).
///
/// ``SyscallFile`` consults it before `pwrite`, `write`, `fdatasync` and `fsync`; ``Syscall`` before a directory
/// sync (`"fsync-directory"`) and ``Syscall/renameDurably(_:_:faults:)`` before `"rename"`. Production code passes
/// nil.
public final class SyscallFaults: Sendable {
    private let planned = Mutex<[String: (errno: Int32, remaining: Int)]>([:])
    private let delays = Mutex<[String: UInt32]>([:])
    private let held = Mutex<Set<String>>([])

    /// Creates a hook with no planned failures.
    public init() {}

    /// Makes the next `times` calls named `call` (e.g. `"pwrite"`, `"fdatasync"`) fail with `errno`.
    public func fail(_ call: String, errno: Int32, times: Int = Int.max) {
        planned.withLock { $0[call] = (errno, times) }
    }

    /// Makes every later call named `call` (e.g. `"fdatasync"`) wait `microseconds` before it runs.
    public func delay(_ call: String, microseconds: UInt32) {
        delays.withLock { $0[call] = microseconds }
    }

    /// Makes every later call named `call` wait until ``release(_:)`` (a disk that stalls for as long as a test
    /// needs, whatever the scheduling of its threads).
    public func hold(_ call: String) {
        held.withLock { _ = $0.insert(call) }
    }

    /// Lets the calls named `call` that ``hold(_:)`` keeps waiting run, and later ones at once.
    public func release(_ call: String) {
        held.withLock { _ = $0.remove(call) }
    }

    /// Stops all planned failures, delays and holds.
    public func clear() {
        planned.withLock { $0.removeAll() }
        delays.withLock { $0.removeAll() }
        held.withLock { $0.removeAll() }
    }

    /// Waits as long as ``delay(_:microseconds:)`` asked for `call`, if it did, and while ``hold(_:)`` holds it.
    public func waitIfDelayed(_ call: String) {
        if let microseconds = delays.withLock({ $0[call] }) { usleep(microseconds) }
        while held.withLock({ $0.contains(call) }) { usleep(1000) }
    }

    /// The errno to fail `call` with now, consuming one planned failure; nil to let the call run.
    public func injectedErrno(for call: String) -> Int32? {
        planned.withLock { planned in
            guard let plan = planned[call], plan.remaining > 0 else { return nil }
            planned[call] = (plan.errno, plan.remaining - 1)
            return plan.errno
        }
    }
}
