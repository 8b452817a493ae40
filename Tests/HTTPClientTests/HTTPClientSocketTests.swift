import Dispatch
import Glibc
import TestSupport
import Testing

@testable import HTTPClient

/// The client against real loopback sockets served by a thread of the test: answers split across writes, a peer
/// that never answers (deadline), one that closes early, one that sends too much.
@Suite("HTTP client: real sockets")
struct HTTPClientSocketTests {
    /// A one-connection TCP server on 127.0.0.1 that reads the request head and then runs `serve`.
    final class OneShotServer: @unchecked Sendable {
        let port: UInt16
        private let listener: Int32
        private var thread: pthread_t?

        init(_ serve: @escaping @Sendable (Int32) -> Void) throws {
            let (fd, port) = try loopbackSocket(listening: 4)
            listener = fd
            self.port = port
            let box = Unmanaged.passRetained(
                Box {
                    let client = accept(fd, nil, nil)
                    guard client >= 0 else { return }
                    var head: [UInt8] = []
                    var byte: UInt8 = 0
                    while !head.ends(with: [13, 10, 13, 10]), recv(client, &byte, 1, 0) == 1 { head.append(byte) }
                    serve(client)
                    close(client)
                }
            )
            var created = pthread_t()
            pthread_create(
                &created,
                nil,
                { raw in
                    let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
                    box.run()
                    return nil
                },
                box.toOpaque()
            )
            thread = created
        }

        func stop() {
            shutdown(listener, Int32(SHUT_RDWR))
            if let thread { pthread_join(thread, nil) }
            close(listener)
        }

        final class Box {
            let run: () -> Void
            init(_ run: @escaping () -> Void) { self.run = run }
        }
    }

