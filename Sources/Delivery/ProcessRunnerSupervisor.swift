import CSystem
import Dispatch
import Glibc

/// The state of one running child: feeds stdin, collects output, notices the exit, enforces the timeout.
///
/// Every mutable property is touched only on `queue` (a serial queue of its own), which is what makes the
/// `@unchecked Sendable` sound. Descriptors are closed only in the cancel handlers of their Dispatch sources.
final class ProcessRunnerSupervisor: @unchecked Sendable {
    private enum Stream { case stdout, stderr }

    let pid: pid_t
    private let queue: DispatchQueue
    private let completion: @Sendable (ProcessRunnerResult) -> Void
    private let timeout: Duration
    private let terminationGrace: Duration
    private let outputLimit: Int
    private let outputDrainGrace: Duration
    private let startedAt = ContinuousClock.now

    private var stdinBytes: [UInt8]
    private var stdinOffset = 0
    private var stdinSource: (any DispatchSourceWrite)?
    private var stdinFD: Int32 = -1
    private var readers: [Stream: (source: any DispatchSourceRead, fd: Int32)] = [:]
    private var outputs: [Stream: ProcessRunnerResult.Output] = [.stdout: .init(), .stderr: .init()]
    private var scratch = [UInt8](repeating: 0, count: 64 * 1024)
    private var pidSource: (any DispatchSourceRead)?
    private var timers: [any DispatchSourceTimer] = []
    private var termination: ProcessRunnerResult.Termination?
    private var timedOut = false
    private var killRequested = false
    private var finished = false

    init(
        pid: pid_t,
        request: ProcessRunnerRequest,
        queue: DispatchQueue,
        completion: @escaping @Sendable (ProcessRunnerResult) -> Void
    ) {
        self.pid = pid
        self.queue = queue
        self.completion = completion
        self.timeout = request.timeout
        self.terminationGrace = request.terminationGrace
        self.outputLimit = max(0, request.outputLimit)
        self.outputDrainGrace = request.outputDrainGrace
        self.stdinBytes = request.stdin
    }

    /// Takes ownership of the parent's pipe ends and the pidfd and starts watching them.
    func start(stdin: Int32, stdout: Int32, stderr: Int32, pidfd: Int32) {
        queue.async { [self] in
            let pidSource = DispatchSource.makeReadSource(fileDescriptor: pidfd, queue: queue)
            pidSource.setEventHandler { [self] in reap() }
            pidSource.setCancelHandler { ProcessRunnerSyscall.close(pidfd) }
            self.pidSource = pidSource

            for (stream, fd) in [(Stream.stdout, stdout), (Stream.stderr, stderr)] {
                let source = DispatchSource.makeReadSource(fileDescriptor: fd, queue: queue)
                source.setEventHandler { [self] in read(stream) }
                source.setCancelHandler { ProcessRunnerSyscall.close(fd) }
                readers[stream] = (source, fd)
            }

            stdinFD = stdin
            if stdinBytes.isEmpty {
                ProcessRunnerSyscall.close(stdin)
                stdinFD = -1
            } else {
                let source = DispatchSource.makeWriteSource(fileDescriptor: stdin, queue: queue)
                source.setEventHandler { [self] in writeInput() }
                source.setCancelHandler { ProcessRunnerSyscall.close(stdin) }
                stdinSource = source
            }

            timers.append(makeTimer(after: timeout) { [self] in timeoutExpired() })
            pidSource.activate()
            readers.values.forEach { $0.source.activate() }
            stdinSource?.activate()
        }
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
        ProcessRunnerSyscall.signalGroup(pid, signal)
        _ = Glibc.kill(pid, signal)
    }

    private func timeoutExpired() {
        guard termination == nil else { return }
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
        while stdinOffset < stdinBytes.count {
            let written = stdinBytes.withUnsafeBytes { buffer in
                Glibc.write(stdinFD, buffer.baseAddress! + stdinOffset, buffer.count - stdinOffset)
            }
            if written > 0 {
                stdinOffset += written
            } else if written < 0 && errno == EINTR {
                continue
            } else if written < 0 && errno == EAGAIN {
                return
            } else {
                break  // EPIPE: the child closed stdin, which it may do.
            }
        }
        closeInput()
    }

    private func closeInput() {
        if let source = stdinSource {
            source.cancel()
            stdinSource = nil
            stdinBytes = []
        }
    }

    private func read(_ stream: Stream) {
        guard let fd = readers[stream]?.fd else { return }
        // A bounded number of reads per event, so one chatty child cannot monopolise the queue.
        for _ in 0..<16 {
            let count = scratch.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count > 0 {
                let keep = min(count, outputLimit - outputs[stream, default: .init()].bytes.count)
                if keep > 0 {
                    outputs[stream, default: .init()].bytes.append(contentsOf: scratch[0..<keep])
                }
                outputs[stream, default: .init()].discardedCount += count - keep
            } else if count < 0 && errno == EINTR {
                continue
            } else if count < 0 && errno == EAGAIN {
                return
            } else {
                closeOutput(stream)
                return
            }
        }
    }

    private func closeOutput(_ stream: Stream) {
        guard let reader = readers.removeValue(forKey: stream) else { return }
        reader.source.cancel()
        finishIfDone()
    }

    private func reap() {
        var status: Int32 = 0
        var result: pid_t
        repeat {
            result = waitpid(pid, &status, WNOHANG)
        } while result == -1 && errno == EINTR
        if result == 0 {
            return
        }
        if timedOut {
            termination = .timedOut
        } else if killRequested {
            termination = .killed
        } else if result == pid && csystem_wifexited(status) != 0 {
            termination = .exited(csystem_wexitstatus(status))
        } else if result == pid && csystem_wifsignaled(status) != 0 {
            termination = .signaled(csystem_wtermsig(status))
        } else {
            termination = .unknown
        }
        pidSource?.cancel()
        pidSource = nil
        if timedOut || killRequested {
            // Grandchildren that outlived the leader: the group id stays reserved while they exist.
            ProcessRunnerSyscall.signalGroup(pid, SIGKILL)
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
        timers.forEach { $0.cancel() }
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
