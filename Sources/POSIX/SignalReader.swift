import CSystem
import Glibc

/// Control signals (SIGTERM, SIGHUP, …) read from a signalfd on a thread of its own, never by a handler.
///
/// Call ``block(_:)`` before the process starts any other thread, so every thread inherits the mask: a blocked signal
/// then stays pending for the process until the reader takes it, whenever it came (even before the reader existed),
/// and no thread can take it by itself (with SIG_IGN or a handler it would be lost to the reader; with the default
/// action SIGTERM would kill the process without a clean stop).
public final class SignalReader: Sendable {
    private let fd: Int32

    /// Blocks `signals` in the calling thread and so in every thread it starts from now on.
    public static func block(_ signals: [Int32]) {
        var set = sigset_t()
        sigemptyset(&set)
        for number in signals { sigaddset(&set, number) }
        pthread_sigmask(SIG_BLOCK, &set, nil)
    }

    /// Reads `signals` (blocked with ``block(_:)``) and calls `handler` with each one's number on the reader's thread,
    /// one at a time, for the rest of the process's life; `handler` should hand the work elsewhere and return.
    /// - Throws: ``SystemCallError`` for `signalfd` or `pthread_create`.
    public init(signals: [Int32], handler: @escaping @Sendable (Int32) -> Void) throws(SystemCallError) {
        let fd = signals.withUnsafeBufferPointer { csystem_signalfd_open($0.baseAddress, Int32($0.count)) }
        guard fd >= 0 else { throw SystemCallError(call: "signalfd", errno: errno) }
        self.fd = fd
        do {
            try JoinableThread.detached {
                while true {
                    let number = csystem_signalfd_read(fd)
                    if number > 0 {
                        handler(number)
                    } else if number == 0 || errno != EINTR {
                        // Never closed while the process runs; if reading fails anyway, the control signals stay
                        // blocked and nothing could stop the daemon cleanly: stop it here, with the reason on
                        // standard error, and let the supervisor restart it (the journal keeps what was accepted).
                        let reason = number == 0 ? "end of file" : systemErrorMessage(errno)
                        fatalError("reading the control signals from their signalfd failed: \(reason)")
                    }
                }
            }
        } catch {
            Glibc.close(fd)
            throw error
        }
    }
}
