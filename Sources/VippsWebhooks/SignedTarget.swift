import HTTP1

/// The `host` and `pathAndQuery` that a Vipps signature covers: those of the URL the webhook was registered with.
///
/// Behind a proxy the daemon sees another Host and maybe another path, so it rebuilds both from its configured public
/// URL. The derivation follows what a browser's `URL` object gives (README: How signing works): lower-case host;
/// `:port` only when it is not the scheme's default; path and `?query` kept as written (dot segments resolved,
/// characters outside the URL code points percent-encoded); an empty path is `/`; a `#fragment` is not part of it.
public struct SignedTarget: Sendable, Equatable, CustomStringConvertible {
    /// Host as signed, with `:port` when not the scheme's default (e.g. `hooks.example.org:8443`).
    public var host: String
    /// Path and query as signed (e.g. `/wc-api/wc_gateway_vipps/?callback=webhook`).
    public var pathAndQuery: String

    /// A target from already-derived parts (e.g. the Host header and request target the daemon received).
    public init(host: String, pathAndQuery: String) {
        self.host = host
        self.pathAndQuery = pathAndQuery
    }

    /// Whether the absolute http(s) `url` is an `https` one, read as ``init(url:)`` reads it (tabs and newlines
    /// dropped, so `ht\ttps://` is https).
    /// - Throws: `SignedTargetError` when `url` is not an absolute http(s) URL with a host.
    public static func isHTTPS(url: String) throws(SignedTargetError) -> Bool {
        try ParsedURL(url).scheme == "https"
    }

    /// The target of an absolute `http` or `https` URL.
    /// - Throws: `SignedTargetError` when `url` is not an absolute http(s) URL with a host.
    public init(url: String) throws(SignedTargetError) {
        let parsed = try ParsedURL(url)
        self.init(host: parsed.authority, pathAndQuery: parsed.pathAndQuery)
    }

    /// The target of an endpoint reached at `path` under a public base URL `scheme://host[:port][/prefix]`.
    ///
    /// The prefix and the path are joined with exactly one `/` between them; a query on the base is not allowed
    /// (give the endpoint its own full URL instead).
    public init(publicBaseURL: String, endpointPath: String) throws(SignedTargetError) {
        let base = try ParsedURL(publicBaseURL)
        guard !base.hasQuery else { throw .queryInBaseURL(publicBaseURL) }
        var prefix = base.pathAndQuery
        while prefix.hasSuffix("/") { prefix.removeLast() }
        let suffix = endpointPath.hasPrefix("/") ? endpointPath : "/" + endpointPath
        try self.init(url: "\(base.scheme)://\(base.authority)\(prefix)\(suffix)")
    }

    public var description: String { "\(host)\(pathAndQuery)" }
}

/// Why a URL cannot give a signed target.
public enum SignedTargetError: Error, Equatable, CustomStringConvertible {
    /// Not of the form `http(s)://host[:port][/path][?query]`.
    case notAnAbsoluteHTTPURL(String)
    /// The port is not a number from 1 to 65535.
    case invalidPort(String)
    /// The host is empty or has characters a host cannot have.
    case invalidHost(String)
    /// A base URL used as a prefix carries a query.
    case queryInBaseURL(String)

    public var description: String {
        switch self {
        case .notAnAbsoluteHTTPURL(let url): "not an absolute http(s) URL: \(url)"
        case .invalidPort(let url): "invalid port in URL: \(url)"
        case .invalidHost(let url): "invalid host in URL: \(url)"
        case .queryInBaseURL(let url): "a base URL cannot carry a query: \(url)"
        }
    }
}

/// The parts of an absolute http(s) URL that signing needs.
struct ParsedURL {
    var scheme: String
    /// Lower-case host, with `:port` when not the scheme's default.
    var authority: String
    var pathAndQuery: String
    var hasQuery: Bool

    init(_ url: String) throws(SignedTargetError) {
        // As a browser's parser: tabs and newlines anywhere are dropped, and in an http(s) URL a backslash ends the
        // host and separates path segments as `/` does (not in the query).
        let trimmed = String(
            String.UnicodeScalarView(
                ASCII.trimmed(url, while: ASCII.isWhitespace).unicodeScalars.filter {
                    !"\t\n\r".unicodeScalars.contains($0)
                }
            )
        )
        guard let colon = trimmed.firstIndex(of: ":"), trimmed[colon...].hasPrefix("://") else {
            throw .notAnAbsoluteHTTPURL(url)
        }
        let scheme = trimmed[..<colon].lowercased()
        guard scheme == "https" || scheme == "http" else { throw .notAnAbsoluteHTTPURL(url) }
        var rest = trimmed[trimmed.index(colon, offsetBy: 3)...]
        if let hash = rest.firstIndex(of: "#") { rest = rest[..<hash] }
        let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "\\" }) ?? rest.endIndex
        var authority = rest[..<authorityEnd]
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        let defaultPort = scheme == "https" ? 443 : 80

        guard let parts = Authority.split(authority) else { throw .invalidHost(url) }
        let portText = parts.port
        let hostText = (parts.bracketed ? "[\(parts.host)]" : String(parts.host)).lowercased()
        guard !hostText.isEmpty,
            hostText.utf8.allSatisfy({ ASCII.isVisible($0) && !"/?#@\\<>^|%\"".utf8.contains($0) })
        else { throw .invalidHost(url) }
        var authorityText = hostText
        if let portText, !portText.isEmpty {
            guard let port = ASCII.decimalValue(portText), (1...65535).contains(port) else { throw .invalidPort(url) }
            if port != defaultPort { authorityText += ":\(port)" }
        }

        let pathAndQuery = rest[authorityEnd...]
        let queryStart = pathAndQuery.firstIndex(of: "?")
        let rawPath = queryStart.map { pathAndQuery[..<$0] } ?? pathAndQuery
        let rawQuery = queryStart.map { pathAndQuery[pathAndQuery.index(after: $0)...] }
        var result = ParsedURL.normalizePath(String(rawPath.map { $0 == "\\" ? "/" : $0 }))
        if let rawQuery { result += "?" + ParsedURL.percentEncode(String(rawQuery), extra: [UInt8(ascii: "'")]) }

        self.scheme = scheme
        self.authority = authorityText
        self.pathAndQuery = result
        self.hasQuery = rawQuery != nil
    }

    /// Path as a browser's URL parser leaves it: `/` when empty, `.`/`..` segments resolved, and characters outside
    /// the URL code points percent-encoded (the WHATWG path percent-encode set).
    static func normalizePath(_ path: String) -> String {
        guard !path.isEmpty else { return "/" }
        var output: [Substring] = []
        let segments = path.dropFirst().split(separator: "/", omittingEmptySubsequences: false)
        for (index, segment) in segments.enumerated() {
            let isLast = index == segments.count - 1
            switch segment.lowercased() {
            case ".", "%2e":
                if isLast { output.append("") }
            case "..", ".%2e", "%2e.", "%2e%2e":
                if !output.isEmpty { output.removeLast() }
                if isLast { output.append("") }
            default:
                output.append(segment)
            }
        }
        return "/" + percentEncode(output.joined(separator: "/"), extra: Array("?^`{}".utf8))
    }

    /// Percent-encodes C0 controls, space, `"`, `#`, `<`, `>`, bytes ≥ 0x7F and the `extra` bytes.
    static func percentEncode(_ text: String, extra: [UInt8]) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            if byte <= 0x20 || byte >= 0x7F || byte == 0x22 || byte == 0x23 || byte == 0x3C || byte == 0x3E
                || extra.contains(byte)
            {
                out += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
            } else {
                out.append(byte)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
