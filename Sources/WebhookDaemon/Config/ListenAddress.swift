import HTTPServer

/// A `listen:` value: `host:port`, IPv6 hosts in brackets (`[::1]:8080`).
struct ListenAddress: Equatable {
    var host: String
    var port: Int

    init?(_ text: String) {
        guard let (host, port) = SocketAddress.hostAndPort(text) else { return nil }
        self.host = String(host)
        self.port = port
    }
}
