import CSystem
import Dispatch
import Glibc

/// Runs child processes without a shell and watches them event-driven.
///
/// Each run is spawned with `posix_spawn` in its own process group, with an empty signal mask and default signal
/// dispositions, the given environment only, stdin fed from the given bytes through a non-blocking pipe and
/// stdout/stderr captured through pipes up to a bound. The pipes and a pidfd are watched by one epoll thread of the
/// runner's own (an `EventLoop` shared by all runs), and the exit is reaped with `waitpid(WNOHANG)` once the pidfd is
/// readable; no thread ever blocks on a child. On timeout the whole process group is killed. On a
/// normal exit the group is left alone: a hook that deliberately starts a daemon keeps it (only its output pipes
/// stop being read after `outputDrainGrace`). Creating a runner sets SIGPIPE to ignored in this process, so a
/// child that closes stdin early yields EPIPE instead of killing the daemon; children get SIGPIPE's default back.
public final class ProcessRunner: Sendable {
    /// Label prefix of the serial queue each run gets.
    private let label: String
    /// The loop watching this runner's children: the shared one, or a test's own.
    private let loop: Result<EventLoop, ProcessRunnerError>

    /// Creates a runner.
    /// - Parameter label: Prefix for the Dispatch queue labels of runs.
    public convenience init(label: String = "vipps-webhookd.process") {
        self.init(label: label, loop: Self.sharedLoop)
    }

    /// A runner whose children `loop` watches (tests: a loop they can hold up).
    init(label: String = "vipps-webhookd.process", loop: Result<EventLoop, ProcessRunnerError>) {
        _ = Self.ignoreSIGPIPE
        self.label = label
        self.loop = loop
    }

    /// Spawn attempts when the program is momentarily busy (ETXTBSY).
    private static let textBusyAttempts = 20

    private static let ignoreSIGPIPE: Void = {
        _ = signal(SIGPIPE, SIG_IGN)
    }()

    /// The loop watching every run's pipes and pidfd, or why it could not be created.
    private static let sharedLoop: Result<EventLoop, ProcessRunnerError> = {
        do throws(SystemCallError) {
            return .success(try EventLoop(name: "process-events"))
        } catch {
            return .failure(ProcessRunnerError(error))
        }
    }()

