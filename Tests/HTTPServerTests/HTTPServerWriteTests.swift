import Foundation
import Glibc
import HTTPServer
import TestSupport
import Testing

/// Responses larger than what the socket takes at once: the rest waits for the socket, pipelined answers keep their
/// order, and a client that does not read is cut at the write deadline (real sockets on loopback).
@Suite(.serialized) struct HTTPServerWriteTests {
    /// Answers with `size` bytes, each the last byte of the request target.
    static func bigHandler(_ size: Int) -> ClosureHTTPHandler {
        ClosureHTTPHandler { request, respond in
            respond(HTTPResponse(status: 200, body: [UInt8](repeating: request.target.utf8.last ?? 0x2E, count: size)))
        }
    }

    @Test func largePipelinedResponsesToASlowReaderGoOutWholeAndInOrder() throws {
        let size = 8 << 20
        let server = try RunningServer(handler: Self.bigHandler(size))
        defer { server.stop() }
        let client = try RawClient(port: server.port)
        try client.send("GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        usleep(300_000)  // the socket fills up: the server waits until it is writable again
        let first = try client.readResponse()
        let second = try client.readResponse()
        #expect(first.status == 200 && first.body == String(repeating: "1", count: size))
        #expect(second.status == 200 && second.body == String(repeating: "2", count: size))
        #expect(try client.readsEOF())
        #expect(!server.log.all.contains { if case .timeout = $0 { true } else { false } })
    }

    @Test func aClientThatDoesNotReadIsCutAtTheWriteDeadline() throws {
        let server = try RunningServer(
            configure: { $0.writeTimeout = .milliseconds(300) },
            handler: Self.bigHandler(32 << 20)
        )
        defer { server.stop() }
        let client = try RawClient(port: server.port)
        try client.send("GET /1 HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(eventually(5) { server.log.all.contains { if case .timeout(_, .write) = $0 { true } else { false } } })
        #expect(eventually(5) { server.server.openConnectionCount == 0 })
        #expect(server.log.all.contains { if case .connectionClosed(_, 1) = $0 { true } else { false } })
        withExtendedLifetime(client) {}
    }
}
