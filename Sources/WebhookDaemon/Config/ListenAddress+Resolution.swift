import Glibc
import HTTPServer

extension ListenAddress {
    /// Why a `listen:` host cannot be listened on.
    struct ResolutionFailure: Error, Equatable, CustomStringConvertible {
        var message: String

        var description: String { "listen: \(message)" }
    }

    /// The address to bind, as a literal `IPv4:port` or `[IPv6]:port`: a literal host as given, a host name
    /// (`localhost`) resolved with getaddrinfo(3) — the first IPv4 address, else the first IPv6 one.
    func literal() -> Result<String, ResolutionFailure> {
        if host.contains(":") { return .success("[\(host)]:\(port)") }
        if Self.isIPv4(host) { return .success("\(host):\(port)") }
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, nil, &hints, &list)
        guard status == 0, let list else {
            let reason = String(cString: gai_strerror(status))
            return .failure(ResolutionFailure(message: "host \"\(host)\" does not resolve (\(reason))"))
        }
        defer { freeaddrinfo(list) }
        var ipv6: String?
        var entry: UnsafeMutablePointer<addrinfo>? = list
        while let current = entry {
            entry = current.pointee.ai_next
            guard let raw = current.pointee.ai_addr else { continue }
            let address = SocketAddress(copying: raw, length: current.pointee.ai_addrlen)
            if address.family == AF_INET, let text = address.host { return .success("\(text):\(port)") }
            if address.family == AF_INET6, ipv6 == nil, let text = address.host { ipv6 = "[\(text)]:\(port)" }
        }
        guard let ipv6 else {
            return .failure(ResolutionFailure(message: "host \"\(host)\" has no IPv4 or IPv6 address"))
        }
        return .success(ipv6)
    }

    /// Whether the daemon could bind `literal` (from ``literal()``): a socket bound to its address on port 0 and
    /// closed again. Refused when the address is not one of this machine's; a taken port is not tested here.
    static func isLocal(_ literal: String) -> Result<Void, ResolutionFailure> {
        guard let parsed = ListenAddress(literal) else {
            return .failure(ResolutionFailure(message: "\(literal) is not an address"))
        }
        let address: SocketAddress
        do {
            address = try SocketAddress(host: parsed.host, port: 0)
        } catch {
            let family = parsed.host.contains(":") ? "IPv6" : "IPv4"
            return .failure(ResolutionFailure(message: "\(parsed.host) is not an \(family) address"))
        }
        let fd = socket(address.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return .success(()) }  // No socket to test with: serve reports what fails.
        defer { close(fd) }
        let failed = address.withSockAddr { bind(fd, $0, $1) } != 0
        guard failed, errno == EADDRNOTAVAIL else { return .success(()) }
        return .failure(ResolutionFailure(message: "\(parsed.host) is not an address of this machine"))
    }

    private static func isIPv4(_ text: String) -> Bool {
        (try? SocketAddress(host: text, port: 0))?.family == AF_INET
    }
}
