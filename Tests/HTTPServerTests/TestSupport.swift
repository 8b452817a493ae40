import Dispatch
import Foundation
import Glibc
import HTTPServer
import Synchronization

/// Collects observer events.
final class EventLog: Sendable {
    private let events = Mutex<[HTTPServerEvent]>([])
    func record(_ event: HTTPServerEvent) { events.withLock { $0.append(event) } }
    var all: [HTTPServerEvent] { events.withLock { $0 } }
}

/// A started server on 127.0.0.1:0 (or `listen`) that is shut down by `stop()`.
struct RunningServer {
    let server: HTTPServer
    let address: HTTPServer.BoundAddress
    let log: EventLog

    init(
        listen: HTTPServerConfiguration.Listen = .address("127.0.0.1:0"),
        configure: (inout HTTPServerConfiguration) -> Void = { _ in },
        handler: any HTTPHandler = echoHandler
    ) throws {
        var configuration = HTTPServerConfiguration(listen: listen)
        configure(&configuration)
        let log = EventLog()
        server = HTTPServer(configuration: configuration, handler: handler, observer: { log.record($0) })
        self.log = log
        address = try server.start()
    }

    var port: Int { address.port }

    /// Shuts down and waits (at most 5 s) for completion.
    func stop() {
        let done = DispatchSemaphore(value: 0)
        server.shutdown(deadline: .seconds(2)) { done.signal() }
        _ = done.wait(timeout: .now() + 5)
    }
}

/// Answers "METHOD TARGET body".
let echoHandler = ClosureHTTPHandler { request, respond in
    respond(HTTPResponse(status: 200, body: Array("\(request.method) \(request.target) ".utf8) + request.body))
}

/// A blocking TCP client with a 5 s receive timeout.
final class RawClient {
    let fd: Int32
    private var buffered: [UInt8] = []

    init(port: Int, ipv6: Bool = false) throws {
        fd = socket(ipv6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let result: Int32
        if ipv6 {
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = UInt16(port).bigEndian
            address.sin6_addr = in6addr_loopback
            result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size))
                }
            }
        } else {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = UInt16(port).bigEndian
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
        if result != 0 {
            Glibc.close(fd)
            throw ClientError.connectFailed(errno)
        }
    }

    deinit { Glibc.close(fd) }

    enum ClientError: Error {
        case connectFailed(Int32)
        case sendFailed(Int32)
        case timeout
        case malformed(String)
    }

    func send(_ text: String) throws { try send(Array(text.utf8)) }

    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeBytes {
                Glibc.send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL))
            }
            if sent < 0 { throw ClientError.sendFailed(errno) }
            offset += sent
        }
    }

    /// Reads more bytes; false at EOF or on reset.
    private func fill() throws -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if count < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { throw ClientError.timeout }
        if count <= 0 { return false }
        buffered += chunk[0..<count]
        return true
    }

    /// Reads one response (head + Content-Length body; none for HEAD when `head` is true).
    func readResponse(head: Bool = false) throws -> (status: Int, headers: [String: String], body: String) {
        var end: Int?
        while true {
            if let range = findHeadEnd() {
                end = range
                break
            }
            guard try fill() else {
                throw ClientError.malformed("EOF before head: \(String(decoding: buffered, as: UTF8.self))")
            }
        }
        let headText = String(decoding: buffered[0..<end!], as: UTF8.self)
        buffered.removeFirst(end! + 4)
        var lines = headText.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst().split(separator: " ")
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else { throw ClientError.malformed(headText) }
        var headers: [String: String] = [:]
        for line in lines {
            let parts = line.split(separator: ":", maxSplits: 1)
            headers[parts[0].lowercased()] = parts.count > 1 ? parts[1].trimmingCharacters(in: .whitespaces) : ""
        }
        let length = head ? 0 : Int(headers["content-length"] ?? "0") ?? 0
        while buffered.count < length {
            guard try fill() else { throw ClientError.malformed("EOF in body") }
        }
        let body = String(decoding: buffered[0..<length], as: UTF8.self)
        buffered.removeFirst(length)
        return (status, headers, body)
    }

    /// Whether the server closed the connection (EOF) with nothing more to read.
    func readsEOF() throws -> Bool {
        buffered.isEmpty ? try !fill() : false
    }

    private func findHeadEnd() -> Int? {
        guard buffered.count >= 4 else { return nil }
        for index in 0...(buffered.count - 4)
        where buffered[index] == 13 && buffered[index + 1] == 10 && buffered[index + 2] == 13
            && buffered[index + 3] == 10
        {
            return index
        }
        return nil
    }
}

/// Runs curl with `arguments`; returns its standard output and exit status.
func curl(_ arguments: [String], input: [UInt8]? = nil) throws -> (output: String, status: Int32) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
    process.arguments = ["-sS", "--max-time", "5"] + arguments
    let output = Pipe()
    process.standardOutput = output
    let inputPipe = Pipe()
    if input != nil { process.standardInput = inputPipe }
    try process.run()
    if let input {
        inputPipe.fileHandleForWriting.write(Data(input))
        try inputPipe.fileHandleForWriting.close()
    }
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (String(decoding: data, as: UTF8.self), process.terminationStatus)
}

/// Polls `condition` every 10 ms for at most `seconds`.
func eventually(_ seconds: Double = 3, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        usleep(10_000)
    }
    return condition()
}

/// Keeps the responders of requests to /held until the test answers them; answers any other request at once with
/// its target as the body.
final class HoldingHandler: HTTPHandler, Sendable {
    private let held = Mutex<[HTTPResponder]>([])

    /// Requests held now.
    var count: Int { held.withLock { $0.count } }

    func decide(head: HTTPRequestHead, peer: String) -> HTTPHeadDecision {
        .readBody(maxBytes: .max)
    }

    func handle(_ request: HTTPRequest, respond: HTTPResponder) {
        if request.target == "/held" {
            held.withLock { $0.append(respond) }
        } else {
            respond(HTTPResponse(status: 200, body: Array(request.target.utf8)))
        }
    }

    /// Answers the request held longest with `response`.
    func answerFirst(_ response: HTTPResponse) {
        held.withLock { $0.removeFirst() }(response)
    }

    /// Answers every held request with `response`.
    func answerAll(_ response: HTTPResponse) {
        let responders = held.withLock { responders in
            let all = responders
            responders = []
            return all
        }
        for respond in responders { respond(response) }
    }
}
