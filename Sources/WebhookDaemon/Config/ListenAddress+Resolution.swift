import Glibc

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
            var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
            let family = current.pointee.ai_family
            if family == AF_INET, let raw = current.pointee.ai_addr {
                var address = UnsafeRawPointer(raw).load(as: sockaddr_in.self).sin_addr
                if inet_ntop(AF_INET, &address, &text, socklen_t(text.count)) != nil {
                    return .success("\(Self.string(text)):\(port)")
                }
            } else if family == AF_INET6, ipv6 == nil, let raw = current.pointee.ai_addr {
                var address = UnsafeRawPointer(raw).load(as: sockaddr_in6.self).sin6_addr
                if inet_ntop(AF_INET6, &address, &text, socklen_t(text.count)) != nil {
                    ipv6 = "[\(Self.string(text))]:\(port)"
                }
            }
            entry = current.pointee.ai_next
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
        let isIPv6 = parsed.host.contains(":")
        let fd = socket(isIPv6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return .success(()) }  // No socket to test with: serve reports what fails.
        defer { close(fd) }
        func bindFails<Address>(_ address: inout Address) -> Bool {
            withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(fd, $0, socklen_t(MemoryLayout<Address>.size)) != 0
                }
            }
        }
        let failed: Bool
        if isIPv6 {
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            guard inet_pton(AF_INET6, parsed.host, &address.sin6_addr) == 1 else {
                return .failure(ResolutionFailure(message: "\(parsed.host) is not an IPv6 address"))
            }
            failed = bindFails(&address)
        } else {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            guard inet_pton(AF_INET, parsed.host, &address.sin_addr) == 1 else {
                return .failure(ResolutionFailure(message: "\(parsed.host) is not an IPv4 address"))
            }
            failed = bindFails(&address)
        }
        guard failed, errno == EADDRNOTAVAIL else { return .success(()) }
        return .failure(ResolutionFailure(message: "\(parsed.host) is not an address of this machine"))
    }

    private static func isIPv4(_ text: String) -> Bool {
        var address = in_addr()
        return inet_pton(AF_INET, text, &address) == 1
    }

    private static func string(_ text: [CChar]) -> String {
        String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
