import HTTPClient

extension SendCommand {
    /// The address --resolve-to names: `HOST:PORT`, or `http://HOST[:PORT]` or `https://HOST[:PORT]` (IPv6 in
    /// brackets).
    struct ResolveTarget: Equatable {
        /// Host name or address (IPv6 without brackets).
        var host: String
        /// TCP port.
        var port: UInt16
        /// `true` for `https://`, `false` for `http://`, nil when no scheme was written.
        var useTLS: Bool?

        /// A target from its parts.
        init(host: String, port: UInt16, useTLS: Bool?) {
            self.host = host
            self.port = port
            self.useTLS = useTLS
        }

        /// Parses `text`; nil when it has no port or is malformed.
        init?(_ text: String) {
            if text.contains("://") {
                // A scheme: an http(s) URL with nothing after the authority (the port defaults to the scheme's).
                guard let url = ClientURL(text), url.pathAndQuery == "/" else { return nil }
                host = url.host
                port = url.port
                useTLS = url.isTLS
                return
            }
            guard !text.contains("/"), !text.contains(" "), text.contains(":"), !text.hasSuffix("]"),
                let (host, port) = ClientURL.split(Substring(text), defaultPort: 0), port > 0
            else { return nil }
            self.host = host
            self.port = port
        }
    }
}