    static func write(_ fd: Int32, _ text: String) {
        _ = Array(text.utf8).withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    static func get(port: UInt16, timeout: Double = 5, maximumBodyBytes: Int = 1024) throws -> HTTPClientResponse {
        let client = HTTPClient(timeoutSeconds: timeout, maximumBodyBytes: maximumBodyBytes)
        return try client.send(
            HTTPClientRequest(method: "GET", url: try #require(ClientURL("http://127.0.0.1:\(port)/")))
        )
    }

    @Test("an answer written in pieces, after a 100 Continue, is read whole")
    func pieces() throws {
        let server = try OneShotServer { fd in
            for piece in [
                "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 2", "01 Created\r\nContent-Length: 3\r\n", "\r\nab", "c",
            ] {
                Self.write(fd, piece)
                usleep(20_000)
            }
        }
        defer { server.stop() }
        let answer = try Self.get(port: server.port)
        #expect(answer.status == 201 && answer.body == Array("abc".utf8) && !answer.truncated)
    }

    @Test("a peer that never answers hits the deadline; one that closes mid-body is an error, not an answer")
    func silentAndShort() throws {
        let silent = try OneShotServer { _ in usleep(1_500_000) }
        defer { silent.stop() }
        do {
            let answer = try Self.get(port: silent.port, timeout: 0.3)
            Issue.record("answered: \(answer)")
        } catch let error as HTTPClientError {
            guard case .timedOut(_, "reading the answer", _) = error else {
                Issue.record("not a timeout while reading: \(error)")
                return
            }
        }
        let short = try OneShotServer { fd in Self.write(fd, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc") }
        defer { short.stop() }
        #expect(throws: HTTPClientError.self) { try Self.get(port: short.port) }
    }

    @Test("a peer that keeps sending a byte at a time never gets past the deadline")
    func dribbling() throws {
        let server = try OneShotServer { fd in
            Self.write(fd, "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
            for _ in 0..<100 {
                Self.write(fd, "x")
                usleep(20_000)
            }
        }
        defer { server.stop() }
        do {
            let answer = try Self.get(port: server.port, timeout: 0.4)
            Issue.record("answered: \(answer.status)")
        } catch let error as HTTPClientError {
            guard case .timedOut(_, "reading the answer", _) = error else {
                Issue.record("not a timeout: \(error)")
                return
            }
        }
    }

    @Test("a body over the bound is cut and marked; an endless head is refused")
    func tooMuch() throws {
        let big = try OneShotServer { fd in
            Self.write(fd, "HTTP/1.1 200 OK\r\n\r\n" + String(repeating: "x", count: 5000))
        }
        defer { big.stop() }
        let answer = try Self.get(port: big.port, maximumBodyBytes: 100)
        #expect(answer.truncated && answer.body.count == 100)
        let endless = try OneShotServer { fd in
            Self.write(fd, "HTTP/1.1 200 OK\r\n")
            for _ in 0..<2000 { Self.write(fd, "X-Filler: " + String(repeating: "y", count: 30) + "\r\n") }
        }
        defer { endless.stop() }
        #expect(
            throws: HTTPClientError.invalidAnswer(place: "127.0.0.1:\(endless.port)", reason: "answer head over 16 KiB")
        ) {
            try Self.get(port: endless.port)
        }
    }
}

extension Array where Element == UInt8 {
    fileprivate func ends(with suffix: [UInt8]) -> Bool {
        count >= suffix.count && Array(self[(count - suffix.count)...]) == suffix
    }
}

/// Name resolution counts against the exchange's deadline.
@Suite("HTTP client: resolving within the deadline")
struct HostResolverDeadlineTests {
    @Test("a resolver slower than the deadline gives a timeout at the deadline, not when it answers")
    func slowResolverTimesOut() throws {
        let answered = DispatchSemaphore(value: 0)
        let slow = HostResolver { _, service in
            usleep(1_500_000)
            defer { answered.signal() }
            return HostResolver.system.lookup("127.0.0.1", service)
        }
        let started = ContinuousClock.now
        #expect {
            _ = try SocketConnection.open(
                host: "slow.example",  // a name: an address is taken without a lookup
                port: 9,
                deadline: Deadline(secondsFromNow: 0.2),
                resolver: slow
            )
        } throws: { error in
            guard case HTTPClientError.timedOut(_, let doing, _) = error else { return false }
            return doing == "resolving the host"
        }
        #expect(ContinuousClock.now - started < .milliseconds(1_400), "the deadline, not the resolver's answer (1.5 s)")
        answered.wait()  // its late answer is freed by the resolving thread
    }

    @Test("a name that does not resolve is reported as such, with the resolver's reason")
    func unknownHostIsNotFound() {
        let nowhere = HostResolver { _, _ in (EAI_NONAME, nil) }
        #expect {
            _ = try SocketConnection.open(
                host: "no-such-host.invalid",
                port: 80,
                deadline: Deadline(secondsFromNow: 10),
                resolver: nowhere
            )
        } throws: { error in
            guard case HTTPClientError.hostNotFound(let host, let reason) = error else { return false }
            return host == "no-such-host.invalid" && reason == String(cString: gai_strerror(EAI_NONAME))
        }
    }

    @Test(
        "an address written as one is taken without a lookup (no thread to wait for)",
        arguments: ["127.0.0.1", "::1"]
    )
    func addressNeedsNoLookup(host: String) throws {
        let never = HostResolver { _, _ in (EAI_FAIL, nil) }
        let (listener, port) = try loopbackSocket(listening: 1)
        defer { close(listener) }
        if host == "127.0.0.1" {
            let connection = try SocketConnection.open(
                host: host,
                port: port,
                deadline: Deadline(secondsFromNow: 10),
                resolver: never
            )
            #expect(connection.fd >= 0)
        }
        #expect {
            _ = try SocketConnection.open(host: host, port: 1, deadline: Deadline(secondsFromNow: 10), resolver: never)
        } throws: { error in
            if case HTTPClientError.connectFailed = error { return true }
            return false
        }
    }
}
