import CSystem
import Dispatch
import Synchronization

/// One-shot watches: a descriptor's readiness handed to a Dispatch queue, from any thread (the process runner's
/// pipes and pidfds).
///
/// Every watch is one-shot: after a notification the descriptor stays disarmed until its handler calls `rearm`
/// (after reading or writing until `EAGAIN`), so a hang-up cannot spin. A notification for a watch closed meanwhile
/// is dropped, and handlers check their own state too, so a stale notification is harmless.
extension EventLoop {
    /// What a watch waits for.
    public enum Interest: Sendable {
        /// Data to read, end of file, or a readable pidfd (the child exited).
        case readable
        /// Room to write.
        case writable

        /// The epoll bits of one notification of this interest (hang-up and error conditions fire too).
        var events: UInt32 {
            (self == .writable ? csystem_epoll_out : csystem_epoll_in) | csystem_epoll_oneshot
        }
    }

    /// A descriptor being watched; close it with ``close(_:)`` only.
    public struct Watch: Sendable {
        /// Where and what a ready watch runs.
        struct Registration: Sendable {
            let queue: DispatchQueue
            let handler: @Sendable () -> Void
        }

        /// The descriptor.
        public let fd: Int32
        fileprivate let token: UInt64
        fileprivate let interest: Interest
    }

    /// Delay before a handler is called again when re-arming failed (polling instead of waiting).
    private static let rearmFallbackDelay = DispatchTimeInterval.milliseconds(10)

    /// Starts watching `fd`: `handler` runs on `queue` once `fd` is ready (or hung up, or in error). Any thread.
    /// - Throws: ``SystemCallError`` for `epoll_ctl(ADD)` (e.g. ENOSPC: the user's epoll watch limit).
    public func watch(
        _ fd: Int32,
        for interest: Interest,
        queue: DispatchQueue,
        handler: @escaping @Sendable () -> Void
    ) throws(SystemCallError) -> Watch {
        let token = makeToken()
        watches.withLock { $0[token] = Watch.Registration(queue: queue, handler: handler) }
        do {
            try Syscall.retrying("epoll_ctl(ADD)") {
                csystem_epoll_control(epfd, csystem_epoll_add, fd, interest.events, token)
            }
        } catch {
            _ = watches.withLock { $0.removeValue(forKey: token) }
            throw error
        }
        return Watch(fd: fd, token: token, interest: interest)
    }

    /// Arms `watch` for its next notification. Re-arming an added, open descriptor does not fail in practice;
    /// if it ever does, the handler is called again after a short delay instead, so a run never waits forever.
    public func rearm(_ watch: Watch) {
        let rearmed = csystem_epoll_control(epfd, csystem_epoll_modify, watch.fd, watch.interest.events, watch.token)
        guard rearmed != 0 else { return }
        if let registration = watches.withLock({ $0[watch.token] }) {
            registration.queue.asyncAfter(deadline: .now() + Self.rearmFallbackDelay, execute: registration.handler)
        }
    }

    /// Stops watching and closes the descriptor (removed from the epoll set first, while it is still open).
    public func close(_ watch: Watch) {
        _ = csystem_epoll_control(epfd, csystem_epoll_delete, watch.fd, 0, 0)
        _ = watches.withLock { $0.removeValue(forKey: watch.token) }
        Syscall.close(watch.fd)
    }

    /// Hands a ready watch to its queue; a token of a watch closed meanwhile is dropped. Loop thread.
    func dispatchWatch(_ token: UInt64) {
        if let registration = watches.withLock({ $0[token] }) {
            registration.queue.async(execute: registration.handler)
        }
    }
}
