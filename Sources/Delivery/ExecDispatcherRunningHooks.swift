import Dispatch
import POSIX

/// The hook runs of a dispatcher in flight, so that shutdown can kill them.
final class RunningHooks: @unchecked Sendable {
    private let lock = DispatchQueue(label: "vipps-webhookd.exec.running")
    private var next: UInt64 = 0
    private var handles: [UInt64: ProcessRunnerHandle] = [:]
    private var released: Set<UInt64> = []
    /// ``killAll()`` was called: a run registered later (spawned just before, registered just after) is killed too.
    private var killing = false

    /// A token for a run about to start.
    func reserve() -> UInt64 {
        lock.sync {
            next += 1
            return next
        }
    }

    /// Records the handle of a started run, unless it has already ended; a run that never started (nil: its spawn
    /// failed, and it was released before this) is forgotten.
    func register(_ handle: ProcessRunnerHandle?, token: UInt64) {
        let kill = lock.sync {
            guard released.remove(token) == nil, let handle else { return false }
            handles[token] = handle
            return killing
        }
        if kill { handle?.kill() }
    }

    /// Runs recorded, started or ended early (for tests: none once every run has ended and been registered).
    var count: Int { lock.sync { handles.count + released.count } }

    /// Forgets a run that ended (possibly before `register`).
    func release(_ token: UInt64) {
        lock.sync {
            if handles.removeValue(forKey: token) == nil {
                released.insert(token)
            }
        }
    }

    /// Kills every run in flight, and every run registered from now on.
    func killAll() {
        let running = lock.sync {
            killing = true
            return Array(handles.values)
        }
        for handle in running { handle.kill() }
    }
}
