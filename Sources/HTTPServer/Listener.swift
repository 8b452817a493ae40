import Glibc
import HTTP1
import POSIX
import Synchronization

/// The listening socket, watched on the first loop: accepts, counts and refuses over the limit, and hands each new
/// connection to the loops in turn. Loop thread only (after `register`).
final class Listener: EventLoopClient, @unchecked Sendable {
    /// How long accepting pauses after accept(2) failed for lack of descriptors or memory.
    private static let pauseMilliseconds = 100

    private let fd: Int32
    private weak var server: HTTPServer?
    private let loops: [ConnectionLoop]
    private var loop: EventLoop { loops[0].loop }
    private var token: UInt64?
    private var closed = false
    private var nextLoop = 0
    /// Per loop, the idle deadline of the connection last claimed for a newcomer: until the loop has closed it and
    /// published the next one, no other newcomer is sent to replace it.
    private var claimedIdle: [UInt64]

    init(fd: Int32, server: HTTPServer, loops: [ConnectionLoop]) {
        self.fd = fd
        self.server = server
        self.loops = loops
        claimedIdle = Array(repeating: 0, count: loops.count)
    }

    /// Starts watching the socket (level-triggered).
    func register() throws(HTTPServerError) {
        do throws(SystemCallError) {
            token = try loop.register(fd, events: EventMask.input, client: self)
        } catch {
            throw HTTPServerError(error)
        }
    }

    /// Stops accepting and closes the socket.
    func close() {
        guard !closed else { return }
        closed = true
        if let token { loop.unregister(fd, token: token) }
        token = nil
        Syscall.close(fd)
    }

    func ready(_ events: UInt32) {
        guard let server else { return }
        while !closed {
            let accepted: (fd: Int32, peer: SocketAddress)?
            do {
                accepted = try ListeningSocket.accept(fd)
            } catch {
                if case .system(_, let code) = error, code == ECONNABORTED || code == EPROTO { continue }
                server.observe(.acceptFailed(error))
                pause()
                return
            }
            guard let (client, peerAddress) = accepted else { return }
            let peer = peerAddress.description
            try? Syscall.setOption(client, Int32(IPPROTO_TCP), TCP_NODELAY, 1)
            guard server.admit() else {
                if let (index, deadline) = loopWithLongestIdle(), server.admit(beyondLimit: true) {
                    // At the limit: the newcomer takes the slot of the connection idle longest.
                    claimedIdle[index] = deadline
                    let target = loops[index]
                    if target.loop === loop {
                        target.adoptReplacingIdle(fd: client, peer: peer)
                    } else if !target.loop.execute({ target.adoptReplacingIdle(fd: client, peer: peer) }) {
                        Syscall.close(client)
                        server.connectionEnded()
                    }
                } else {
                    Self.refuse(client, peer: peer, server: server)
                }
                continue
            }
            let target = loops[nextLoop % loops.count]
            nextLoop &+= 1
            if target.loop === loop {
                target.adopt(fd: client, peer: peer)
            } else if !target.loop.execute({ target.adopt(fd: client, peer: peer) }) {
                Syscall.close(client)
                server.connectionEnded()
            }
        }
    }

    /// Out of descriptors or memory: stop watching for a moment so the loop does not spin, then retry.
    private func pause() {
        if let token { loop.unregister(fd, token: token) }
        token = nil
        loop.after(milliseconds: Self.pauseMilliseconds) { [self] in
            guard !closed else { return }
            do throws(HTTPServerError) {
                try register()
            } catch {
                server?.observe(.acceptFailed(error))
                pause()
            }
        }
    }

    /// The loop whose idle connection has waited longest and is not yet claimed for a newcomer, with that
    /// connection's idle deadline; nil when none is idle.
    private func loopWithLongestIdle() -> (index: Int, deadline: UInt64)? {
        var best: (index: Int, deadline: UInt64)?
        for (index, connectionLoop) in loops.enumerated() {
            let deadline = connectionLoop.longestIdleDeadline.load(ordering: .relaxed)
            guard deadline != 0, deadline != claimedIdle[index] else { continue }
            if let current = best, current.deadline <= deadline { continue }
            best = (index, deadline)
        }
        return best
    }

    /// Answers 503 without reading (best effort, never blocking) and closes.
    static func refuse(_ client: Int32, peer: String, server: HTTPServer?) {
        server?.observe(.connectionRefused(peer: peer))
        let bytes = HTTPResponse.text(503, "Service Unavailable").serialized(
            version: .http1_1,
            keepAlive: false,
            isHead: false,
            date: HTTPDate.format(secondsSince1970: Int64(currentEpochSeconds()))
        )
        _ = bytes.withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        _ = Glibc.shutdown(client, Int32(SHUT_WR))
        Syscall.close(client)
    }
}
