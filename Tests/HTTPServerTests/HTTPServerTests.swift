import Dispatch
import Foundation
import Glibc
import HTTPServer
import Synchronization
import TestSupport
import Testing

@Suite(.serialized) struct HTTPServerTests {
    @Test func keepAliveConnectionIsReused() throws {
        let server = try RunningServer()
        defer { server.stop() }
        let client = try RawClient(port: server.port)
        try client.send("GET /one HTTP/1.1\r\nHost: a\r\n\r\n")
        let first = try client.readResponse()
        try client.send("POST /two HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc")
        let second = try client.readResponse()
        #expect(first.status == 200 && first.body == "GET /one ")
        #expect(second.body == "POST /two abc")
        #expect(first.headers["connection"] == nil)
        #expect(first.headers["date"]?.hasSuffix(" GMT") == true)
        #expect(server.log.all.filter { if case .connectionAccepted = $0 { true } else { false } }.count == 1)
    }

    @Test func curlKeepAliveAndHead() throws {
        let server = try RunningServer()
        defer { server.stop() }
        let url = "http://127.0.0.1:\(server.port)"
        let result = try curl(["-v", "\(url)/a", "\(url)/b"])
        #expect(result.status == 0)
        #expect(result.output == "GET /a GET /b ")
        let head = try curl(["-I", "\(url)/h"])
        #expect(head.output.contains("Content-Length: 8"))
        let client = try RawClient(port: server.port)
        try client.send("HEAD /h HTTP/1.1\r\nHost: a\r\n\r\nGET /g HTTP/1.1\r\nHost: a\r\n\r\n")
        let headResponse = try client.readResponse(head: true)
        #expect(headResponse.headers["content-length"] == "8")
        #expect(try client.readResponse().body == "GET /g ")
    }

