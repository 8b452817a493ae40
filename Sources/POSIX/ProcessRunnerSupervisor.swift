import CSystem
import Dispatch
import Glibc

/// The state of one running child: feeds stdin, collects output, notices the exit, enforces the timeout.
///
/// Every mutable property is touched only on `queue` (a serial queue of its own), which is what makes the
/// `@unchecked Sendable` sound. The pipes and the pidfd are watched by an `EventLoop` (not by Dispatch sources,
/// see there why), whose handlers run on `queue`; a descriptor is closed only through its watch.
final class ProcessRunnerSupervisor: @unchecked Sendable {
    private enum Stream { case stdout, stderr }

    let pid: pid_t
    private let queue: DispatchQueue
    private let loop: EventLoop
    private let completion: @Sendable (ProcessRunnerResult) -> Void
    private let timeout: Duration
    private let terminationGrace: Duration
    private let outputLimit: Int
    private let outputDrainGrace: Duration
    private let startedAt = ContinuousClock.now

    private var stdinBytes: [UInt8]
    private var stdinOffset = 0
    private var stdinWatch: EventLoop.Watch?
    private var readers: [Stream: EventLoop.Watch] = [:]
    private var outputs: [Stream: ProcessRunnerResult.Output] = [.stdout: .init(), .stderr: .init()]
    private var scratch = [UInt8](repeating: 0, count: 64 * 1024)
    private var pidWatch: EventLoop.Watch?
    private var timers: [any DispatchSourceTimer] = []
    private var termination: ProcessRunnerResult.Termination?
    private var timedOut = false
    private var killRequested = false
    private var finished = false

    init(
        pid: pid_t,
        request: ProcessRunnerRequest,
        queue: DispatchQueue,
        loop: EventLoop,
        completion: @escaping @Sendable (ProcessRunnerResult) -> Void
    ) {
        self.pid = pid
        self.queue = queue
        self.loop = loop
        self.completion = completion
        self.timeout = request.timeout
        self.terminationGrace = request.terminationGrace
        self.outputLimit = max(0, request.outputLimit)
        self.outputDrainGrace = request.outputDrainGrace
        self.stdinBytes = request.stdin
    }

    /// Takes ownership of the parent's pipe ends and the pidfd and starts watching them and the timeout.
    ///
    /// Runs on `queue` (new and idle, so this does not wait), so no handler can run before every watch is set.
    /// - Throws: `ProcessRunnerError` when a descriptor cannot be watched; then all four are closed, nothing is
    ///   watched and the completion is never called (the caller kills and reaps the child).
    func start(stdin: Int32, stdout: Int32, stderr: Int32, pidfd: Int32) throws(ProcessRunnerError) {
        let outcome: Result<Void, ProcessRunnerError> = queue.sync {
            var unwatched: Set<Int32> = [stdin, stdout, stderr, pidfd]
            do throws(SystemCallError) {
                pidWatch = try loop.watch(pidfd, for: .readable, queue: queue) { [self] in reap() }
                unwatched.remove(pidfd)
                for (stream, fd) in [(Stream.stdout, stdout), (Stream.stderr, stderr)] {
                    readers[stream] = try loop.watch(fd, for: .readable, queue: queue) { [self] in read(stream) }
                    unwatched.remove(fd)
                }
                if !stdinBytes.isEmpty {
                    stdinWatch = try loop.watch(stdin, for: .writable, queue: queue) { [self] in writeInput() }
                    unwatched.remove(stdin)
                }
            } catch {
                for watch in [pidWatch, readers[.stdout], readers[.stderr], stdinWatch].compactMap({ $0 }) {
                    loop.close(watch)
                }
                pidWatch = nil
                readers = [:]
                stdinWatch = nil
                unwatched.forEach(Syscall.close)
                return .failure(ProcessRunnerError(error))
            }
            if stdinWatch == nil {
                Syscall.close(stdin)
            }
            timers.append(makeTimer(after: timeout) { [self] in timeoutExpired() })
            return .success(())
        }
        try outcome.get()
    }

    /// Kills the group unless the child has already been reaped.
    func kill() {
        queue.async { [self] in
            guard termination == nil, !timedOut else { return }
            killRequested = true
            killGroup(SIGKILL)
        }
    }

