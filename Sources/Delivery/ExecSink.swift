import EventStore
import Logging
import Metrics
import POSIX

/// Runs one hook attempt for an event: argv from the template, a clean environment, the event line on stdin.
///
/// Environment of the hook, and nothing else: `PATH` (the configured search path), `VIPPS_EVENT_ID` (the event's id,
/// derived from the signed body: what a hook should be idempotent on), `VIPPS_EVENT_TYPE`, `VIPPS_ENDPOINT`,
/// `VIPPS_EVENT_SOURCE` (`webhook` or `reconciliation`), and the context's `VIPPS_*` variables (values with a NUL
/// byte, or over ``maximumVariableBytes``, dropped). Hooks run in `/`, never in the state directory.
/// Exit status 0 is success; any other end, a timeout or a spawn error is a failure the caller may retry.
public final class ExecSink: Sendable {
    /// Bytes of stderr kept with a failure (in the dead letter).
    static let tailLimit = 2048

    /// The sink's settings.
    public let configuration: ExecSinkConfiguration
    private let template: ExecSinkTemplate
    private let runner: ProcessRunner
    private let logger: Logger

    /// Creates a sink.
    /// - Parameters:
    ///   - configuration: Settings; its argv is parsed here.
    ///   - runner: The process runner to use.
    ///   - logger: Receives one line per run, and one per line of the hook's stdout and stderr (`HookOutputLines`).
    /// - Throws: `ExecSinkTemplate.ParseError` for an invalid argv.
    public init(configuration: ExecSinkConfiguration, runner: ProcessRunner, logger: Logger) throws {
        self.configuration = configuration
        self.template = try ExecSinkTemplate(configuration.argv)
        self.runner = runner
        self.logger = logger
    }

    /// Largest value of a context variable passed to a hook: Linux refuses to start a program given one string over
    /// 128 KiB (`E2BIG`), so a longer field (a big `shippingDetails`) would keep every attempt from starting. Longer
    /// ones are left out of the environment (logged); the event line on stdin holds them.
    public static let maximumVariableBytes = 32 * 1024

    /// The environment a hook gets for `event`.
    public func environment(for event: StoredEvent, context: ExecSinkContext) -> [String: String] {
        var environment: [String: String] = [:]
        for (name, value) in context.variables
        where Self.isVariableName(name) && value.utf8.count <= Self.maximumVariableBytes {
            environment[name] = value
        }
        environment["PATH"] = configuration.searchPath
        environment["VIPPS_EVENT_ID"] = event.id
        environment["VIPPS_EVENT_TYPE"] = event.type
        environment["VIPPS_ENDPOINT"] = event.endpoint
        environment["VIPPS_EVENT_SOURCE"] = event.source.rawValue
        // An event journaled before ids came from signed content keeps its earlier id for hooks that saw it then.
        environment["VIPPS_LEGACY_EVENT_ID"] = event.legacyID.flatMap { $0 == event.id ? nil : $0 }
        return environment.filter { !$0.value.utf8.contains(0) }
    }

    /// The request that runs the hook for `event`.
    public func request(for event: StoredEvent, context: ExecSinkContext) -> ProcessRunnerRequest {
        ProcessRunnerRequest(
            executable: template.program,
            arguments: template.render(context.fields),
            environment: environment(for: event, context: context),
            searchPath: configuration.searchPath,
            stdin: context.line.last == 0x0A ? context.line : context.line + [0x0A],
            timeout: configuration.timeout,
            terminationGrace: configuration.terminationGrace,
            outputLimit: configuration.outputLimit
        )
    }

    /// Runs one attempt.
    /// - Parameters:
    ///   - event: The event.
    ///   - context: Fields, variables and line from the decoder.
    ///   - attempt: Number of this attempt, from 1 (for logs).
    ///   - completion: Called once with nil on success or the failure.
    /// - Returns: A handle to kill the run, or nil when it could not start (the completion has then been called).
    @discardableResult
    public func attempt(
        _ event: StoredEvent,
        context: ExecSinkContext,
        attempt: Int,
        completion: @escaping @Sendable (ExecSinkFailure?) -> Void
    ) -> ProcessRunnerHandle? {
        let started = ContinuousClock.now
        let names = template.fieldNames
        for (index, name) in names.enumerated() where !names[..<index].contains(name) && context.fields(name) == nil {
            logger.debug(
                "hook placeholder empty: the event has no such field",
                metadata: [
                    "sink": .string(configuration.name), "event_id": .string(event.id),
                    "event_type": .string(event.type), "attempt": .stringConvertible(attempt),
                    "placeholder": .string("{\(name)}"),
                ]
            )
        }
        let tooLong = context.variables.filter { $0.value.utf8.count > Self.maximumVariableBytes }.map(\.key)
        if attempt == 1, !tooLong.isEmpty {
            logger.warning(
                "hook environment: variables over \(Self.maximumVariableBytes / 1024) KiB left out; the event line on stdin has their fields",
                metadata: [
                    "sink": .string(configuration.name), "event_id": .string(event.id),
                    "variables": .string(tooLong.sorted().joined(separator: ",")),
                ]
            )
        }
        do {
            return try runner.run(request(for: event, context: context)) { [self] result in
                let failure = Self.failure(for: result, timeout: configuration.timeout)
                record(event, attempt: attempt, failure: failure, duration: result.duration, result: result)
                completion(failure)
            }
        } catch {
            let failure = ExecSinkFailure(kind: .spawnError, message: error.description)
            record(event, attempt: attempt, failure: failure, duration: ContinuousClock.now - started, result: nil)
            completion(failure)
            return nil
        }
    }

