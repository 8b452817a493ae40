import Foundation
import Synchronization
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The real daemon against clients that send too little or in odd shapes: an empty-line trickler, a request
/// followed at once by its FIN, a header flood.
@Suite("daemon against hostile clients")
struct DaemonHostileClientTests {
    @Test("a \\r\\n trickler is answered 408 and closed within the head timeout; a signed event is served meanwhile")
    func emptyLineTrickler() throws {
        let harness = try DaemonHarness(config: Fixture.basicConfig(extraTop: "server: { header_timeout_seconds: 1 }"))
        let trickler = try RawClient(port: Int(harness.port))
        let start = Date()
        let stop = StopFlag(false)
        let fd = trickler.fd
        let thread = Thread {
            while !stop.load() {
                _ = "\r\n".withCString { send(fd, $0, 2, Int32(MSG_NOSIGNAL)) }
                usleep(200_000)
            }
        }
        thread.start()
        defer { stop.store(true) }
        #expect(try harness.send(Fixture.payment()).status == 200)
        let answer = try trickler.readAll()
        let elapsed = Date().timeIntervalSince(start)
        #expect(answer.hasPrefix("HTTP/1.1 408 "), "\(answer)")
        // Closed at the head timeout, not never: the client's reads give up after 5 s without data; the bound leaves
        // room for the signed event's exchange (a journal sync) on a loaded machine.
        #expect(elapsed >= 0.9 && elapsed < 10, "closed after \(elapsed) s")
        let metrics = PrometheusText.parse(try harness.get("/metrics").text)
        let timeouts = metrics.samples(named: "vipps_webhookd_http_errors_total").filter {
            $0.labels == ["kind": "timeout_head"]
        }
        #expect(timeouts.map(\.value) == [1])
    }

    /// The head and body of a signed ePayment event for the daemon on `port`.
    static func signedRequest(port: UInt16) throws -> (head: [UInt8], body: [UInt8]) {
        let body = Array(Fixture.payment().utf8)
        let headers = try TestSigner.headers(
            secret: Fixture.secret,
            url: "http://127.0.0.1:\(port)/vipps/epayment",
            body: body
        )
        var head = "POST /vipps/epayment HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        head += "Content-Length: \(body.count)\r\n\r\n"
        return (Array(head.utf8), body)
    }

    @Test("a signed event followed at once by the client's FIN is stored, answered, and the connection closed")
    func requestWithFIN() throws {
        let harness = try DaemonHarness()
        let (head, body) = try Self.signedRequest(port: harness.port)
        let client = try RawClient(port: Int(harness.port))
        try client.send(head + body)
        _ = shutdown(client.fd, Int32(SHUT_WR))
        let start = Date()
        let answer = try client.readAll()  // to the server's close: well before the 60 s idle timeout
        #expect(answer.hasPrefix("HTTP/1.1 200 "), "\(answer)")
        #expect(Date().timeIntervalSince(start) < 10)
        #expect(try harness.waitForRecords("events.jsonl", count: 1).count == 1)
    }

    @Test("a signed event cut short by the client's FIN (head or body incomplete): closed, logged, counted, not stored")
    func requestCutByFIN() throws {
        let harness = try DaemonHarness()
        let (head, body) = try Self.signedRequest(port: harness.port)
        for cut in [Array(head.prefix(40)), head + body.prefix(body.count / 2)] {
            let client = try RawClient(port: Int(harness.port))
            try client.send(cut)
            _ = shutdown(client.fd, Int32(SHUT_WR))
            #expect(try client.readAll() == "", "closed without an answer")
        }
        let metrics = PrometheusText.parse(try harness.get("/metrics").text)
        let cut = metrics.samples(named: "vipps_webhookd_http_errors_total").filter {
            $0.labels == ["kind": "incomplete_request"]
        }
        #expect(cut.map(\.value) == [2])
        #expect(harness.daemon.log.components(separatedBy: "client closed in the middle of a request").count == 3)
        #expect(try harness.send(Fixture.payment()).status == 200)
        #expect(try harness.waitForRecords("events.jsonl", count: 1).count == 1, "only the whole event is stored")
    }

    @Test("more header fields than server.max_header_count get 431 and a closed connection")
    func headerFlood() throws {
        let harness = try DaemonHarness(config: Fixture.basicConfig(extraTop: "server: { max_header_count: 10 }"))
        let fields = (1...10).map { "x-\($0): v\r\n" }.joined()
        let client = try RawClient(port: Int(harness.port))
        try client.send(Array("POST /vipps/epayment HTTP/1.1\r\nHost: a\r\n\(fields)\r\n".utf8))
        let answer = try client.readAll()
        #expect(answer.hasPrefix("HTTP/1.1 431 "), "\(answer)")
        #expect(try harness.send(Fixture.payment()).status == 200, "a signed event's own fields fit")
    }

    @Test("a signed event whose head is exactly server.max_header_bytes is stored; one byte more gets 431")
    func headAtTheByteLimit() throws {
        let limit = 2048
        let harness = try DaemonHarness(
            config: Fixture.basicConfig(extraTop: "server: { max_header_bytes: \(limit) }")
        )
        let (head, body) = try Self.signedRequest(port: harness.port)
        /// The signed head padded with an unsigned `x-pad` field to `length` bytes.
        func padded(to length: Int) -> [UInt8] {
            let field = Array("x-pad: ".utf8)
            let padding = length - head.count - field.count - 2
            let fieldLine = field + [UInt8](repeating: UInt8(ascii: "p"), count: padding) + Array("\r\n\r\n".utf8)
            return Array(head[..<(head.count - 2)]) + fieldLine
        }
        let over = try RawClient(port: Int(harness.port))
        try over.send(padded(to: limit + 1) + body)
        let refused = try over.readAll()
        #expect(refused.hasPrefix("HTTP/1.1 431 "), "\(refused)")
        let exact = try RawClient(port: Int(harness.port))
        try exact.send(padded(to: limit) + body)
        _ = shutdown(exact.fd, Int32(SHUT_WR))
        let answer = try exact.readAll()
        #expect(answer.hasPrefix("HTTP/1.1 200 "), "\(answer)")
        #expect(try harness.waitForRecords("events.jsonl", count: 1).count == 1)
    }
}

/// A flag shared with a thread.
private final class StopFlag: Sendable {
    private let value: Mutex<Bool>

    init(_ value: Bool) { self.value = Mutex(value) }

    func load() -> Bool { value.withLock { $0 } }
    func store(_ newValue: Bool) { value.withLock { $0 = newValue } }
}
