import Glibc
import POSIX

/// The one error type of the Delivery module's storage (journal, dedup file, ledger, file sink).
///
/// A failed system call carries its name and `errno`; a malformed on-disk structure carries a description.
public struct StorageError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What kind of failure this is.
    public enum Code: Sendable, Equatable {
        /// A system call failed with `errno`.
        case syscall(errno: Int32)
        /// Data on disk does not have the expected shape (bad frame, bad file name, unknown record kind).
        case corrupt
        /// The store is closed, or stopped accepting writes after an I/O error it could not undo.
        case unavailable
        /// A caller passed a value the format cannot hold (e.g. an id longer than 65535 bytes).
        case invalidArgument
    }

    /// The kind of failure.
    public var code: Code
    /// The system call or operation that failed, e.g. `fdatasync` or `decode`.
    public var call: String
    /// Extra context (a path, a field name); never event bodies.
    public var detail: String

    /// Creates an error.
    public init(_ code: Code, call: String, detail: String = "") {
        self.code = code
        self.call = call
        self.detail = detail
    }

    /// A failed system call of the POSIX layer, with its call, errno and detail.
    public init(_ error: SystemCallError) {
        self.init(.syscall(errno: error.errno), call: error.call, detail: error.detail)
    }

    /// `error` as a storage error: itself, or a failed system call converted; nil for any other error.
    public init?(converting error: any Error) {
        if let storage = error as? StorageError {
            self = storage
        } else if let failed = error as? SystemCallError {
            self.init(failed)
        } else {
            return nil
        }
    }

    /// An error for a failed system call, taking `errno` now.
    static func fromErrno(_ call: String, detail: String = "") -> StorageError {
        StorageError(.syscall(errno: errno), call: call, detail: detail)
    }

    /// The `errno` of a failed system call, or nil for other kinds.
    public var errnoValue: Int32? {
        if case .syscall(let value) = code { return value }
        return nil
    }

    public var description: String {
        let context = detail.isEmpty ? "" : " (\(detail))"
        switch code {
        case .syscall(let value):
            return "\(call) failed: \(String(cString: strerror(value))) [errno \(value)]\(context)"
        case .corrupt:
            return "\(call): corrupt data\(context)"
        case .unavailable:
            return "\(call): storage unavailable\(context)"
        case .invalidArgument:
            return "\(call): invalid argument\(context)"
        }
    }
}