    static func failure(for result: ProcessRunnerResult, timeout: Duration) -> ExecSinkFailure? {
        let tail = String(decoding: result.stderr.bytes.suffix(tailLimit), as: UTF8.self)
        switch result.termination {
        case .exited(0):
            return nil
        case .exited(let code):
            return ExecSinkFailure(kind: .exit, exitCode: code, message: "exit \(code)", stderrTail: tail)
        case .signaled(let signal):
            return ExecSinkFailure(
                kind: .signal,
                signal: signal,
                message: "killed by signal \(signal)",
                stderrTail: tail
            )
        case .timedOut:
            return ExecSinkFailure(kind: .timeout, message: "timeout after \(timeout)", stderrTail: tail)
        case .killed:
            return ExecSinkFailure(kind: .killed, message: "killed at shutdown", stderrTail: tail)
        case .unknown:
            return ExecSinkFailure(kind: .unknown, message: "exit status lost", stderrTail: tail)
        }
    }

    private func record(
        _ event: StoredEvent,
        attempt: Int,
        failure: ExecSinkFailure?,
        duration: Duration,
        result: ProcessRunnerResult?
    ) {
        let outcome =
            switch failure?.kind {
            case nil: "ok"
            case .timeout: "timeout"
            case .spawnError: "spawn_error"
            default: "failed"
            }
        Counter(
            label: "vipps_webhookd_hook_runs_total",
            dimensions: [("sink", configuration.name), ("outcome", outcome)]
        )
        .increment()
        var metadata: Logger.Metadata = [
            "sink": .string(configuration.name),
            "event_id": .string(event.id),
            "event_type": .string(event.type),
            "attempt": .stringConvertible(attempt),
            "outcome": .string(outcome),
            "duration_ms": .stringConvertible(Self.milliseconds(duration)),
        ]
        if let failure {
            metadata["error"] = .string(failure.message)
            if let code = failure.exitCode { metadata["exit_code"] = .stringConvertible(code) }
            if let signal = failure.signal { metadata["signal"] = .stringConvertible(signal) }
        } else {
            metadata["exit_code"] = "0"
        }
        logger.log(level: failure == nil ? .info : .warning, "hook run", metadata: metadata)
        if let result {
            logOutput(result.stdout, stream: "stdout", event: event, attempt: attempt, failed: failure != nil)
            logOutput(result.stderr, stream: "stderr", event: event, attempt: attempt, failed: failure != nil)
        }
    }

    /// One log line per line the hook wrote (bounded by `HookOutputLines`), then one saying what was left out. Lines
    /// of a failed attempt's stderr are warnings; the rest is info.
    private func logOutput(
        _ output: ProcessRunnerResult.Output,
        stream: String,
        event: StoredEvent,
        attempt: Int,
        failed: Bool
    ) {
        guard !output.bytes.isEmpty || output.discardedCount > 0 else { return }
        let lines = HookOutputLines(output)
        let level: Logger.Level = failed && stream == "stderr" ? .warning : .info
        let tags: Logger.Metadata = [
            "sink": .string(configuration.name), "event_id": .string(event.id),
            "attempt": .stringConvertible(attempt), "stream": .string(stream),
        ]
        for line in lines.lines {
            logger.log(level: level, "hook \(stream)", metadata: tags.merging(["line": .string(line)]) { $1 })
        }
        if lines.truncated {
            logger.log(
                level: level,
                "hook \(stream) truncated in the log",
                metadata: tags.merging([
                    "omitted_lines": .stringConvertible(lines.omittedLines),
                    "omitted_bytes": .stringConvertible(lines.omittedBytes),
                    "line_limit": .stringConvertible(HookOutputLines.lineLimit),
                    "byte_limit": .stringConvertible(HookOutputLines.byteLimit),
                ]) { $1 }
            )
        }
    }

    private static func isVariableName(_ name: String) -> Bool {
        name.hasPrefix("VIPPS_")
            && name.utf8.allSatisfy { ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x5F }
    }

    private static func milliseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
