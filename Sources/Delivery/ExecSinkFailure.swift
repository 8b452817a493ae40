/// Why one hook attempt did not succeed; the last one is kept with a dead letter.
public struct ExecSinkFailure: Error, Sendable, Equatable, Codable, CustomStringConvertible {
    /// The kind of failure.
    public enum Kind: String, Sendable, Codable {
        /// Exited with a non-zero status.
        case exit
        /// Killed by a signal it did not get from the daemon.
        case signal
        /// Ran past its timeout and was killed with its process group.
        case timeout
        /// Killed by the daemon (shutdown).
        case killed
        /// Its exit status was lost.
        case unknown
        /// Could not be started.
        case spawnError = "spawn_error"
        /// Never attempted: its sink was removed from the configuration while the event was owed to it.
        case sinkRemoved = "sink_removed"
    }

    /// The kind of failure.
    public var kind: Kind
    /// Exit status for `.exit`.
    public var exitCode: Int32?
    /// Signal number for `.signal`.
    public var signal: Int32?
    /// One line for people: "exit 3", "timeout after 30s", "executable not found: …".
    public var message: String
    /// The end of what the hook wrote to stderr (of the part kept), decoded leniently as UTF-8.
    public var stderrTail: String

    /// Creates a failure record.
    public init(kind: Kind, exitCode: Int32? = nil, signal: Int32? = nil, message: String, stderrTail: String = "") {
        self.kind = kind
        self.exitCode = exitCode
        self.signal = signal
        self.message = message
        self.stderrTail = stderrTail
    }

    public var description: String {
        stderrTail.isEmpty ? message : "\(message): \(stderrTail)"
    }

    enum CodingKeys: String, CodingKey {
        case kind
        case exitCode = "exit_code"
        case signal
        case message
        case stderrTail = "stderr_tail"
    }
}
