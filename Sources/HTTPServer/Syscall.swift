import CSystem
import Glibc

/// The outcome of a non-blocking socket call.
enum IOResult: Equatable {
    /// The call transferred or returned this value (bytes, or a descriptor).
    case done(Int)
    /// The call would block (EAGAIN / EWOULDBLOCK).
    case wouldBlock
}

/// Syscall wrappers: retry EINTR, map EAGAIN to `.wouldBlock`, throw errno and the call name otherwise.
enum Syscall {
    /// Runs `body` (a call returning -1 and setting errno on failure), retrying EINTR.
    static func run(_ call: String, _ body: () -> Int) throws(HTTPServerError) -> Int {
        while true {
            let result = body()
            if result >= 0 { return result }
            let error = errno
            if error == EINTR { continue }
            throw .system(call: call, errno: error)
        }
    }

    /// Like `run`, but EAGAIN / EWOULDBLOCK give `.wouldBlock` instead of an error.
    static func nonBlocking(_ call: String, _ body: () -> Int) throws(HTTPServerError) -> IOResult {
        do {
            return .done(try run(call, body))
        } catch {
            if case .system(_, let code) = error, code == EAGAIN || code == EWOULDBLOCK { return .wouldBlock }
            throw error
        }
    }

    /// Sets an integer socket option.
    static func setOption(_ fd: Int32, _ level: Int32, _ name: Int32, _ value: Int32) throws(HTTPServerError) {
        var value = value
        _ = try run("setsockopt") {
            Int(setsockopt(fd, level, name, &value, socklen_t(MemoryLayout<Int32>.size)))
        }
    }

    /// close(2), ignoring errors (EINTR on close must not be retried on Linux).
    static func close(_ fd: Int32) {
        _ = Glibc.close(fd)
    }
}

/// strerror(3) text for `code`.
func systemErrorMessage(_ code: Int32) -> String {
    guard let text = strerror(code) else { return "unknown error" }
    return String(cString: text)
}

/// The current time in whole seconds since 1970.
func currentEpochSeconds() -> Int {
    var now = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    return now.tv_sec
}
