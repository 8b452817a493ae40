import CSystem
import Glibc

/// The outcome of a non-blocking call.
public enum IOResult: Equatable, Sendable {
    /// The call transferred or returned this value (bytes, or a descriptor).
    case done(Int)
    /// The call would block (EAGAIN / EWOULDBLOCK).
    case wouldBlock
}

/// The one wrapper of system calls: retries EINTR, gives EAGAIN as ``IOResult/wouldBlock`` where asked, and throws
/// ``SystemCallError`` (errno and the call's name) otherwise.
public enum Syscall {
    /// Runs `body` (a call returning a negative value and setting errno on failure) until it does not fail with
    /// EINTR.
    /// - Parameters:
    ///   - call: The call's name, for the error.
    ///   - detail: Context for the error (a path); never event data.
    ///   - body: The call.
    /// - Returns: The call's non-negative result.
    /// - Throws: ``SystemCallError`` with the errno of any other failure.
    @inlinable
    @discardableResult
    public static func retrying<T: BinaryInteger>(
        _ call: String,
        detail: String = "",
        _ body: () -> T
    ) throws(SystemCallError) -> T {
        while true {
            let result = body()
            if result >= 0 { return result }
            let code = errno
            if code == EINTR { continue }
            throw SystemCallError(call: call, errno: code, detail: detail)
        }
    }

    /// ``retrying(_:detail:_:)`` for a call whose result is an `Int`.
    @discardableResult
    public static func run(_ call: String, _ body: () -> Int) throws(SystemCallError) -> Int {
        try retrying(call, body)
    }

    /// Like ``retrying(_:detail:_:)``, but EAGAIN / EWOULDBLOCK give ``IOResult/wouldBlock`` instead of an error.
    /// Inlinable: it runs on the server's per-request recv/send path.
    @inlinable
    public static func nonBlocking(
        _ call: String,
        detail: String = "",
        _ body: () -> Int
    ) throws(SystemCallError) -> IOResult {
        do {
            return .done(try retrying(call, detail: detail, body))
        } catch {
            if error.errno == EAGAIN || error.errno == EWOULDBLOCK { return .wouldBlock }
            throw error
        }
    }

    /// Sets an integer socket option (`setsockopt(2)`).
    public static func setOption(
        _ fd: Int32,
        _ level: Int32,
        _ name: Int32,
        _ value: Int32
    ) throws(SystemCallError) {
        var value = value
        try retrying("setsockopt") { setsockopt(fd, level, name, &value, socklen_t(MemoryLayout<Int32>.size)) }
    }

    /// `close(2)`, ignoring errors: EINTR on close must not be retried on Linux (the descriptor is released
    /// anyway), and a failed close of data that matters was preceded by an fsync that reported it.
    public static func close(_ fd: Int32) {
        _ = Glibc.close(fd)
    }
}

/// strerror(3) text for `code`.
public func systemErrorMessage(_ code: Int32) -> String {
    guard let text = strerror(code) else { return "unknown error" }
    return String(cString: text)
}

/// The current time in whole seconds since 1970.
public func currentEpochSeconds() -> Int {
    var now = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    return now.tv_sec
}

/// The current time in whole milliseconds since 1970.
public func currentEpochMilliseconds() -> Int64 {
    var now = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
}
