import Dispatch
import Foundation
import Glibc
import HTTPServer
import Synchronization
import Testing

/// Adversarial review (review branch): a client holds connection slots with cheap, valid keep-alive requests. FAILS
/// on 227d687: every slot stays taken while each holder sends one tiny request per idle timeout, and a newcomer gets
/// 503 for as long as the holders like (up to max_requests_per_connection × idle_timeout per connection).
@Suite(.serialized) struct ReviewSlotHoldingTests {
    @Test func keepAliveHoldersDoNotLockOutANewClient() throws {
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
                    usleep(300_000)  // well within the idle timeout
                }
                finished.leave()
            }
        }
        defer {
            stop.store(true, ordering: .relaxed)
            finished.wait()
        }
        usleep(300_000)
        // A newcomer, 3 s later (three idle timeouts): the holders have been served all along.
        usleep(3_000_000)
        let newcomer = try RawClient(port: server.port)
        try newcomer.send("GET /new HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(try newcomer.readResponse().status == 200, "all slots held by idle keep-alive clients")
    }
}
