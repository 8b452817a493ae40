import Foundation
import HTTP1
import Logging
import Testing

@testable import WebhookDaemon

/// The typed request line (`DaemonLogHandler.logRequest`) must be the line swift-log's path writes for the same
/// record: operators' log queries do not know which path wrote it.
@Suite("Request log record")
struct RequestLogRecordTests {
    /// What `write` sends to a handler's output, lines with their timestamps blanked.
    private func lines(
        format: DaemonLogHandler.Format = .json,
        level: Logger.Level = .info,
        handlerMetadata: Logger.Metadata = [:],
        _ write: (DaemonLogHandler) -> Void
    ) throws -> [String] {
        let pipe = Pipe()
        let output = LogOutput(descriptor: pipe.fileHandleForWriting.fileDescriptor)
        var handler = DaemonLogHandler(logLevel: level, label: "test", format: format, output: output)
        handler.metadata = handlerMetadata
        write(handler)
        output.flush()
        try pipe.fileHandleForWriting.close()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        return text.split(separator: "\n").map {
            $0.replacingOccurrences(of: #"^\{"ts":"[^"]*""#, with: #"{"ts":"-""#, options: .regularExpression)
        }
    }

    private func throughSwiftLog(_ record: RequestLogRecord, level: Logger.Level, to handler: DaemonLogHandler) {
        handler.log(
            event: LogEvent(
                level: level,
                message: "request",
                metadata: record.metadata,
                source: "test",
                file: #fileID,
                function: #function,
                line: #line
            )
        )
    }

    private static let records: [RequestLogRecord] = {
        let bare = RequestLogRecord(
            endpoint: "/webhooks/vipps",
            microseconds: 250,
            peer: "127.0.0.1:5",
            reason: "stored",
            status: 200
        )
        var full = bare
        full.findings = "amount.value: invalid"
        full.id = String(repeating: "ab", count: 32)
        full.routed = "no route matched; kept in the journal only"
        full.sequence = UInt64.max
        full.signedTarget = "host /path?q=1"
        full.type = "epayments.payment.captured.v1"
        full.webhookID = "c0ffee"
        var hostile = full
        hostile.endpoint = "/a\"b\\c\u{1}\u{7F}é\n"
        hostile.peer = "[::1]:80"
        hostile.reason = "x-ms-date is -3000 s away from now, \"outside\""
        hostile.webhookID = "\u{2028}\t"
        hostile.microseconds = -7
        hostile.status = 503
        var slow = bare
        slow.microseconds = 12_345_678
        slow.status = 404
        return [bare, full, hostile, slow]
    }()

    @Test("the typed line has the bytes of the swift-log line, every field present or absent", arguments: records)
    func sameBytesAsSwiftLog(record: RequestLogRecord) throws {
        for level in [Logger.Level.info, .error] {
            var handled = false
            let typed = try lines { handled = $0.logRequest(record, level: level) }
            let generic = try lines { throughSwiftLog(record, level: level, to: $0) }
            #expect(handled)
            #expect(typed.count == 1)
            #expect(typed == generic)
            let object = try JSONSerialization.jsonObject(with: Data(typed[0].utf8)) as? [String: Any]
            #expect(object?["status"] as? Int == record.status)
            #expect(object?["endpoint"] as? String == record.endpoint)
        }
    }

    @Test("a duration is written as the Double of its milliseconds prints, from the integer where that is exact")
    func millisecondsAreSpelledAsDoubleDescription() {
        var values = [0, 1, 5, 10, 99, 100, 120, 999, 1000, 1001, 1200, 1230, 1234, 12_345_678, 999_999_999_999]
        values += [1_000_000_000_000, 5_000_000_000_123, -1, -1500, Int.max, Int.min]
        var generator = SystemRandomNumberGenerator()
        for magnitude in [1_000, 1_000_000, 1_000_000_000, 1_000_000_000_000] {
            values += (0..<2_000).map { _ in Int.random(in: 0..<magnitude, using: &generator) }
        }
        for value in values {
            var line: [UInt8] = []
            DaemonLogHandler.appendThousandths(value, to: &line)
            #expect(String(decoding: line, as: UTF8.self) == (Double(value) / 1000).description, "\(value)")
        }
    }

    @Test("integers are written as their description spells them")
    func integersAreSpelledAsDescription() {
        for value in [0, 7, 10, 200, 503, -1, -40, Int.max, Int.min] {
            var line: [UInt8] = []
            ASCII.appendDecimal(Int64(value), to: &line)
            #expect(String(decoding: line, as: UTF8.self) == value.description)
        }
        for value: UInt64 in [0, 9, 10, 1_234_567, UInt64.max] {
            var line: [UInt8] = []
            ASCII.appendDecimal(value, to: &line)
            #expect(String(decoding: line, as: UTF8.self) == value.description)
        }
    }

    @Test("text format and a handler with its own metadata leave the record to swift-log")
    func declinesWhatItCannotWriteTheSame() throws {
        let record = Self.records[1]
        var handled = true
        #expect(try lines(format: .text) { handled = $0.logRequest(record, level: .info) }.isEmpty)
        #expect(!handled)
        handled = true
        #expect(try lines(handlerMetadata: ["unit": "x"]) { handled = $0.logRequest(record, level: .info) }.isEmpty)
        #expect(!handled)
    }

    @Test("a level below the handler's is dropped, not written and not handed back")
    func belowTheLevelIsDropped() throws {
        var handled = false
        #expect(try lines(level: .warning) { handled = $0.logRequest(Self.records[0], level: .info) }.isEmpty)
        #expect(handled)
        #expect(try lines(level: .warning) { _ = $0.logRequest(Self.records[0], level: .error) }.count == 1)
    }
}
