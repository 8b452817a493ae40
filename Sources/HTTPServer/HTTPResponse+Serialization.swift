extension HTTPResponse {
    /// The bytes of this response on the wire.
    /// - Parameters:
    ///   - version: the request's version (the status line always says HTTP/1.1, as RFC 9110 allows).
    ///   - keepAlive: whether the connection stays open; decides the `Connection` field.
    ///   - isHead: whether the request was HEAD (no body is written).
    ///   - date: the `Date` value (IMF-fixdate).
    func serialized(version: HTTPVersion, keepAlive: Bool, isHead: Bool, date: String) -> [UInt8] {
        let bodyAllowed = !(status < 200 || status == 204 || status == 304)
        var text = "HTTP/1.1 \(status) \(Self.reasonPhrase(status))\r\n"
        for (name, value) in headers {
            switch name.lowercasedASCII() {
            case "content-length", "transfer-encoding", "connection", "date": continue
            default:
                // Never let a handler's value split the head: CR, LF and other controls are dropped.
                let safeName = name.utf8.allSatisfy(ASCII.isTokenChar) ? name : "X-Invalid-Name"
                let safeValue = String(decoding: value.utf8.filter(ASCII.isFieldValueChar), as: UTF8.self)
                text += "\(safeName): \(safeValue)\r\n"
            }
        }
        text += "Date: \(date)\r\n"
        if bodyAllowed { text += "Content-Length: \(body.count)\r\n" }
        if keepAlive {
            if version == .http1_0 { text += "Connection: keep-alive\r\n" }
        } else {
            text += "Connection: close\r\n"
        }
        text += "\r\n"
        var bytes = Array(text.utf8)
        if bodyAllowed && !isHead { bytes += body }
        return bytes
    }
}
