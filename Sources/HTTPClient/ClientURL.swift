import HTTP1

/// An absolute `http://` or `https://` URL split into what a request needs; no user info, no fragment.
public struct ClientURL: Sendable, Equatable {
    /// Whether the connection uses TLS.
    public var isTLS: Bool
    /// Host name or address as written (IPv6 without brackets), lowercased.
    public var host: String
    /// TCP port (the scheme's default when the URL has none).
    public var port: UInt16
    /// Path and query, at least `/`.
    public var pathAndQuery: String

    /// The `Host` header value: the host (IPv6 in brackets) and the port when it is not the scheme's default.
    public var authority: String {
        let name = host.contains(":") ? "[\(host)]" : host
        return port == (isTLS ? 443 : 80) ? name : "\(name):\(port)"
    }

    /// Whether ``host`` is an IPv4 or IPv6 address rather than a name.
    public var hostIsAddress: Bool {
        host.contains(":") || (!host.isEmpty && host.utf8.allSatisfy { $0 == 0x2E || ASCII.isDigit($0) })
    }

    /// Parses `text`; nil when it is not an absolute http(s) URL with a host.
    public init?(_ text: String) {
        let lowered = text.lowercased()
        let rest: Substring
        if lowered.hasPrefix("https://") {
            isTLS = true
            rest = text.dropFirst(8)
        } else if lowered.hasPrefix("http://") {
            isTLS = false
            rest = text.dropFirst(7)
        } else {
            return nil
        }
        guard rest.utf8.allSatisfy(ASCII.isVisible) else { return nil }
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        guard !authority.contains("@") else { return nil }
        var remainder = rest[authorityEnd...]
        if let hash = remainder.firstIndex(of: "#") { remainder = remainder[..<hash] }
        pathAndQuery = remainder.hasPrefix("/") ? String(remainder) : "/" + remainder
        guard let (host, port) = Self.split(authority, defaultPort: isTLS ? 443 : 80) else { return nil }
        self.host = host.lowercased()
        self.port = port
    }

    /// Splits `host[:port]` (`[v6]:port`); nil when malformed.
    public static func split(_ authority: Substring, defaultPort: UInt16) -> (String, UInt16)? {
        guard let parts = Authority.split(authority), !parts.host.isEmpty, parts.bracketed || !parts.host.contains(":")
        else { return nil }
        guard let portText = parts.port else { return (String(parts.host), defaultPort) }
        guard let port = UInt16(portText), port > 0 else { return nil }
        return (String(parts.host), port)
    }
}
