import Dispatch
import Glibc
import HTTP1
import Logging
import POSIX
import Synchronization
import VippsWebhooks

/// swift-log handler writing one line per record to standard error: JSON (one object per line, for journald and log
/// shippers) or plain text (for a terminal).
///
/// Lines are built as bytes (a request logs one line, so this is on the request path) and handed to `LogOutput`,
/// which batches them. Callers never put secrets in metadata; payload bodies are not logged.
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
        let entries: [(key: String, value: Logger.MetadataValue)]
        if let extra = event.metadata, !extra.isEmpty {
            entries = (metadata.isEmpty ? extra : metadata.merging(extra) { $1 }).sorted { $0.key < $1.key }
        } else {
            entries = metadata.sorted { $0.key < $1.key }
        }
        var line: [UInt8] = []
        line.reserveCapacity(256)
        switch format {
        case .json:
            Self.appendJSONHead(level: event.level, message: event.message.description, to: &line)
            for (key, value) in entries {
                line.append(UInt8(ascii: ","))
                JSONValue.writeString(key, into: &line)
                line.append(UInt8(ascii: ":"))
                Self.writeJSON(value, into: &line)
            }
            line.append(UInt8(ascii: "}"))
        case .text:
            LogTimestamp.append(to: &line)
            line.append(0x20)
            line.append(contentsOf: event.level.rawValue.utf8)
            line.append(0x20)
            line.append(contentsOf: event.message.description.utf8)
            for (key, value) in entries {
                let rendered = value.description
                line.append(0x20)
                line.append(contentsOf: key.utf8)
                line.append(UInt8(ascii: "="))
                let needsQuotes =
                    rendered.isEmpty
                    || rendered.utf8.contains {
                        $0 == 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "=") || $0 < 0x20
                    }
                if needsQuotes {
                    JSONValue.writeString(rendered, into: &line)
                } else {
                    line.append(contentsOf: rendered.utf8)
                }
            }
        }
        line.append(0x0A)
        output.write(line, immediately: event.level >= .notice)
    }

    /// Writes `record` as a `request` line at `level` without going through swift-log's metadata, when this
    /// handler writes JSON and has no metadata of its own; the bytes are those of ``log(event:)`` for
    /// `record.metadata`. Returns false when it did not (text format, or own metadata): log it through swift-log.
    /// A level below this handler's is dropped (and counts as handled).
    func logRequest(_ record: RequestLogRecord, level: Logger.Level) -> Bool {
        guard format == .json, metadata.isEmpty else { return false }
        guard level >= logLevel else { return true }
        var line: [UInt8] = []
        line.reserveCapacity(512)
        Self.appendJSONHead(level: level, message: "request", to: &line)
        record.forEachField { key, value in
            ASCII.append(",\"", to: &line)
            ASCII.append(key, to: &line)
            ASCII.append("\":", to: &line)
            switch value {
            case .text(let text): JSONValue.writeString(text, into: &line)
            case .integer(let integer): ASCII.appendDecimal(Int64(integer), to: &line)
            case .unsigned(let unsigned): ASCII.appendDecimal(unsigned, to: &line)
            case .milliseconds(let microseconds): Self.appendThousandths(microseconds, to: &line)
            }
        }
        ASCII.append("}\n", to: &line)
        output.write(line, immediately: level >= .notice)
        return true
    }

    /// Appends `thousandths / 1000` as `(Double(thousandths) / 1000).description` spells it: `0.25`, `12.0`,
    /// `12345.678`. Written from the integer up to 10^12 (about 31 years in microseconds), where that description is
    /// the exact decimal with at least one fractional digit; past it (or below 0) through `Double`.
    static func appendThousandths(_ thousandths: Int, to line: inout [UInt8]) {
        guard (0..<1_000_000_000_000).contains(thousandths) else {
            line.append(contentsOf: (Double(thousandths) / 1000).description.utf8)
            return
        }
        ASCII.appendDecimal(Int64(thousandths / 1000), to: &line)
        line.append(UInt8(ascii: "."))
        var fraction = thousandths % 1000
        guard fraction != 0 else { return line.append(UInt8(ascii: "0")) }
        var divisor = 100
        while fraction != 0 {
            line.append(UInt8(ascii: "0") + UInt8(fraction / divisor))
            fraction %= divisor
            divisor /= 10
        }
    }

    /// `{"ts":"…","level":"…","msg":"…"`, the start of every JSON line.
    private static func appendJSONHead(level: Logger.Level, message: String, to line: inout [UInt8]) {
        ASCII.append("{\"ts\":\"", to: &line)
        LogTimestamp.append(to: &line)
        ASCII.append("\",\"level\":\"", to: &line)
        line.append(contentsOf: level.rawValue.utf8)
        ASCII.append("\",\"msg\":", to: &line)
        JSONValue.writeString(message, into: &line)
    }

    /// Types whose `description` is their JSON text: integers and booleans.
    private static let plainJSONTypes: [ObjectIdentifier] = [
        ObjectIdentifier(Int.self), ObjectIdentifier(Int64.self), ObjectIdentifier(UInt64.self),
        ObjectIdentifier(UInt.self), ObjectIdentifier(Int32.self), ObjectIdentifier(UInt32.self),
        ObjectIdentifier(Bool.self),
    ]

    /// A metadata value as typed JSON: integers and finite floating-point numbers given with `.stringConvertible`
    /// as numbers, booleans as `true`/`false`, arrays and dictionaries (keys sorted) as JSON arrays and objects;
    /// everything else, `.string` values included, as a JSON string.
    static func writeJSON(_ value: Logger.MetadataValue, into line: inout [UInt8]) {
        switch value {
        case .string(let text):
            JSONValue.writeString(text, into: &line)
        case .stringConvertible(let convertible):
            // The common types by their type's identity first: a dynamic cast costs the same whether it succeeds
            // or not, and this runs for every request's log line.
            let type = ObjectIdentifier(Swift.type(of: convertible))
            if plainJSONTypes.contains(type) {
                line.append(contentsOf: convertible.description.utf8)
                return
            }
            if type == ObjectIdentifier(Double.self), let number = convertible as? Double, number.isFinite {
                line.append(contentsOf: number.description.utf8)
                return
            }
            switch convertible {
            case let flag as Bool:
                line.append(contentsOf: (flag ? "true" : "false").utf8)
            case let integer as any BinaryInteger:
                line.append(contentsOf: integer.description.utf8)
            case let number as Double where number.isFinite:
                line.append(contentsOf: number.description.utf8)
            default:
                JSONValue.writeString(convertible.description, into: &line)
            }
        case .array(let values):
            line.append(UInt8(ascii: "["))
            for (index, element) in values.enumerated() {
                if index > 0 { line.append(UInt8(ascii: ",")) }
                writeJSON(element, into: &line)
            }
            line.append(UInt8(ascii: "]"))
        case .dictionary(let members):
            line.append(UInt8(ascii: "{"))
            for (index, member) in members.sorted(by: { $0.key < $1.key }).enumerated() {
                if index > 0 { line.append(UInt8(ascii: ",")) }
                JSONValue.writeString(member.key, into: &line)
                line.append(UInt8(ascii: ":"))
                writeJSON(member.value, into: &line)
            }
            line.append(UInt8(ascii: "}"))
        }
    }
}

