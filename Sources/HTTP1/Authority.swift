/// The one split of an authority or address into host and port, used by the signed-URL derivation (VippsWebhooks),
/// the client's URLs (HTTPClient) and listen addresses (HTTPServer); each checks the host and port by its own rules.
public enum Authority {
    /// The parts of `host[:port]` or `[host][:port]`.
    public struct Parts: Equatable, Sendable {
        /// The host, without brackets; not checked (may be empty, or hold colons when not bracketed).
        public var host: Substring
        /// The text after the port's colon (may be empty); nil when there is no colon.
        public var port: Substring?
        /// Whether the host was written in brackets (an IPv6 literal).
        public var bracketed: Bool
    }

    /// Splits `text` at its last colon, or after a bracketed host; nil when a `[` is not closed or its `]` is
    /// followed by something other than `:port`.
    public static func split(_ text: Substring) -> Parts? {
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            let host = text[text.index(after: text.startIndex)..<close]
            let after = text[text.index(after: close)...]
            if after.isEmpty { return Parts(host: host, port: nil, bracketed: true) }
            guard after.hasPrefix(":") else { return nil }
            return Parts(host: host, port: after.dropFirst(), bracketed: true)
        }
        guard let colon = text.lastIndex(of: ":") else { return Parts(host: text, port: nil, bracketed: false) }
        return Parts(host: text[..<colon], port: text[text.index(after: colon)...], bracketed: false)
    }
}
