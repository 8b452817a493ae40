import HTTPClient

extension SendCommand {
    /// The address --resolve-to names: `HOST:PORT`, `http://HOST:PORT` or `https://HOST:PORT` (IPv6 in brackets).
    struct ResolveTarget: Equatable {
        /// Host name or address (IPv6 without brackets).
        var host: String
        /// TCP port.
        var port: UInt16
        /// `true` for `https://`, `false` for `http://`, nil when no scheme was written.
        var useTLS: Bool?

        /// Parses `text`; nil when it has no port or is malformed.
        init?(_ text: String) {
            var rest = Substring(text)
            let lowered = text.lowercased()
            if lowered.hasPrefix("https://") {
                useTLS = true
                rest = rest.dropFirst(8)
            } else if lowered.hasPrefix("http://") {
                useTLS = false
                rest = rest.dropFirst(7)
            }
            if rest.hasSuffix("/") { rest = rest.dropLast() }
            guard !rest.contains("/"), !rest.contains(" "), rest.contains(":"),
                let (host, port) = ClientURL.split(rest, defaultPort: 0), port > 0,
                !rest.hasSuffix("]")
            else { return nil }
            self.host = host
            self.port = port
        }
    }
}
