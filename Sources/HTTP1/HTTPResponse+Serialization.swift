extension HTTPResponse {
    /// The bytes of this response on the wire.
    /// - Parameters:
    ///   - version: the request's version (the status line always says HTTP/1.1, as RFC 9110 allows).
    ///   - keepAlive: whether the connection stays open; decides the `Connection` field.
    ///   - isHead: whether the request was HEAD (no body is written).
    ///   - date: the `Date` value (IMF-fixdate).
    public func serialized(version: HTTPVersion, keepAlive: Bool, isHead: Bool, date: String) -> [UInt8] {
        var bytes: [UInt8] = []
        serialize(into: &bytes, version: version, keepAlive: keepAlive, isHead: isHead, date: Array(date.utf8))
        return bytes
    }

    /// Appends the bytes of this response to `bytes` (see `serialized(version:keepAlive:isHead:date:)`), reserving
    /// room for the whole response first so that it is built without intermediate strings or regrowth.
    public func serialize(
        into bytes: inout [UInt8],
        version: HTTPVersion,
        keepAlive: Bool,
        isHead: Bool,
        date: [UInt8]
    ) {
        let bodyAllowed = !(status < 200 || status == 204 || status == 304)
        let sendsBody = bodyAllowed && !isHead
        var headerBytes = 0
        headers.forEachField { name, value in headerBytes += name.count + value.count + 4 }
        bytes.reserveCapacity(bytes.count + 128 + headerBytes + (sendsBody ? body.count : 0))
        ASCII.append("HTTP/1.1 ", to: &bytes)
        ASCII.appendDecimal(Int64(status), to: &bytes)
        bytes.append(ASCII.space)
        bytes.append(contentsOf: Self.reasonPhrase(status).utf8)
        ASCII.append("\r\n", to: &bytes)
        headers.forEachField { name, value in
            guard !Self.isServerOwned(name) else { return }
            // Never let a handler's value split the head: CR, LF and other controls are dropped.
            if name.allSatisfy(ASCII.isTokenChar) {
                bytes.append(contentsOf: name)
            } else {
                ASCII.append("X-Invalid-Name", to: &bytes)
            }
            ASCII.append(": ", to: &bytes)
            if value.allSatisfy(ASCII.isFieldValueChar) {
                bytes.append(contentsOf: value)
            } else {
                for byte in value where ASCII.isFieldValueChar(byte) { bytes.append(byte) }
            }
            ASCII.append("\r\n", to: &bytes)
        }
        ASCII.append("Date: ", to: &bytes)
        bytes.append(contentsOf: date)
        ASCII.append("\r\n", to: &bytes)
        if bodyAllowed {
            ASCII.append("Content-Length: ", to: &bytes)
            ASCII.appendDecimal(Int64(body.count), to: &bytes)
            ASCII.append("\r\n", to: &bytes)
        }
        if keepAlive {
            if version == .http1_0 { ASCII.append("Connection: keep-alive\r\n", to: &bytes) }
        } else {
            ASCII.append("Connection: close\r\n", to: &bytes)
        }
        ASCII.append("\r\n", to: &bytes)
        if sendsBody { bytes.append(contentsOf: body) }
    }

    /// Fields the server writes itself; a handler's own are dropped.
    private static func isServerOwned(_ name: ArraySlice<UInt8>) -> Bool {
        serverOwnedNames.contains { ASCII.equalsIgnoringCase(name, $0) }
    }

    private static let serverOwnedNames = ["content-length", "transfer-encoding", "connection", "date"].map {
        Array($0.utf8)
    }
}