    @Test func pipelinedResponsesKeepRequestOrder() throws {
        // The first request is answered last in time; responses must still come out in request order.
        let handler = ClosureHTTPHandler { request, respond in
            let delay = request.target == "/a" ? 200 : 0
            DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(delay)) {
                respond(HTTPResponse(status: 200, body: Array(request.target.utf8)))
            }
        }
        let server = try RunningServer(handler: handler)
        defer { server.stop() }
        let client = try RawClient(port: server.port)
        try client.send(
            "GET /a HTTP/1.1\r\nHost: a\r\n\r\nPOST /b HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n\r\nxGET /c HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
        )
        let bodies = try (0..<3).map { _ in try client.readResponse().body }
        #expect(bodies == ["/a", "/b", "/c"])
        #expect(try client.readsEOF())
    }

    @Test func chunkedUploadWithCurl() throws {
        let server = try RunningServer()
        defer { server.stop() }
        let result = try curl(
            ["-H", "Transfer-Encoding: chunked", "--data-binary", "@-", "http://127.0.0.1:\(server.port)/up"],
            input: Array("hello chunked world".utf8)
        )
        #expect(result.output == "POST /up hello chunked world")
    }

    @Test func expectContinueSentOnlyWhenBodyIsWanted() throws {
        let handler = ClosureHTTPHandler(
            decide: { head, _ in head.path == "/missing" ? .respond(.text(404, "no")) : .readBody(maxBytes: 100) },
            handle: { request, respond in respond(HTTPResponse(status: 200, body: request.body)) }
        )
        let server = try RunningServer(handler: handler)
        defer { server.stop() }
        let client = try RawClient(port: server.port)
        try client.send("POST /x HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n")
        #expect(try client.readResponse().status == 100)
        try client.send("body")
        let response = try client.readResponse()
        #expect(response.status == 200 && response.body == "body")

        let rejected = try RawClient(port: server.port)
        try rejected.send("POST /missing HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n")
        let answer = try rejected.readResponse()
        #expect(answer.status == 404)
        #expect(answer.headers["connection"] == "close")
        #expect(try rejected.readsEOF())

        // curl sends Expect: 100-continue for bodies over 1 MiB; here forced with the header.
        let viaCurl = try curl([
            "-H", "Expect: 100-continue", "--data-binary", "abc", "http://127.0.0.1:\(server.port)/x",
        ])
        #expect(viaCurl.output == "abc")
    }

    @Test func largeContentLengthIsRefusedBeforeTheBody() throws {
        let server = try RunningServer()
        defer { server.stop() }
        let client = try RawClient(port: server.port)
        try client.send("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 67108864\r\n\r\n")
        let response = try client.readResponse()
        #expect(response.status == 413)
        #expect(try client.readsEOF())
        #expect(server.log.all.contains { if case .parseError(_, .bodyTooLarge, 413) = $0 { true } else { false } })
    }

    @Test func oversizedHeadGets431() throws {
        let server = try RunningServer()
        defer { server.stop() }
        let client = try RawClient(port: server.port)
        try client.send("GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + String(repeating: "a", count: 17000) + "\r\n\r\n")
        #expect(try client.readResponse().status == 431)
        #expect(try client.readsEOF())
    }

    @Test func malformedRequestGets400AndClose() throws {
        let server = try RunningServer()
        defer { server.stop() }
        let client = try RawClient(port: server.port)
        try client.send("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\nabc")
        let response = try client.readResponse()
        #expect(response.status == 400 && response.headers["connection"] == "close")
        #expect(try client.readsEOF())
        #expect(
            server.log.all.contains {
                if case .parseError(_, .contentLengthWithTransferEncoding, 400) = $0 { true } else { false }
            }
        )
    }

    @Test func slowLorisIsCutWhileOthersAreServed() throws {
        let server = try RunningServer(configure: { $0.headTimeout = .milliseconds(300) })
        defer { server.stop() }
        let slow = try RawClient(port: server.port)
        let start = Date()
        try slow.send("GET / HTTP/1.1\r\n")
        var sentBytes = 0
        // Trickle one byte every 50 ms while a normal client is served; the server must cut the trickler.
        let trickle = DispatchQueue(label: "trickle")
        let stop = Atomic(false)
        let slowFD = slow.fd
        trickle.async {
            while !stop.load(ordering: .relaxed) {
                _ = "X".utf8.withContiguousStorageIfAvailable {
                    Glibc.send(slowFD, $0.baseAddress, 1, Int32(MSG_NOSIGNAL))
                }
                usleep(50_000)
            }
        }
        defer {
            stop.store(true, ordering: .relaxed)
            trickle.sync {}
        }
        for index in 0..<5 {
            let normal = try RawClient(port: server.port)
            try normal.send("GET /n\(index) HTTP/1.1\r\nHost: a\r\n\r\n")
            #expect(try normal.readResponse().status == 200)
            sentBytes += 1
        }
        let response = try slow.readResponse()
        let elapsed = Date().timeIntervalSince(start)
        #expect(response.status == 408)
        // Cut at the head deadline (0.3 s), not never (the client would give up after 5 s); the upper bound has room
        // for five normal exchanges on a loaded machine.
        #expect(elapsed >= 0.25 && elapsed < 4.5)
        #expect(server.log.all.contains { if case .timeout(_, .head) = $0 { true } else { false } })
        #expect(sentBytes == 5)
    }

    @Test func idleKeepAliveConnectionIsClosed() throws {
        let server = try RunningServer(configure: { $0.idleTimeout = .milliseconds(200) })
        defer { server.stop() }
        let client = try RawClient(port: server.port)
        try client.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(try client.readResponse().status == 200)
        #expect(try client.readsEOF())
        #expect(server.log.all.contains { if case .timeout(_, .idle) = $0 { true } else { false } })
    }

    @Test func laterDeadlineOutlivesTheTimerArmedForAnEarlierOne() throws {
        // The timer is armed for the first head deadline (100 ms after accept); once the answer is out the later idle
        // deadline is in force, so that firing must only re-arm the timer, not close the connection. The idle
        // deadline is far from both: a loaded machine may hold this thread for a while in the sleep below, or
        // between the server's answer and the moment it is read here.
        let server = try RunningServer(configure: {
            $0.headTimeout = .milliseconds(100)
            $0.idleTimeout = .seconds(2)
        })
        defer { server.stop() }
        let client = try RawClient(port: server.port)
        try client.send("GET /1 HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(try client.readResponse().status == 200)
        usleep(300_000)  // past the first head deadline, well before the idle one
        try client.send("GET /2 HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(try client.readResponse().status == 200)
        let answered = Date()
        #expect(try client.readsEOF())
        #expect(Date().timeIntervalSince(answered) >= 1.5)
        let timeouts = server.log.all.compactMap { event -> HTTPServerEvent.TimeoutKind? in
            if case .timeout(_, let kind) = event { kind } else { nil }
        }
        #expect(timeouts == [.idle])
    }

    @Test func headDeadlineEarlierThanIdleOneStillCuts() throws {
        // An idle keep-alive connection has its timer armed for the far idle deadline; a request head that starts
        // then must still be cut at the (earlier) head deadline.
        let server = try RunningServer(configure: {
            $0.headTimeout = .milliseconds(200)
            $0.idleTimeout = .seconds(30)
        })
        defer { server.stop() }
        let client = try RawClient(port: server.port)
        try client.send("GET /1 HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(try client.readResponse().status == 200)
        usleep(300_000)  // past the first head deadline: the timer is now armed for the idle one
        let start = Date()
        try client.send("GET /2 HTTP/1.1\r\n")
        #expect(try client.readResponse().status == 408)
        #expect(Date().timeIntervalSince(start) < 3)
        #expect(try client.readsEOF())
    }

    @Test func slowBodyGets408() throws {
        let server = try RunningServer(configure: { $0.bodyTimeout = .milliseconds(200) })
        defer { server.stop() }
        let client = try RawClient(port: server.port)
        try client.send("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc")
        #expect(try client.readResponse().status == 408)
        #expect(try client.readsEOF())
    }

    @Test func connectionLimitRefusesAndRecovers() throws {
        let server = try RunningServer(configure: { $0.maxConnections = 2 })
        defer { server.stop() }
        var held = [try RawClient(port: server.port), try RawClient(port: server.port)]
        #expect(eventually { server.server.openConnectionCount == 2 })
        let refused = try RawClient(port: server.port)
        #expect(try refused.readResponse().status == 503)
        #expect(try refused.readsEOF())
        #expect(server.log.all.contains { if case .connectionRefused = $0 { true } else { false } })
        held.removeFirst()
        #expect(eventually { server.server.openConnectionCount == 1 })
        let admitted = try RawClient(port: server.port)
        try admitted.send("GET /ok HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(try admitted.readResponse().body == "GET /ok ")
        _ = held
    }

    @Test func maxRequestsPerConnection() throws {
        let server = try RunningServer(configure: { $0.maxRequestsPerConnection = 2 })
        defer { server.stop() }
        let client = try RawClient(port: server.port)
        try client.send(
            "GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\nGET /3 HTTP/1.1\r\nHost: a\r\n\r\n"
        )
        #expect(try client.readResponse().headers["connection"] == nil)
        #expect(try client.readResponse().headers["connection"] == "close")
        #expect(try client.readsEOF())
    }

    @Test func listensOnIPv6Loopback() throws {
        let server = try RunningServer(listen: .address("[::1]:0"))
        defer { server.stop() }
        #expect(server.address.host == "::1")
        #expect(server.address.description == "[::1]:\(server.port)")
        let result = try curl(["-g", "http://[::1]:\(server.port)/six"])
        #expect(result.output == "GET /six ")
        let client = try RawClient(port: server.port, ipv6: true)
        try client.send("GET /raw HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        let response = try client.readResponse()
        #expect(response.headers["connection"] == "keep-alive")
    }

    @Test func rejectsInvalidListenAddresses() {
        for text in ["localhost:80", "127.0.0.1", "[::1]80", "1.2.3.4:99999", "[::zz]:1"] {
            let server = HTTPServer(configuration: .init(listen: .address(text)), handler: echoHandler)
            #expect(throws: HTTPServerError.invalidListenAddress(text)) { try server.start() }
        }
    }

    @Test func adoptsAnOpenListeningDescriptor() throws {
        let (fd, _) = try loopbackSocket(listening: 16)
        let server = try RunningServer(listen: .fileDescriptor(fd))
        defer { server.stop() }
        #expect(server.port > 0)
        #expect(try curl(["http://127.0.0.1:\(server.port)/fd"]).output == "GET /fd ")
    }

    @Test func gracefulShutdownFinishesInFlightRequest() throws {
        let started = DispatchSemaphore(value: 0)
        // The answer comes once the shutdown has begun (not after a fixed time, which a loaded machine can let pass
        // before this test calls shutdown), or after 10 s if it never does.
        let shuttingDown = DispatchSemaphore(value: 0)
        let handler = ClosureHTTPHandler { request, respond in
            started.signal()
            DispatchQueue.global().async {
                _ = shuttingDown.wait(timeout: .now() + 10)
                usleep(50_000)
                respond(HTTPResponse(status: 200, body: Array("slow done".utf8)))
            }
        }
        let server = try RunningServer(handler: handler)
        let busy = try RawClient(port: server.port)
        let idle = try RawClient(port: server.port)
        try busy.send("GET /slow HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(started.wait(timeout: .now() + 5) == .success)
        #expect(eventually { server.server.openConnectionCount == 2 })
        let finished = Atomic(false)
        let done = DispatchSemaphore(value: 0)
        server.server.shutdown(deadline: .seconds(3)) {
            finished.store(true, ordering: .relaxed)
            done.signal()
        }
        shuttingDown.signal()
        #expect(try idle.readsEOF())
        let response = try busy.readResponse()
        #expect(response.body == "slow done")
        #expect(response.headers["connection"] == "close")
        #expect(done.wait(timeout: .now() + 5) == .success)
        let completed = finished.load(ordering: .relaxed)
        #expect(completed)
        #expect(throws: RawClient.ClientError.self) { try RawClient(port: server.port) }
    }

    @Test func shutdownDeadlineClosesStuckRequests() throws {
        let handler = ClosureHTTPHandler { _, _ in }  // never answers
        let server = try RunningServer(handler: handler)
        let client = try RawClient(port: server.port)
        try client.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(eventually { server.server.openConnectionCount == 1 })
        let done = DispatchSemaphore(value: 0)
        server.server.shutdown(deadline: .milliseconds(200)) { done.signal() }
        #expect(done.wait(timeout: .now() + 10) == .success)
        #expect(try client.readsEOF())
    }

    @Test func earlyAnswerWithoutBodyKeepsConnection() throws {
        let handler = ClosureHTTPHandler(
            decide: { head, _ in head.path == "/healthz" ? .respond(.text(200, "ok")) : .readBody(maxBytes: 10) },
            handle: { _, respond in respond(.text(500, "unexpected")) }
        )
        let server = try RunningServer(handler: handler)
        defer { server.stop() }
        let client = try RawClient(port: server.port)
        try client.send("GET /healthz HTTP/1.1\r\nHost: a\r\n\r\nGET /healthz HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(try client.readResponse().body == "ok\n")
        #expect(try client.readResponse().body == "ok\n")
    }

    @Test func duplicateRespondIsIgnored() throws {
        let handler = ClosureHTTPHandler { _, respond in
            respond(.text(200, "first"))
            respond(.text(500, "second"))
        }
        let server = try RunningServer(handler: handler)
        defer { server.stop() }
        let client = try RawClient(port: server.port)
        try client.send("GET / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        #expect(try client.readResponse().body == "first\n")
        #expect(try client.readResponse().body == "first\n")
        #expect(try client.readsEOF())
        #expect(server.log.all.contains { if case .duplicateResponse = $0 { true } else { false } })
    }

    @Test func followUpWorkRunsAfterTheAnswerOnTheLoopThread() throws {
        let threads = Mutex<[String]>([])
        let followed = DispatchSemaphore(value: 0)
        let handler = ClosureHTTPHandler { request, respond in
            let handlerThread = currentThreadName()
            DispatchQueue.global().async {
                respond.respond(.text(200, "answered")) {
                    threads.withLock { $0 = [handlerThread, currentThreadName()] }
                    followed.signal()
                }
            }
        }
        let server = try RunningServer(handler: handler)
        defer { server.stop() }
        let client = try RawClient(port: server.port)
        try client.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(try client.readResponse().body == "answered\n")
        #expect(followed.wait(timeout: .now() + 5) == .success)
        let names = threads.withLock { $0 }
        #expect(names.count == 2 && names[0].hasPrefix("http-loop-") && names[0] == names[1])
    }

    @Test func followUpWorkStillRunsWhenTheServerHasStopped() throws {
        let held = Mutex<HTTPResponder?>(nil)
        let handler = ClosureHTTPHandler { _, respond in held.withLock { $0 = respond } }
        let server = try RunningServer(handler: handler)
        let client = try RawClient(port: server.port)
        try client.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(eventually { held.withLock { $0 != nil } })
        let stopped = DispatchSemaphore(value: 0)
        server.server.shutdown(deadline: .milliseconds(100)) { stopped.signal() }
        #expect(stopped.wait(timeout: .now() + 5) == .success)
        let ran = Atomic(false)
        held.withLock { $0 }?.respond(.text(200, "too late")) { ran.store(true, ordering: .relaxed) }
        let didRun = ran.load(ordering: .relaxed)
        #expect(didRun)
    }

    @Test func connectionsAreSpreadOverTheLoops() throws {
        let names = Mutex<Set<String>>([])
        let handler = ClosureHTTPHandler { _, respond in
            names.withLock { _ = $0.insert(currentThreadName()) }
            respond(.text(200, "ok"))
        }
        let server = try RunningServer(configure: { $0.eventLoops = 3 }, handler: handler)
        defer { server.stop() }
        let clients = try (0..<6).map { _ in try RawClient(port: server.port) }
        for client in clients {
            try client.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
            #expect(try client.readResponse().body == "ok\n")
        }
        #expect(names.withLock { $0 } == ["http-loop-0", "http-loop-1", "http-loop-2"])
    }
}

/// The name of the calling thread, as the kernel reports it.
private func currentThreadName() -> String {
    let name = (try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8)) ?? ""
    return name.trimmingCharacters(in: .whitespacesAndNewlines)
}
