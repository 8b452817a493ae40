import Foundation
import Logging

/// swift-log handler writing one line per record to standard error: JSON (one object per line, for journald and log
/// shippers) or plain text (for a terminal).
///
/// Callers never put secrets in metadata; payload bodies are not logged.
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
        let time = LogTimestamp.now()
        let line: String
        switch format {
        case .json:
            var object = "{\"ts\":\(JSONText.quoted(time)),\"level\":\(JSONText.quoted(event.level.rawValue))"
            object += ",\"msg\":\(JSONText.quoted(event.message.description))"
            for (key, value) in merged.sorted(by: { $0.key < $1.key }) {
                object += ",\(JSONText.quoted(key)):\(JSONText.quoted(value.description))"
            }
            line = object + "}\n"
        case .text:
            var text = "\(time) \(event.level.rawValue) \(event.message.description)"
            for (key, value) in merged.sorted(by: { $0.key < $1.key }) {
                let rendered = value.description
                let needsQuotes = rendered.isEmpty || rendered.contains(where: { $0 == " " || $0 == "\"" || $0 == "=" })
                text += " \(key)=" + (needsQuotes ? JSONText.quoted(rendered) : rendered)
            }
            line = text + "\n"
        }
        output.write(line)
    }
}

/// Serialised writes of whole lines to a file descriptor (standard error by default).
final class LogOutput: Sendable {
    private let descriptor: Int32
    private let lock = NSLock()

    init(descriptor: Int32 = 2) {
        self.descriptor = descriptor
    }

    func write(_ line: String) {
        var bytes = Array(line.utf8)
        lock.lock()
        defer { lock.unlock() }
        bytes.withUnsafeMutableBytes { buffer in
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

/// RFC 3339 UTC timestamps with milliseconds for log lines.
enum LogTimestamp {
    static func now() -> String {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        var time = spec.tv_sec
        var parts = tm()
        gmtime_r(&time, &parts)
        let millis = spec.tv_nsec / 1_000_000
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
            Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), millis)
    }
}

/// JSON string quoting for log output.
enum JSONText {
    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                out += "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count)
                    + String(scalar.value, radix: 16)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
