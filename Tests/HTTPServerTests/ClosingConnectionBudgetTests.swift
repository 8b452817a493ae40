import Foundation
import Glibc
import HTTPServer
import Synchronization
import TestSupport
import Testing

/// Connections that are only closing (their request refused) whose clients do not take the answer hold none of the
/// loop's buffer budget: a well-formed request on the same loop is read at once, not after their write timeout.
@Suite("server: refused connections hold no buffer budget")
struct ClosingConnectionBudgetTests {
    /// Refuses `/refuse` from its head with a 404 whose body does not fit the socket buffers (standing for any
    /// refusal a client does not read once its window is full); echoes everything else.
    final class RefusingHandler: HTTPHandler, Sendable {
        static let bigRefusal = HTTPResponse(status: 404, body: [UInt8](repeating: 0x6E, count: 16 << 20))

        func decide(head: HTTPRequestHead, peer: String) -> HTTPHeadDecision {
            head.target == "/refuse" ? .respond(Self.bigRefusal) : .readBody(maxBytes: 1 << 20)
        }

        func handle(_ request: HTTPRequest, respond: HTTPResponder) {
            respond(HTTPResponse(status: 200, body: Array("ok \(request.body.count)".utf8)))
        }
    }

    @Test(
        "refused connections whose answer is not read do not hold the budget: a good request is read at once",
        arguments: [0, 5]
    )
    func refusedUnreadConnectionsDoNotStarveAGoodRequest(attackerCount: Int) throws {
        let server = try RunningServer(
            configure: {
                $0.eventLoops = 1
                $0.maxBufferedBytes = 256 * 1024
                // Far longer than the client waits for its answer: were the refused connections' input held until
                // their writes time out, the good request would get no answer in time.
                $0.writeTimeout = .seconds(120)
                $0.bodyTimeout = .seconds(30)
                $0.headTimeout = .seconds(30)
            },
            handler: RefusingHandler()
        )
        defer { server.stop() }
        var attackers: [RawClient] = []
        for _ in 0..<attackerCount {
            let client = try RawClient(port: server.port)
            var small: Int32 = 4096
            setsockopt(client.fd, SOL_SOCKET, SO_RCVBUF, &small, socklen_t(MemoryLayout<Int32>.size))
            // A refused request and 60,000 more bytes, in one segment burst; the answer is never read.
            let junk = [UInt8](repeating: 0x61, count: 60_000)
            try client.send(Array("GET /refuse HTTP/1.1\r\nHost: a\r\n\r\n".utf8) + junk)
            attackers.append(client)
            usleep(50_000)
        }
        usleep(300_000)
        let good = try RawClient(port: server.port)
        let body = [UInt8](repeating: 0x62, count: 20_000)
        try good.send(Array("POST /good HTTP/1.1\r\nHost: a\r\nContent-Length: 20000\r\n\r\n".utf8) + body)
        let answer = try? good.readResponse()
        let shed = server.log.all.filter { if case .requestShed = $0 { true } else { false } }.count
        let got = answer.map { "\($0.status) \($0.body)" } ?? "no answer"
        #expect(
            answer?.status == 200 && shed == 0,
            "\(attackerCount) refused unread connection(s); good request: \(got); \(shed) request(s) shed"
        )
        withExtendedLifetime(attackers) {}
    }
}
