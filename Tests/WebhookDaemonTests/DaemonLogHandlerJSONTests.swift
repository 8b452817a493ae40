import Foundation
import Logging
import Testing

@testable import WebhookDaemon

@Suite("JSON log values")
struct DaemonLogHandlerJSONTests {
    private func json(_ value: Logger.MetadataValue) -> String {
        var line: [UInt8] = []
        DaemonLogHandler.writeJSON(value, into: &line)
        return String(decoding: line, as: UTF8.self)
    }

    @Test("numbers and booleans are typed; strings stay strings even when they hold digits")
    func typed() {
        #expect(json(.stringConvertible(42)) == "42")
        #expect(json(.stringConvertible(Int64(-7))) == "-7")
        #expect(json(.stringConvertible(UInt16(8080))) == "8080")
        #expect(json(.stringConvertible(1.5)) == "1.5")
        #expect(json(.stringConvertible(true)) == "true")
        #expect(json(.stringConvertible(Double.nan)) == "\"nan\"")
        #expect(json(.stringConvertible(-Double.infinity)) == "\"-inf\"")
        #expect(json(.stringConvertible(UInt64.max)) == "18446744073709551615")
        #expect(json(.stringConvertible(Int32(-1))) == "-1")
        #expect(json(.stringConvertible(UInt(3))) == "3")
        #expect(json(.stringConvertible(0.00001)) == "1e-05")
        #expect(json(.stringConvertible(Float(0.5))) == "\"0.5\"")  // Only Double is written as a number.
        #expect(json(.string("123456")) == "\"123456\"")
        #expect(json(.stringConvertible(Duration.seconds(2))) == "\"2.0 seconds\"")
        #expect(json(.array([.stringConvertible(1), .string("a\"b")])) == #"[1,"a\"b"]"#)
        #expect(json(.dictionary(["b": .stringConvertible(false), "a": .string("x")])) == #"{"a":"x","b":false}"#)
    }

    @Test("a whole JSON line parses, with its numeric fields as numbers")
    func wholeLine() throws {
        let pipe = Pipe()
        let output = LogOutput(descriptor: pipe.fileHandleForWriting.fileDescriptor)
        let handler = DaemonLogHandler(logLevel: .info, label: "test", format: .json, output: output)
        handler.log(
            event: LogEvent(
                level: .notice,
                message: "request",
                metadata: ["status": .stringConvertible(401), "ms": .stringConvertible(0.25), "msn": "123456"],
                source: "test",
                file: #fileID,
                function: #function,
                line: #line
            )
        )
        try pipe.fileHandleForWriting.close()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        let record = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(record["status"] as? Int == 401)
        #expect(record["ms"] as? Double == 0.25)
        #expect(record["msn"] as? String == "123456")
    }
}
