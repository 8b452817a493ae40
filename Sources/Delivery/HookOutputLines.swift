import POSIX

/// The lines of one output stream of a hook run that go to the daemon's log, bounded per run.
///
/// At most ``lineLimit`` lines and ``byteLimit`` bytes per stream and run are logged, one log line per output line
/// (a final line without a newline counts too, a trailing `\r` is dropped, empty lines are skipped); what is beyond
/// is counted, and the caller logs one line saying how much was left out. Bytes the runner itself discarded (past
/// its `outputLimit`) are counted as left out as well.
public struct HookOutputLines: Sendable, Equatable {
    /// Lines logged per stream and run, at most.
    public static let lineLimit = 50
    /// Bytes of one stream logged per run, at most (a line that would cross it is cut there).
    public static let byteLimit = 8 * 1024

    /// The lines to log, in order.
    public var lines: [String]
    /// Lines not logged (a line cut at the byte limit counts as logged).
    public var omittedLines: Int
    /// Bytes not logged, newlines excluded, including those the runner discarded.
    public var omittedBytes: Int

    /// Whether anything was left out.
    public var truncated: Bool { omittedLines > 0 || omittedBytes > 0 }

    /// Splits `output` into log lines under the limits.
    public init(_ output: ProcessRunnerResult.Output, lineLimit: Int = lineLimit, byteLimit: Int = byteLimit) {
        var lines: [String] = []
        var omittedLines = 0
        var omittedBytes = output.discardedCount
        var budget = byteLimit
        for var line in output.bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true) {
            if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
            guard !line.isEmpty else { continue }
            guard lines.count < lineLimit, budget > 0 else {
                omittedLines += 1
                omittedBytes += line.count
                continue
            }
            let kept = line.prefix(budget)
            omittedBytes += line.count - kept.count
            budget -= kept.count
            lines.append(String(decoding: kept, as: UTF8.self))
        }
        self.lines = lines
        self.omittedLines = omittedLines
        self.omittedBytes = omittedBytes
    }
}