    /// Spawns `request` and calls `completion` once when the child has ended and its output is collected.
    /// - Parameters:
    ///   - request: Program, arguments, environment, stdin and limits.
    ///   - completion: Called exactly once (on the run's queue) with the result, unless this method throws.
    /// - Returns: A handle to kill the run early.
    /// - Throws: `ProcessRunnerError` when the run could not be started and watched (the completion is then never
    ///   called; a child already spawned is killed and reaped).
    @discardableResult
    public func run(
        _ request: ProcessRunnerRequest,
        completion: @escaping @Sendable (ProcessRunnerResult) -> Void
    ) throws(ProcessRunnerError) -> ProcessRunnerHandle {
        let loop = try self.loop.get()
        guard
            let path = Self.resolveExecutable(
                request.executable,
                searchPath: request.searchPath ?? request.environment["PATH"]
            )
        else {
            throw .executableNotFound(request.executable)
        }
        // The child changes directory before exec: a relative program path is taken from here, not from there.
        let program = path.hasPrefix("/") ? path : Self.currentDirectory().map { $0 + "/" + path } ?? path
        let argv = [request.executable] + request.arguments
        for argument in argv where argument.utf8.contains(0) {
            throw .invalidArgument("argument contains a NUL byte")
        }
        var environment: [String] = []
        for (name, value) in request.environment.sorted(by: { $0.key < $1.key }) {
            if name.isEmpty || name.utf8.contains(UInt8(ascii: "=")) || name.utf8.contains(0) || value.utf8.contains(0)
            {
                throw .invalidArgument("environment variable \(name.debugDescription) cannot be passed")
            }
            environment.append("\(name)=\(value)")
        }

        var opened: [Int32] = []
        func closeOpened() { opened.forEach(Syscall.close) }
        let input: (read: Int32, write: Int32)
        let output: (read: Int32, write: Int32)
        let errors: (read: Int32, write: Int32)
        do throws(SystemCallError) {
            input = try Syscall.pipe()
            opened += [input.read, input.write]
            output = try Syscall.pipe()
            opened += [output.read, output.write]
            errors = try Syscall.pipe()
            opened += [errors.read, errors.write]
            for fd in [input.write, output.read, errors.read] {
                try Syscall.setNonBlocking(fd)
            }
        } catch {
            closeOpened()
            throw ProcessRunnerError(error)
        }

        var pid: pid_t = 0
        let workingDirectory = request.workingDirectory
        guard !workingDirectory.utf8.contains(0) else {
            closeOpened()
            throw .invalidArgument("working directory contains a NUL byte")
        }
        let spawnResult = Self.withCStrings(argv) { cArgv in
            Self.withCStrings(environment) { cEnvironment in
                // ETXTBSY: some process (often a child forked by another thread, between its fork and exec) still
                // holds the program open for writing. That window is short: try a few times.
                var result: Int32 = ETXTBSY
                for _ in 0..<Self.textBusyAttempts where result == ETXTBSY {
                    result = csystem_spawn(
                        &pid,
                        program,
                        cArgv,
                        cEnvironment,
                        input.read,
                        output.write,
                        errors.write,
                        workingDirectory
                    )
                    if result == ETXTBSY { sched_yield() }
                }
                return result
            }
        }
        for fd in [input.read, output.write, errors.write] {
            Syscall.close(fd)
        }
        opened = [input.write, output.read, errors.read]
        guard spawnResult == 0 else {
            closeOpened()
            throw .systemCall("posix_spawn(\(path))", errno: spawnResult)
        }

        let pidfd = csystem_pidfd_open(pid)
        guard pidfd >= 0 else {
            let code = errno
            Syscall.signalGroup(pid, SIGKILL)
            closeOpened()
            Self.reapEventually(pid)
            throw .systemCall("pidfd_open", errno: code)
        }

        let supervisor = ProcessRunnerSupervisor(
            pid: pid,
            request: request,
            queue: DispatchQueue(label: "\(label).\(pid)"),
            loop: loop,
            completion: completion
        )
        do {
            try supervisor.start(stdin: input.write, stdout: output.read, stderr: errors.read, pidfd: pidfd)
        } catch {
            Syscall.signalGroup(pid, SIGKILL)
            Self.reapEventually(pid)
            throw error
        }
        return ProcessRunnerHandle(supervisor: supervisor)
    }

    /// The daemon's working directory, nil when it cannot be read.
    private static func currentDirectory() -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        guard getcwd(&buffer, buffer.count) != nil else { return nil }
        let length = buffer.firstIndex(of: 0) ?? buffer.count
        return String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Calls `body` with a NULL-terminated C array of copies of `strings`.
    private static func withCStrings<R>(
        _ strings: [String],
        _ body: ([UnsafeMutablePointer<CChar>?]) -> R
    ) -> R {
        let pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) } + [nil]
        defer { for pointer in pointers { free(pointer) } }
        return body(pointers)
    }

    /// Reaps a killed child whose pidfd could not be opened, polling with timers instead of blocking.
    private static func reapEventually(_ pid: pid_t) {
        DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(10)) {
            var status: Int32 = 0
            if (try? Syscall.retrying("waitpid") { waitpid(pid, &status, WNOHANG) }) == 0 {
                reapEventually(pid)
            }
        }
    }
}

/// A `Duration` as a Dispatch interval (nanoseconds, clamped at zero; `.never` past the range).
public func execDispatchInterval(_ duration: Duration) -> DispatchTimeInterval {
    let (seconds, attoseconds) = duration.components
    let nanoseconds = seconds.multipliedReportingOverflow(by: 1_000_000_000)
    guard !nanoseconds.overflow else { return .never }
    return .nanoseconds(Int(max(0, nanoseconds.partialValue + attoseconds / 1_000_000_000)))
}
