import Foundation
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
            milliseconds: 0.25,
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
        hostile.milliseconds = .nan
        hostile.status = 503
        var slow = bare
        slow.milliseconds = 12_345.678
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
