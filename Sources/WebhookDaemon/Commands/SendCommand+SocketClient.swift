import Foundation
import Glibc

extension SendCommand {
    /// Why one request got no HTTP answer; the message names the call and errno where a syscall failed.
    struct TransportError: Error, CustomStringConvertible {
        var description: String

        init(_ description: String) { self.description = description }

        /// An error for a failed syscall.
        static func posix(_ call: String, _ code: Int32, _ place: String) -> TransportError {
            TransportError("\(call) to \(place) failed: \(String(cString: strerror(code))) (errno \(code))")
        }
    }

    /// A small blocking HTTP/1.1 client over POSIX sockets: one request per connection (`Connection: close`), one
    /// deadline for connect, write and read, bounded answer (see ``AnswerParser``).
    struct SocketClient {
        /// Host name or address to connect to (IPv6 without brackets).
        var host: String
        /// TCP port.
        var port: UInt16
        /// Seconds for the whole exchange.
        var timeoutSeconds: Double = 10

        private var place: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

        /// Sends `request` (head and body, already serialised) and reads the answer.
        func exchange(_ request: [UInt8]) throws(TransportError) -> Answer {
            let deadline = Date().addingTimeInterval(timeoutSeconds)
            let fd = try connect(deadline: deadline)
            defer { _ = close(fd) }
            try writeAll(fd, request, deadline: deadline)
            var received: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 16 * 1024)
            let limit = AnswerParser.maximumHeadBytes + AnswerParser.maximumBodyBytes + 16 * 1024
            while true {
                switch AnswerParser.parse(received, atEOF: false) {
                case .complete(let answer): return answer
                case .invalid(let reason): throw TransportError("\(reason) from \(place)")
                case .needMore: break
                }
                guard received.count < limit else { throw TransportError("answer from \(place) is too large") }
                try wait(fd, for: Int16(POLLIN), until: deadline, doing: "reading the answer")
                let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if count < 0 {
                    if errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK { continue }
                    throw .posix("recv", errno, place)
                }
                if count == 0 {
                    switch AnswerParser.parse(received, atEOF: true) {
                    case .complete(let answer): return answer
                    case .invalid(let reason): throw TransportError("\(reason) from \(place)")
                    case .needMore: throw TransportError("connection to \(place) closed early")
                    }
                }
                received += buffer[0..<count]
            }
        }

        private func connect(deadline: Date) throws(TransportError) -> Int32 {
            var hints = addrinfo()
            hints.ai_family = AF_UNSPEC
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
            var list: UnsafeMutablePointer<addrinfo>?
            let status = getaddrinfo(host, String(port), &hints, &list)
            guard status == 0, let first = list else {
                throw TransportError("cannot resolve \(host): \(String(cString: gai_strerror(status)))")
            }
            defer { freeaddrinfo(first) }
            var lastError = TransportError("no address for \(host)")
            var entry: UnsafeMutablePointer<addrinfo>? = first
            while let info = entry {
                entry = info.pointee.ai_next
                do {
                    return try connect(info.pointee, deadline: deadline)
                } catch {
                    lastError = error
                }
            }
            throw lastError
        }

        private func connect(_ info: addrinfo, deadline: Date) throws(TransportError) -> Int32 {
            let type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
            let fd = socket(info.ai_family, type, 0)
            guard fd >= 0 else { throw .posix("socket", errno, place) }
            var result: Int32
            repeat { result = Glibc.connect(fd, info.ai_addr, info.ai_addrlen) } while result < 0 && errno == EINTR
            if result < 0 {
                guard errno == EINPROGRESS else {
                    let code = errno
                    _ = close(fd)
                    throw .posix("connect", code, place)
                }
                do {
                    try wait(fd, for: Int16(POLLOUT), until: deadline, doing: "connecting")
                } catch {
                    _ = close(fd)
                    throw error
                }
                var code: Int32 = 0
                var length = socklen_t(MemoryLayout<Int32>.size)
                guard getsockopt(fd, SOL_SOCKET, SO_ERROR, &code, &length) == 0, code == 0 else {
                    let failure = code != 0 ? code : errno
                    _ = close(fd)
                    throw .posix("connect", failure, place)
                }
            }
            return fd
        }

        private func writeAll(_ fd: Int32, _ bytes: [UInt8], deadline: Date) throws(TransportError) {
            var offset = 0
            while offset < bytes.count {
                let count = bytes.withUnsafeBytes {
                    send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL))
                }
                if count < 0 {
                    if errno == EINTR { continue }
                    if errno == EAGAIN || errno == EWOULDBLOCK {
                        try wait(fd, for: Int16(POLLOUT), until: deadline, doing: "sending the request")
                        continue
                    }
                    throw .posix("send", errno, place)
                }
                offset += count
            }
        }

        /// Polls `fd` for `events` until the deadline; throws a timeout naming what was being done.
        private func wait(
            _ fd: Int32,
            for events: Int16,
            until deadline: Date,
            doing what: String
        )
            throws(TransportError)
        {
            while true {
                let remaining = deadline.timeIntervalSinceNow
                guard remaining > 0 else {
                    throw TransportError("timed out after \(Int(timeoutSeconds)) s \(what) (\(place))")
                }
                var descriptor = pollfd(fd: fd, events: events, revents: 0)
                let ready = poll(&descriptor, 1, Int32(min(remaining * 1000, 60_000).rounded(.up)))
                if ready < 0 {
                    if errno == EINTR { continue }
                    throw .posix("poll", errno, place)
                }
                if ready > 0 { return }
            }
        }
    }
}
