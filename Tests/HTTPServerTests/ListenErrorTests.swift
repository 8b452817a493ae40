import Glibc
import Testing

@testable import HTTPServer

@Suite("listen errors")
struct ListenErrorTests {
    @Test("a taken port: the error names the address and the call")
    func portTaken() throws {
        let first = HTTPServer(configuration: .init(listen: .address("127.0.0.1:0")), handler: echoHandler)
        let bound = try first.start()
        defer { first.shutdown(deadline: .zero) }
        let second = HTTPServer(
            configuration: .init(listen: .address("127.0.0.1:\(bound.port)")),
            handler: echoHandler
        )
        #expect(
            throws: HTTPServerError.cannotListen(address: "127.0.0.1:\(bound.port)", call: "bind", errno: EADDRINUSE)
        ) {
            try second.start()
        }
        let error = HTTPServerError.cannotListen(address: "127.0.0.1:\(bound.port)", call: "bind", errno: EADDRINUSE)
        #expect(
            error.description.hasPrefix("cannot listen on 127.0.0.1:\(bound.port): bind failed: errno \(EADDRINUSE)")
        )
    }
}
