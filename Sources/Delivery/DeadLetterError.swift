import Glibc

/// Why a dead-letter operation failed.
public enum DeadLetterError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The name is not one this store could have written (e.g. contains `/` or starts with `.`).
    case invalidName(String)
    /// No dead letter of that name.
    case notFound(String)
    /// The file exists but is not a dead letter this version understands.
    case unreadable(name: String, reason: String)
    /// A system call failed: its name, the path and errno.
    case systemCall(String, path: String, errno: Int32)

    public var description: String {
        switch self {
        case .invalidName(let name): "invalid dead-letter name \(name.debugDescription)"
        case .notFound(let name): "no dead letter named \(name.debugDescription)"
        case .unreadable(let name, let reason): "dead letter \(name.debugDescription) is unreadable: \(reason)"
        case .systemCall(let call, let path, let code):
            "\(call)(\(path)) failed: \(String(cString: strerror(code))) (errno \(code))"
        }
    }
}
