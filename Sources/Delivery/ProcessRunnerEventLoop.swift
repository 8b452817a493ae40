import CSystem
import Dispatch
import Foundation
import Glibc
import Synchronization

/// One thread of the process's own that waits on an epoll set for the runner's pipes and pidfds and hands each
/// readiness to the queue of the run that owns the descriptor.
///
/// Why not Dispatch read/write sources: libdispatch's epoll backend (swift-corelibs-libdispatch, Linux) frees a
/// source's multiplexing note on the source's own target queue when it acknowledges an `EPOLLHUP` (which every
/// output pipe delivers when its child exits), while the manager thread may still be walking that note in
/// `_dispatch_event_merge_fd`. With many children exiting at once this crashed the process (SIGSEGV in
/// `_dispatch_event_loop_drain`), about one test run in three.
///
/// Every watch is one-shot: after a notification the descriptor stays disarmed until its handler calls `rearm`
/// (after reading or writing until `EAGAIN`), so a hang-up cannot spin. epoll reports a watch by a token that is
/// never reused, not by a pointer: a notification for a watch closed meanwhile is dropped, and handlers check
/// their own state too, so a stale notification is harmless. A watch is removed from the epoll set while its
/// descriptor is still open, so a reused descriptor number can never inherit it.
final class ProcessRunnerEventLoop: Sendable {
    /// What a watch waits for.
    enum Interest: Sendable { case readable, writable }

    /// A descriptor being watched; close it with `close(_:)` only.
    struct Watch: Sendable {
        /// The descriptor.
        let fd: Int32
        fileprivate let token: UInt64
        fileprivate let interest: Interest
    }

    private struct Registration: Sendable {
        let queue: DispatchQueue
        let handler: @Sendable () -> Void
    }

    private struct State {
        var nextToken: UInt64 = 1
        var registrations: [UInt64: Registration] = [:]
    }

    /// The loop of this process, or why it could not be created.
    static let shared: Result<ProcessRunnerEventLoop, ProcessRunnerError> = {
        do throws(ProcessRunnerError) {
            return .success(try ProcessRunnerEventLoop())
        } catch {
            return .failure(error)
        }
    }()

    /// Notifications taken from the kernel per wait.
    private static let batchSize: Int32 = 64
    /// Delay before a handler is called again when re-arming failed (polling instead of waiting).
    private static let rearmFallbackDelay = DispatchTimeInterval.milliseconds(10)

    private let epfd: Int32
    private let state = Mutex(State())

    private init() throws(ProcessRunnerError) {
        epfd = csystem_epoll_create()
        guard epfd >= 0 else { throw .systemCall("epoll_create1", errno: errno) }
        let thread = Thread { [self] in waitForever() }
        thread.name = "vipps-webhookd.process-events"
        thread.start()
    }

    /// Starts watching `fd`: `handler` runs on `queue` once `fd` is ready (or hung up, or in error).
    /// - Throws: `ProcessRunnerError.systemCall("epoll_ctl", …)` (e.g. ENOSPC: the user's epoll watch limit).
    func watch(
        _ fd: Int32,
        for interest: Interest,
        queue: DispatchQueue,
        handler: @escaping @Sendable () -> Void
    ) throws(ProcessRunnerError) -> Watch {
        let token = state.withLock { state in
            let token = state.nextToken
            state.nextToken += 1
            state.registrations[token] = Registration(queue: queue, handler: handler)
            return token
        }
        guard csystem_epoll_arm(epfd, fd, 1, interest == .writable ? 1 : 0, token) == 0 else {
            let code = errno
            _ = state.withLock { $0.registrations.removeValue(forKey: token) }
            throw .systemCall("epoll_ctl(ADD)", errno: code)
        }
        return Watch(fd: fd, token: token, interest: interest)
    }

    /// Arms `watch` for its next notification. Re-arming an added, open descriptor does not fail in practice;
    /// if it ever does, the handler is called again after a short delay instead, so a run never waits forever.
    func rearm(_ watch: Watch) {
        guard csystem_epoll_arm(epfd, watch.fd, 0, watch.interest == .writable ? 1 : 0, watch.token) != 0 else {
            return
        }
        if let registration = state.withLock({ $0.registrations[watch.token] }) {
            registration.queue.asyncAfter(
                deadline: .now() + Self.rearmFallbackDelay,
                execute: registration.handler
            )
        }
    }

    /// Stops watching and closes the descriptor (removed from the epoll set first, while it is still open).
    func close(_ watch: Watch) {
        _ = csystem_epoll_remove(epfd, watch.fd)
        _ = state.withLock { $0.registrations.removeValue(forKey: watch.token) }
        ProcessRunnerSyscall.close(watch.fd)
    }

    private func waitForever() {
        var tokens = [UInt64](repeating: 0, count: Int(Self.batchSize))
        while true {
            let count = tokens.withUnsafeMutableBufferPointer {
                csystem_epoll_wait(epfd, $0.baseAddress, Self.batchSize)
            }
            if count < 0 {
                let code = errno
                if code == EINTR { continue }
                // Only a broken epoll descriptor (EBADF, EINVAL) gets here; without the loop no child is ever
                // reaped again, so stop loudly rather than hang every hook.
                fatalError("epoll_wait failed: \(String(cString: strerror(code))) (errno \(code))")
            }
            let ready = state.withLock { state in tokens[0..<Int(count)].compactMap { state.registrations[$0] } }
            for registration in ready {
                registration.queue.async(execute: registration.handler)
            }
        }
    }
}