/// Writes whole lines to a file descriptor (standard error by default), in batches.
///
/// Like nginx's buffered access log: lines of level info and below (one per request) are collected and written
/// with one `write(2)` once 32 KiB have gathered or 100 ms after the first of them, so a busy daemon does not pay a
/// system call per request; a notice, warning, error or critical line is written at once, after everything collected
/// before it. Writes happen under the buffer's lock, so lines keep their order. A `kill -9` loses at most the last
/// 100 ms of info lines; the daemon's own exit paths log a notice (which flushes) first.
final class LogOutput: Sendable {
    private struct Buffer {
        var bytes: [UInt8] = []
        var flushScheduled = false
    }

    private static let maxBufferedBytes = 32 * 1024
    private static let flushDelay = DispatchTimeInterval.milliseconds(100)

    private let descriptor: Int32
    private let buffer = Mutex(Buffer())
    private let flushQueue = DispatchQueue(label: "vipps-webhookd.log-flush", qos: .utility)

    init(descriptor: Int32 = 2) {
        self.descriptor = descriptor
    }

    /// Adds `line`; writes everything collected when `immediately`, when the buffer is full, or soon after.
    func write(_ line: [UInt8], immediately: Bool) {
        let scheduleFlush = buffer.withLock { buffer -> Bool in
            buffer.bytes += line
            if immediately || buffer.bytes.count >= Self.maxBufferedBytes {
                writeAll(&buffer.bytes)
                return false
            }
            guard !buffer.flushScheduled else { return false }
            buffer.flushScheduled = true
            return true
        }
        if scheduleFlush {
            flushQueue.asyncAfter(deadline: .now() + Self.flushDelay) { [self] in flush() }
        }
    }

    /// Writes everything collected so far.
    func flush() {
        buffer.withLock { buffer in
            buffer.flushScheduled = false
            writeAll(&buffer.bytes)
        }
    }

    private func writeAll(_ bytes: inout [UInt8]) {
        guard !bytes.isEmpty else { return }
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = try? Syscall.retrying("write") {
                    Glibc.write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                }
                // Nowhere left to report a failing log; drop the lines rather than block the daemon.
                guard let written else { return }
                offset += written
            }
        }
        bytes.removeAll(keepingCapacity: true)
    }
}

/// RFC 3339 UTC timestamps with milliseconds for log lines (`EventTimestamp`'s format, the one RFC 3339 formatter).
enum LogTimestamp {
    static func append(to line: inout [UInt8]) {
        EventTimestamp.append(millisecondsSinceEpoch: currentEpochMilliseconds(), fractionDigits: 3, to: &line)
    }
}
