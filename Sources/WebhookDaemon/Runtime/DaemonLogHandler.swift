import Foundation
import Logging
import VippsWebhooks

/// swift-log handler writing one line per record to standard error: JSON (one object per line, for journald and log
/// shippers) or plain text (for a terminal).
///
/// Lines are built as bytes and written with one `write(2)` each, without a lock (a request logs one line, so this is
/// on the request path). Callers never put secrets in metadata; payload bodies are not logged.
struct DaemonLogHandler: LogHandler {
    enum Format: Sendable { case json, text }

    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level
    let label: String
    let format: Format
    let output: LogOutput

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        let entries = merged.sorted { $0.key < $1.key }
        var line: [UInt8] = []
        line.reserveCapacity(256)
        switch format {
        case .json:
            line += Array("{\"ts\":\"".utf8)
            LogTimestamp.append(to: &line)
            line += Array("\",\"level\":\"".utf8)
            line += Array(event.level.rawValue.utf8)
            line += Array("\",\"msg\":".utf8)
            JSONValue.writeString(event.message.description, into: &line)
            for (key, value) in entries {
                line.append(UInt8(ascii: ","))
                JSONValue.writeString(key, into: &line)
                line.append(UInt8(ascii: ":"))
                JSONValue.writeString(value.description, into: &line)
            }
            line.append(UInt8(ascii: "}"))
        case .text:
            LogTimestamp.append(to: &line)
            line.append(0x20)
            line += Array(event.level.rawValue.utf8)
            line.append(0x20)
            line += Array(event.message.description.utf8)
            for (key, value) in entries {
                let rendered = value.description
                line.append(0x20)
                line += Array(key.utf8)
                line.append(UInt8(ascii: "="))
                let needsQuotes = rendered.isEmpty
                    || rendered.utf8.contains { $0 == 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "=") || $0 < 0x20 }
                if needsQuotes { JSONValue.writeString(rendered, into: &line) } else { line += Array(rendered.utf8) }
            }
        }
        line.append(0x0A)
        output.write(line)
    }
}

/// Writes whole lines to a file descriptor (standard error by default), one `write(2)` per line.
///
/// No lock: a single write of a line to a pipe, socket or `O_APPEND` file does not interleave with another writer's
/// line (for lines up to the pipe buffer size, which log lines stay far below).
final class LogOutput: Sendable {
    private let descriptor: Int32

    init(descriptor: Int32 = 2) {
        self.descriptor = descriptor
    }

    func write(_ line: [UInt8]) {
        line.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = Foundation.write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return  // Nowhere left to report a failing log; drop the line rather than block the daemon.
                }
                offset += written
            }
        }
    }
}

/// RFC 3339 UTC timestamps with milliseconds for log lines, formatted without Foundation or locale.
enum LogTimestamp {
    static func append(to line: inout [UInt8]) {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        var time = spec.tv_sec
        var parts = tm()
        gmtime_r(&time, &parts)
        appendDigits(Int(parts.tm_year) + 1900, 4, to: &line)
        line.append(UInt8(ascii: "-"))
        appendDigits(Int(parts.tm_mon) + 1, 2, to: &line)
        line.append(UInt8(ascii: "-"))
        appendDigits(Int(parts.tm_mday), 2, to: &line)
        line.append(UInt8(ascii: "T"))
        appendDigits(Int(parts.tm_hour), 2, to: &line)
        line.append(UInt8(ascii: ":"))
        appendDigits(Int(parts.tm_min), 2, to: &line)
        line.append(UInt8(ascii: ":"))
        appendDigits(Int(parts.tm_sec), 2, to: &line)
        line.append(UInt8(ascii: "."))
        appendDigits(spec.tv_nsec / 1_000_000, 3, to: &line)
        line.append(UInt8(ascii: "Z"))
    }

    private static func appendDigits(_ value: Int, _ width: Int, to line: inout [UInt8]) {
        var divisor = 1
        for _ in 1..<width { divisor *= 10 }
        var rest = value
        while divisor > 0 {
            line.append(UInt8(ascii: "0") + UInt8(rest / divisor % 10))
            rest %= divisor
            divisor /= 10
        }
    }
}
