import Dispatch
import FoundationEssentials
import Glibc
import POSIX

/// Tells systemd about the daemon's state over `$NOTIFY_SOCKET` (the `sd_notify` protocol), without libsystemd.
///
/// Every notification is one `AF_UNIX` datagram of newline-separated `KEY=VALUE` lines. When the process does not
/// run under a `Type=notify` unit (`NOTIFY_SOCKET` unset or empty) every call is a no-op that returns `false`.
///
/// ```swift
/// let notifier = try SystemdNotifier()
/// try notifier.notify(.ready, .status("listening on 127.0.0.1:8080"))
/// let watchdog = notifier.startWatchdog(queue: queue) { error in logger.warning("watchdog: \(error)") }
/// ```
public struct SystemdNotifier: Sendable {
    /// One piece of state sent to systemd.
    public enum State: Sendable, Equatable {
        /// Startup finished: the daemon accepts requests (`READY=1`).
        case ready
        /// Reloading its configuration (`RELOADING=1` with `MONOTONIC_USEC=`); send `.ready` when done.
        case reloading
        /// Shutting down (`STOPPING=1`).
        case stopping
        /// Watchdog keep-alive (`WATCHDOG=1`).
        case watchdog
        /// Free-form status line shown by `systemctl status` (`STATUS=`); newlines become spaces.
        case status(String)
        /// Asks for more time before the start/stop/reload timeout fires (`EXTEND_TIMEOUT_USEC=`).
        case extendTimeout(Duration)
        /// The errno the daemon fails with (`ERRNO=`), shown by `systemctl status`.
        case errno(Int32)
    }

    /// Where notifications go: a file-system path or a name in the abstract namespace.
    public enum SocketAddress: Sendable, Equatable, CustomStringConvertible {
        /// A socket file, e.g. `/run/systemd/notify`.
        case path(String)
        /// An abstract-namespace name, given in `NOTIFY_SOCKET` as `@name` (stored without the `@`).
        case abstract(String)

        /// The address as written in `NOTIFY_SOCKET`.
        public var description: String {
            switch self {
            case .path(let path): path
            case .abstract(let name): "@" + name
            }
        }
    }

    /// The socket systemd listens on; `nil` when not started by a `Type=notify` unit.
    public let socketAddress: SocketAddress?

    /// The watchdog timeout systemd enforces (`WatchdogSec=`); `nil` when no watchdog is set for this process.
    /// Ping (``State/watchdog``) at half this interval; ``startWatchdog(queue:onError:)`` does that.
    public let watchdogInterval: Duration?

    /// Reads `NOTIFY_SOCKET`, `WATCHDOG_USEC` and `WATCHDOG_PID`.
    ///
    /// - Parameters:
    ///   - environment: the process environment (injectable for tests).
    ///   - processID: this process's id; a `WATCHDOG_PID` naming another process disables the watchdog.
    /// - Throws: ``SystemdError`` when a variable is set but malformed (a relative or too long socket
    ///   path, a non-numeric or zero `WATCHDOG_USEC`, a non-numeric `WATCHDOG_PID`).
    public init(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        processID: pid_t = getpid()
    ) throws(SystemdError) {
        socketAddress = try Self.parseSocketAddress(environment["NOTIFY_SOCKET"])
        watchdogInterval = try Self.parseWatchdog(
            microseconds: environment["WATCHDOG_USEC"],
            pid: environment["WATCHDOG_PID"],
            processID: processID
        )
    }

    /// Whether notifications are sent at all (the process runs under a `Type=notify` unit).
    public var isEnabled: Bool { socketAddress != nil }

    /// Sends `states` in one datagram.
    ///
    /// - Returns: `true` when sent, `false` when notifications are disabled (no `NOTIFY_SOCKET`).
    /// - Throws: ``SystemdError`` when the datagram cannot be sent (errno and call name included).
    @discardableResult
    public func notify(_ states: State...) throws(SystemdError) -> Bool {
        try notify(states)
    }

    /// Sends `states` in one datagram; see ``notify(_:)-(State...)``.
    @discardableResult
    public func notify(_ states: [State]) throws(SystemdError) -> Bool {
        guard let socketAddress, !states.isEmpty else { return false }
        let message = Self.message(for: states, monotonicMicroseconds: Self.monotonicMicroseconds())
        try Self.send(message, to: socketAddress)
        return true
    }

    /// Starts pinging the watchdog every `watchdogInterval / 2` on `queue`, beginning right away.
    ///
    /// - Parameters:
    ///   - queue: where the timer fires; a ping is one non-blocking `sendto`.
    ///   - onError: called on `queue` when a ping cannot be sent (the timer keeps running).
    ///   - isHealthy: asked before each ping; while false no ping is sent, so systemd restarts the process once the
    ///     watchdog timeout passes.
    /// - Returns: the running timer (cancel it on shutdown or let it go out of scope), or `nil` when systemd set no
    ///   watchdog for this process or notifications are disabled.
    public func startWatchdog(
        queue: DispatchQueue,
        onError: @escaping @Sendable (SystemdError) -> Void = { _ in },
        isHealthy: @escaping @Sendable () -> Bool = { true }
    ) -> SystemdWatchdog? {
        guard isEnabled, let watchdogInterval else { return nil }
        let period = watchdogInterval / 2
        let nanoseconds = Int(
            clamping: period.components.seconds * 1_000_000_000
                + period.components.attoseconds / 1_000_000_000
        )
        let timer = DispatchSource.makeTimerSource(queue: queue)
        let notifier = self
        timer.setEventHandler {
            guard isHealthy() else { return }
            do throws(SystemdError) {
                try notifier.notify(.watchdog)
            } catch {
                onError(error)
            }
        }
        timer.schedule(
            deadline: .now(),
            repeating: .nanoseconds(max(nanoseconds, 1_000_000)),
            leeway: .nanoseconds(max(nanoseconds / 10, 1_000_000))
        )
        timer.resume()
        return SystemdWatchdog(timer: timer)
    }
}

