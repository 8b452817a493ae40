/// A `listen:` value: `host:port`, IPv6 hosts in brackets (`[::1]:8080`).
struct ListenAddress: Equatable {
    var host: String
    var port: Int

    init?(_ text: String) {
        let hostPart: Substring
        let portPart: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                return nil
            }
            hostPart = text[text.index(after: text.startIndex)..<close]
            portPart = text[text.index(close, offsetBy: 2)...]
            guard hostPart.contains(":") else { return nil }
        } else {
            guard let colon = text.lastIndex(of: ":") else { return nil }
            hostPart = text[..<colon]
            portPart = text[text.index(after: colon)...]
            guard !hostPart.contains(":") else { return nil }
        }
        guard !hostPart.isEmpty, let port = Int(digits: String(portPart)), port <= 65535 else { return nil }
        host = String(hostPart)
        self.port = port
    }
}

extension Int {
    /// A non-negative integer from 1 to 9 ASCII digits, or `nil`.
    init?(digits text: String) {
        guard (1...9).contains(text.utf8.count), text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
            return nil
        }
        self = text.utf8.reduce(0) { $0 * 10 + Int($1 - 0x30) }
    }
}