    private func makeTimer(after delay: Duration, _ handler: @escaping () -> Void) -> any DispatchSourceTimer {
        let timer = DispatchSource.makeTimerSource(queue: queue)
        timer.schedule(deadline: .now() + execDispatchInterval(delay))
        timer.setEventHandler(handler: handler)
        timer.activate()
        return timer
    }

    /// Signals the group and the child itself (in case it left the group); the child is not reaped yet when
    /// this runs, so neither id can have been reused.
    private func killGroup(_ signal: Int32) {
        Syscall.signalGroup(pid, signal)
        _ = Glibc.kill(pid, signal)
    }

    private func timeoutExpired() {
        // A child that ended just before its deadline, its pidfd's event not handled yet, did not time out: the reap
        // on its way tells how it ended (a hook that exited 0 counted as a timeout would run again).
        guard termination == nil, csystem_child_has_ended(pid) != 1 else { return }
        timedOut = true
        if terminationGrace > .zero {
            killGroup(SIGTERM)
            timers.append(
                makeTimer(after: terminationGrace) { [self] in
                    if termination == nil { killGroup(SIGKILL) }
                }
            )
        } else {
            killGroup(SIGKILL)
        }
    }

    private func writeInput() {
        guard let watch = stdinWatch else { return }
        while stdinOffset < stdinBytes.count {
            let written = try? Syscall.nonBlocking("write") {
                stdinBytes.withUnsafeBytes { buffer in
                    Glibc.write(watch.fd, buffer.baseAddress! + stdinOffset, buffer.count - stdinOffset)
                }
            }
            if case .done(let count)? = written, count > 0 {
                stdinOffset += count
            } else if written == .wouldBlock {
                loop.rearm(watch)
                return
            } else {
                break  // EPIPE: the child closed stdin, which it may do.
            }
        }
        closeInput()
    }

    private func closeInput() {
        if let watch = stdinWatch {
            loop.close(watch)
            stdinWatch = nil
            stdinBytes = []
        }
    }

    private func read(_ stream: Stream) {
        guard let watch = readers[stream] else { return }
        // A bounded number of reads per event, so one chatty child cannot monopolise the queue.
        for _ in 0..<16 {
            let result = try? Syscall.nonBlocking("read") {
                scratch.withUnsafeMutableBytes { Glibc.read(watch.fd, $0.baseAddress, $0.count) }
            }
            if case .done(let count)? = result, count > 0 {
                let keep = min(count, outputLimit - outputs[stream, default: .init()].bytes.count)
                if keep > 0 {
                    outputs[stream, default: .init()].bytes.append(contentsOf: scratch[0..<keep])
                }
                outputs[stream, default: .init()].discardedCount += count - keep
            } else if result == .wouldBlock {
                break
            } else {
                closeOutput(stream)  // End of file, or a read error.
                return
            }
        }
        loop.rearm(watch)
    }

    private func closeOutput(_ stream: Stream) {
        guard let watch = readers.removeValue(forKey: stream) else { return }
        loop.close(watch)
        finishIfDone()
    }

    private func reap() {
        guard let watch = pidWatch else { return }
        var status: Int32 = 0
        let result = (try? Syscall.retrying("waitpid") { waitpid(pid, &status, WNOHANG) }) ?? -1
        if result == 0 {
            loop.rearm(watch)
            return
        }
        termination = .of(reaped: result == pid, status: status, timedOut: timedOut, killRequested: killRequested)
        loop.close(watch)
        pidWatch = nil
        if timedOut || killRequested {
            // Grandchildren that outlived the leader: the group id stays reserved while they exist.
            Syscall.signalGroup(pid, SIGKILL)
        }
        closeInput()
        if !readers.isEmpty {
            timers.append(
                makeTimer(after: outputDrainGrace) { [self] in
                    closeOutput(.stdout)
                    closeOutput(.stderr)
                }
            )
        }
        finishIfDone()
    }

    private func finishIfDone() {
        guard !finished, let termination, readers.isEmpty else { return }
        finished = true
        for timer in timers { timer.cancel() }
        timers = []
        closeInput()
        scratch = []
        let result = ProcessRunnerResult(
            pid: pid,
            termination: termination,
            stdout: outputs[.stdout, default: .init()],
            stderr: outputs[.stderr, default: .init()],
            stdinWritten: stdinOffset,
            duration: ContinuousClock.now - startedAt
        )
        outputs = [:]
        completion(result)
    }
}