/// A running watchdog ping timer from ``SystemdNotifier/startWatchdog(queue:onError:)``; stops when cancelled or
/// released.
public final class SystemdWatchdog: @unchecked Sendable {
    // @unchecked: a DispatchSource is thread-safe; the reference itself never changes.
    private let timer: any DispatchSourceTimer

    init(timer: any DispatchSourceTimer) {
        self.timer = timer
    }

    /// Stops the pings (idempotent).
    public func cancel() {
        timer.cancel()
    }

    deinit {
        timer.cancel()
    }
}

extension SystemdNotifier {
    /// Largest `sun_path` content: 108 bytes including the terminating NUL of a file-system path.
    static let maximumPathBytes = MemoryLayout<sockaddr_un>.size - MemoryLayout<sockaddr_un>.offset(of: \.sun_path)!

    /// Parses `NOTIFY_SOCKET`: absolute path, or `@name` for the abstract namespace; unset or empty → `nil`.
    static func parseSocketAddress(_ value: String?) throws(SystemdError) -> SocketAddress? {
        guard let value, !value.isEmpty else { return nil }
        if value.hasPrefix("@") {
            let name = String(value.dropFirst())
            guard !name.isEmpty, name.utf8.count + 1 <= maximumPathBytes else {
                throw SystemdError("NOTIFY_SOCKET: abstract socket name is empty or longer than 107 bytes")
            }
            return .abstract(name)
        }
        guard value.hasPrefix("/") else {
            throw SystemdError("NOTIFY_SOCKET must be an absolute path or @name, got \"\(value)\"")
        }
        guard value.utf8.count + 1 <= maximumPathBytes else {
            throw SystemdError("NOTIFY_SOCKET: path longer than 107 bytes")
        }
        return .path(value)
    }

    /// Parses `WATCHDOG_USEC` / `WATCHDOG_PID`; `nil` when unset or meant for another process.
    static func parseWatchdog(
        microseconds: String?,
        pid: String?,
        processID: pid_t
    ) throws(SystemdError) -> Duration? {
        guard let microseconds, !microseconds.isEmpty else { return nil }
        guard let usec = UInt64(microseconds), usec > 0, usec <= UInt64(Int64.max) else {
            throw SystemdError(
                "WATCHDOG_USEC must be a positive number of microseconds, got \"\(microseconds)\""
            )
        }
        if let pid, !pid.isEmpty {
            guard let target = pid_t(pid), target > 0 else {
                throw SystemdError("WATCHDOG_PID must be a process id, got \"\(pid)\"")
            }
            guard target == processID else { return nil }
        }
        return .microseconds(Int64(usec))
    }

    /// The datagram text for `states`: one `KEY=VALUE` line each.
    static func message(for states: [State], monotonicMicroseconds: UInt64) -> String {
        var lines: [String] = []
        for state in states {
            switch state {
            case .ready: lines.append("READY=1")
            case .reloading:
                lines.append("RELOADING=1")
                lines.append("MONOTONIC_USEC=\(monotonicMicroseconds)")
            case .stopping: lines.append("STOPPING=1")
            case .watchdog: lines.append("WATCHDOG=1")
            case .status(let text):
                let oneLine = text.map { $0.isNewline ? " " : String($0) }.joined()
                lines.append("STATUS=\(oneLine)")
            case .extendTimeout(let duration):
                let usec =
                    max(duration.components.seconds, 0) * 1_000_000
                    + max(duration.components.attoseconds, 0) / 1_000_000_000_000
                lines.append("EXTEND_TIMEOUT_USEC=\(usec)")
            case .errno(let code): lines.append("ERRNO=\(code)")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// CLOCK_MONOTONIC in microseconds, as systemd expects in `MONOTONIC_USEC=`.
    static func monotonicMicroseconds() -> UInt64 {
        monotonicNanoseconds() / 1_000
    }

    /// Sends `message` as one datagram from a fresh, non-blocking socket (as libsystemd does).
    static func send(_ message: String, to address: SocketAddress) throws(SystemdError) {
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else {
            throw SystemdError("cannot notify systemd", call: "socket", errno: Glibc.errno)
        }
        defer { close(fd) }

        let socketAddress: UnixSocketAddress?
        switch address {
        case .path(let path): socketAddress = UnixSocketAddress(path: path)
        case .abstract(let name): socketAddress = UnixSocketAddress(abstractName: name)
        }
        // The parser of NOTIFY_SOCKET already refused names that do not fit.
        guard let socketAddress else { throw SystemdError("cannot notify systemd: \(address) is too long") }
        let payload = Array(message.utf8)

        let sent: Int
        do {
            sent = try Syscall.retrying("sendto") {
                payload.withUnsafeBytes { bytes in
                    socketAddress.withSockaddr { target, length in
                        sendto(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT), target, length)
                    }
                }
            }
        } catch {
            throw SystemdError("cannot notify systemd at \(address)", call: "sendto", errno: error.errno)
        }
        guard sent == payload.count else {
            throw SystemdError("cannot notify systemd: datagram truncated (\(sent) of \(payload.count) bytes)")
        }
    }
}
