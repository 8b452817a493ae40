import Dispatch
import Foundation
import Glibc
import HTTPServer
import Synchronization
import TestSupport
import Testing

/// What one client can make the server hold or keep: empty-line tricklers, header floods, half-closed connections,
/// and the buffer budget of unanswered requests (real sockets on loopback).
@Suite(.serialized) struct HTTPServerLimitTests {
    @Test func emptyLineTricklerIsCutAtTheHeadDeadline() throws {
        let server = try RunningServer(configure: {
            $0.headTimeout = .milliseconds(400)
            $0.idleTimeout = .seconds(30)
        })
        defer { server.stop() }
        // A keep-alive connection after an answered request (its head deadline starts at the first empty line, not at
        // the last), and a fresh connection (its head deadline runs from accept).
        let kept = try RawClient(port: server.port)
        try kept.send("GET /1 HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(try kept.readResponse().status == 200)
        for fresh in [false, true] {
            let start = Date()
            let client = fresh ? try RawClient(port: server.port) : kept
            let trickler = trickle("\r\n", every: 100_000, to: client.fd)
            defer { trickler.stop() }
            #expect(try client.readResponse().status == 408)
            let elapsed = Date().timeIntervalSince(start)
            // Cut at the head deadline, not never (the client gives up after 5 s): room for a loaded machine.
            #expect(elapsed >= 0.3 && elapsed < 4.5, "cut after \(elapsed) s")
            #expect(try client.readsEOF())
        }
        #expect(eventually { server.server.openConnectionCount == 0 })
    }

    @Test func tooManyEmptyLinesGet400() throws {
        let server = try RunningServer()
        defer { server.stop() }
        let client = try RawClient(port: server.port)
        try client.send(String(repeating: "\r\n", count: 9) + "GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(try client.readResponse().status == 400)
        #expect(try client.readsEOF())
        #expect(
            server.log.all.contains { if case .parseError(_, .tooManyEmptyLines, 400) = $0 { true } else { false } }
        )
        // An empty line between keep-alive requests is still fine.
        let polite = try RawClient(port: server.port)
        try polite.send("GET /1 HTTP/1.1\r\nHost: a\r\n\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(try polite.readResponse().body == "GET /1 ")
        #expect(try polite.readResponse().body == "GET /2 ")
    }

    @Test func tooManyHeaderFieldsGet431() throws {
        let server = try RunningServer(configure: { $0.maxHeaderCount = 20 })
        defer { server.stop() }
        func request(fields: Int) -> String {
            "GET / HTTP/1.1\r\nHost: a\r\n" + (1..<fields).map { "x\($0): v\r\n" }.joined() + "\r\n"
        }
        let within = try RawClient(port: server.port)
        try within.send(request(fields: 20))
        #expect(try within.readResponse().status == 200)
        let over = try RawClient(port: server.port)
        try over.send(request(fields: 21))
        #expect(try over.readResponse().status == 431)
        #expect(try over.readsEOF())
        #expect(server.log.all.contains { if case .parseError(_, .tooManyHeaders, 431) = $0 { true } else { false } })
    }

    @Test func requestFollowedByFINIsAnsweredThenClosed() throws {
        // The handler answers later (as the daemon does after its journal fsync): the FIN is long in when it does.
        // "/block" holds the only loop thread for a moment, so that the next clients' requests and FINs are both
        // in when the loop first reads them (one readiness edge for both).
        let handler = ClosureHTTPHandler { request, respond in
            if request.target == "/block" { usleep(200_000) }
            DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(100)) {
                respond(HTTPResponse(status: 200, body: Array(request.target.utf8)))
            }
        }
        let server = try RunningServer(
            configure: {
                $0.idleTimeout = .seconds(30)
                $0.eventLoops = 1
            },
            handler: handler
        )
        defer { server.stop() }
        let blocker = try RawClient(port: server.port)
        try blocker.send("GET /block HTTP/1.1\r\nHost: a\r\n\r\n")
        usleep(50_000)
        let single = try RawClient(port: server.port)
        try single.send("POST /one HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi")
        _ = Glibc.shutdown(single.fd, Int32(SHUT_WR))
        let pipelined = try RawClient(port: server.port)
        try pipelined.send("GET /a HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\nHost: a\r\n\r\n")
        _ = Glibc.shutdown(pipelined.fd, Int32(SHUT_WR))
        let start = Date()
        #expect(try single.readResponse().body == "/one")
        #expect(try single.readsEOF())
        #expect(try pipelined.readResponse().body == "/a")
        #expect(try pipelined.readResponse().body == "/b")
        #expect(try pipelined.readsEOF())
        #expect(Date().timeIntervalSince(start) < 10, "closed long before the idle timeout (30 s)")
        #expect(try blocker.readResponse().body == "/block")
        #expect(eventually(10) { server.server.openConnectionCount == 1 }, "only the blocker's keep-alive is open")
        #expect(!server.log.all.contains { if case .timeout = $0 { true } else { false } })
    }

    @Test func aFINInTheMiddleOfAHeadClosesWithoutAnAnswer() throws {
        let server = try RunningServer(configure: { $0.idleTimeout = .seconds(30) })
        defer { server.stop() }
        let client = try RawClient(port: server.port)
        try client.send("GET / HTTP/1.1\r\nHost")
        _ = Glibc.shutdown(client.fd, Int32(SHUT_WR))
        #expect(try client.readsEOF())
        #expect(eventually(10) { server.server.openConnectionCount == 0 })
    }

    /// A head announcing a 65,536-byte body.
    private static let bigHead = "POST /big HTTP/1.1\r\nHost: a\r\nContent-Length: 65536\r\n\r\n".bytes

    /// A server with one loop (so one budget share) of `budget` bytes and a body timeout no test reaches.
    private func budgetServer(_ budget: Int, handler: any HTTPHandler = echoHandler) throws -> RunningServer {
        try RunningServer(
            configure: {
                $0.eventLoops = 1
                $0.maxBufferedBytes = budget
                $0.bodyTimeout = .seconds(30)
            },
            handler: handler
        )
    }

    @Test func aFloodOfBigHeadsDoesNotCutASmallRequestThatStartedFirst() throws {
        let server = try budgetServer(1 << 20)
        defer { server.stop() }
        // A small request starts first and is half-way through its body when the flood begins.
        let small = try RawClient(port: server.port)
        let body = [UInt8](repeating: 0x61, count: 3000)
        try small.send("POST /small HTTP/1.1\r\nHost: a\r\nContent-Length: 3000\r\n\r\n".bytes + body[0..<1500])
        usleep(100_000)
        // 200 connections, each with 16,000 bytes of a head that never ends: 3.2 MB for a 1 MiB budget.
        let field = "X-Pad: " + String(repeating: "p", count: 191) + "\r\n"
        let bigHead = ("POST /flood HTTP/1.1\r\nHost: a\r\n" + String(repeating: field, count: 79)).bytes
        #expect(bigHead.count > 15_000 && bigHead.count < 16_384)
        var flood: [RawClient] = []
        for _ in 0..<200 {
            let client = try RawClient(port: server.port)
            try? client.send(bigHead)  // a connection already cut may refuse the rest
            flood.append(client)
        }
        #expect(
            eventually {
                server.log.all.count(where: { if case .requestShed = $0 { true } else { false } }) >= 100
            }
        )
        // The small request finishes and is answered; every cut request was one of the big heads.
        try small.send(Array(body[1500...]))
        let response = try small.readResponse()
        #expect(response.status == 200 && response.body == "POST /small " + String(repeating: "a", count: 3000))
        let shed = server.log.all.compactMap { event -> Int? in
            if case .requestShed(_, let held) = event { held } else { nil }
        }
        #expect(shed.allSatisfy { $0 >= bigHead.count }, "\(shed.filter { $0 < bigHead.count })")
        #expect(try flood[0].readResponse().status == 503, "the first big head, stalled longest, was cut")
    }

