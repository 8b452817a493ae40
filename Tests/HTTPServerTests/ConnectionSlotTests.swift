import Dispatch
import Foundation
import Glibc
import HTTPServer
import Synchronization
import TestSupport
import Testing

/// Who keeps a connection slot: refused requests end their connection, and at `maxConnections` a newcomer takes the
/// slot of the keep-alive connection idle longest instead of being answered 503.
@Suite(.serialized) struct ConnectionSlotTests {
    @Test func keepAliveClientsSendingOneRequestPerIdleTimeoutDoNotLockOutANewcomer() throws {
        let server = try RunningServer(configure: {
            $0.maxConnections = 3
            $0.headTimeout = .milliseconds(500)
            $0.idleTimeout = .seconds(1)
        })
        defer { server.stop() }
        let stop = Atomic(false)
        let finished = DispatchGroup()
        var holders: [RawClient] = []
        for _ in 0..<3 {
            let holder = try RawClient(port: server.port)
            holders.append(holder)
            let fd = holder.fd
            finished.enter()
            Thread.detachNewThread {
                let request = Array("GET /x HTTP/1.1\r\nHost: a\r\n\r\n".utf8)
                var sink = [UInt8](repeating: 0, count: 4096)
                while !stop.load(ordering: .relaxed) {
                    _ = request.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                    _ = sink.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
                    usleep(100_000)  // well within the idle timeout, even when a loaded machine runs it late
                }
                finished.leave()
            }
        }
        defer {
            stop.store(true, ordering: .relaxed)
            finished.wait()
        }
        // A newcomer, 3 s later (three idle timeouts): the holders have been served all along.
        usleep(3_300_000)
        let newcomer = try RawClient(port: server.port)
        try newcomer.send("GET /new HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(try newcomer.readResponse().status == 200, "all slots held by idle keep-alive clients")
        #expect(server.log.all.contains { if case .idleConnectionReplaced = $0 { true } else { false } })
        #expect(!server.log.all.contains { if case .connectionRefused = $0 { true } else { false } })
    }

    @Test func theConnectionIdleLongestIsReplacedOnWhicheverLoop() throws {
        let server = try RunningServer(configure: {
            $0.maxConnections = 2
            $0.eventLoops = 2
        })
        defer { server.stop() }
        // Connections go to the loops in turn: after this one, the older goes to the second loop (not the
        // listener's), the newer to the first.
        do { _ = try RawClient(port: server.port) }
        #expect(eventually { server.server.openConnectionCount == 0 })
        let older = try RawClient(port: server.port)
        try older.send("GET /older HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(try older.readResponse().status == 200)
        usleep(100_000)
        let newer = try RawClient(port: server.port)
        try newer.send("GET /newer HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(try newer.readResponse().status == 200)
        // The newcomer is admitted; the older idle connection is closed for it, the newer one is kept.
        let newcomer = try RawClient(port: server.port)
        try newcomer.send("GET /new HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(try newcomer.readResponse().body == "GET /new ")
        #expect(try older.readsEOF())
        try newer.send("GET /again HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(try newer.readResponse().body == "GET /again ")
        #expect(server.log.all.count(where: { if case .idleConnectionReplaced = $0 { true } else { false } }) == 1)
        #expect(server.server.openConnectionCount == 2)
    }

    @Test func connectionsInTheMiddleOfARequestAreNotReplaced() throws {
        let handler = HoldingHandler()
        let server = try RunningServer(configure: { $0.maxConnections = 3 }, handler: handler)
        defer {
            handler.answerAll(.text(200, "late"))
            server.stop()
        }
        // One waits for its answer, one is half-way through a head, one has sent nothing yet.
        let handled = try RawClient(port: server.port)
        try handled.send("GET /held HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(eventually { handler.count == 1 })
        let partial = try RawClient(port: server.port)
        try partial.send("GET /partial HTTP/1.1\r\nHo")
        let fresh = try RawClient(port: server.port)
        #expect(eventually { server.server.openConnectionCount == 3 })
        let newcomer = try RawClient(port: server.port)
        #expect(try newcomer.readResponse().status == 503)
        // All three go on.
        handler.answerFirst(.text(200, "done"))
        #expect(try handled.readResponse().body == "done\n")
        try partial.send("st: a\r\n\r\n")
        #expect(try partial.readResponse().body == "/partial")
        try fresh.send("GET /fresh HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(try fresh.readResponse().body == "/fresh")
        #expect(!server.log.all.contains { if case .idleConnectionReplaced = $0 { true } else { false } })
    }

    @Test func aRefusedRequestEndsItsConnectionAnAnsweredOneKeepsIt() throws {
        let handler = ClosureHTTPHandler(
            decide: { head, _ in
                switch head.path {
                case "/missing": .respond(.text(404, "Not Found"))
                case "/wrong-method": .respond(.text(405, "Method Not Allowed"))
                default: .readBody(maxBytes: 100)
                }
            },
            handle: { request, respond in
                respond(request.target == "/unsigned" ? .text(401, "Unauthorized") : .text(200, "ok"))
            }
        )
        let server = try RunningServer(handler: handler)
        defer { server.stop() }
        for refused in ["/missing", "/wrong-method", "/unsigned"] {
            let client = try RawClient(port: server.port)
            try client.send("POST /ok HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi")
            let answered = try client.readResponse()
            #expect(answered.status == 200 && answered.headers["connection"] == nil)
            try client.send("GET \(refused) HTTP/1.1\r\nHost: a\r\n\r\n")
            let response = try client.readResponse()
            #expect(response.status >= 400 && response.status < 500, "\(refused)")
            #expect(response.headers["connection"] == "close", "\(refused)")
            #expect(try client.readsEOF(), "\(refused)")
        }
    }
}