    @Test func ofEqualIncompleteRequestsTheOneStalledLongestIsCut() throws {
        let server = try budgetServer(150_000)
        defer { server.stop() }
        let almost = Self.bigHead + [UInt8](repeating: 0x78, count: 60_000)
        var clients: [RawClient] = []
        for _ in 0..<3 {
            let client = try RawClient(port: server.port)
            try client.send(almost)
            clients.append(client)
            usleep(150_000)  // the server has read it: the first one has waited longest for its next byte
        }
        // Three almost whole bodies do not fit in 150,000 bytes: the one stalled longest was cut to make room.
        #expect(try clients[0].readResponse().status == 503)
        #expect(try clients[0].readsEOF())
        let shed = server.log.all.compactMap { event -> Int? in
            if case .requestShed(_, let held) = event { held } else { nil }
        }
        #expect(shed.count == 1 && (shed.first ?? 0) >= 60_000, "\(shed)")
        // The others finish and are answered; a small request on a fresh connection is served meanwhile.
        let fresh = try RawClient(port: server.port)
        try fresh.send("GET /fresh HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(try fresh.readResponse().body == "GET /fresh ")
        for client in clients.dropFirst() {
            try client.send([UInt8](repeating: 0x78, count: 5536))
            let response = try client.readResponse()
            #expect(response.status == 200 && response.body.utf8.count == "POST /big ".utf8.count + 65536)
        }
    }

    @Test func closedConnectionsGiveTheirBudgetBack() throws {
        let server = try budgetServer(200_000)
        defer { server.stop() }
        // Ten rounds of two almost whole bodies that are abandoned: were their bytes not given back on close, the
        // budget would run out in the second round.
        for _ in 0..<10 {
            do {
                let clients = try (0..<2).map { _ in try RawClient(port: server.port) }
                for client in clients { try client.send(Self.bigHead + [UInt8](repeating: 0x78, count: 60_000)) }
                usleep(50_000)
            }  // closed here
            #expect(eventually { server.server.openConnectionCount == 0 })
        }
        let fresh = try RawClient(port: server.port)
        try fresh.send(Self.bigHead + [UInt8](repeating: 0x78, count: 65536))
        #expect(try fresh.readResponse().status == 200)
        #expect(!server.log.all.contains { if case .requestShed = $0 { true } else { false } })
    }

    @Test func readsWaitWhileOnlyHandledRequestsHoldTheBudget() throws {
        let handler = HoldingHandler()
        let server = try budgetServer(20_000, handler: handler)
        defer {
            handler.answerAll(.text(200, "late"))
            server.stop()
        }
        let body = [UInt8](repeating: 0x79, count: 6000)
        let holders = try (0..<3).map { _ in try RawClient(port: server.port) }
        for client in holders {
            try client.send("POST /held HTTP/1.1\r\nHost: a\r\nContent-Length: 6000\r\n\r\n".bytes + body)
        }
        #expect(eventually { handler.count == 3 })
        // Three handled requests of ~6.5 KB each leave less than a minimum read: a new request waits, nothing is
        // cut (requests the handler has are never cut).
        let waiting = try RawClient(port: server.port)
        try waiting.send("GET /waiting HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(!waiting.hasData(within: 300))
        // One answer gives its bytes back: the waiting read goes on (edge-triggered: no new readiness came).
        handler.answerFirst(.text(200, "done"))
        #expect(try holders[0].readResponse().body == "done\n")
        #expect(try waiting.readResponse().body == "/waiting")
        #expect(!server.log.all.contains { if case .requestShed = $0 { true } else { false } })
    }
}

/// Sends `text` to `fd` every `microseconds` on a thread of its own until stopped.
private func trickle(_ text: String, every microseconds: UInt32, to fd: Int32) -> Trickler {
    let trickler = Trickler()
    let bytes = Array(text.utf8)
    Thread.detachNewThread {
        while !trickler.stopped.load(ordering: .relaxed) {
            _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            usleep(microseconds)
        }
        trickler.done.signal()
    }
    return trickler
}

private final class Trickler: Sendable {
    let stopped = Atomic(false)
    let done = DispatchSemaphore(value: 0)

    func stop() {
        stopped.store(true, ordering: .relaxed)
        done.wait()
    }
}

extension RawClient {
    /// Whether the server sent something (or closed) within `milliseconds`.
    func hasData(within milliseconds: Int32) -> Bool {
        var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&entry, 1, milliseconds) > 0
    }
}
