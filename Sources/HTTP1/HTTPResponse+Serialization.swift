extension HTTPResponse {
    /// The bytes of this response on the wire.
    /// - Parameters:
    ///   - version: the request's version (the status line always says HTTP/1.1, as RFC 9110 allows).
    ///   - keepAlive: whether the connection stays open; decides the `Connection` field.
    ///   - isHead: whether the request was HEAD (no body is written).
    ///   - date: the `Date` value (IMF-fixdate).
    public func serialized(version: HTTPVersion, keepAlive: Bool, isHead: Bool, date: String) -> [UInt8] {
        var bytes: [UInt8] = []
        serialize(into: &bytes, version: version, keepAlive: keepAlive, isHead: isHead, date: date.utf8)
        return bytes
    }

    /// Appends the bytes of this response to `bytes` (see `serialized(version:keepAlive:isHead:date:)`), reserving
    /// room for the whole response first so that it is built without intermediate strings or regrowth.
    public func serialize(
        into bytes: inout [UInt8],
        version: HTTPVersion,
        keepAlive: Bool,
        isHead: Bool,
        date: some Collection<UInt8>
    ) {
        let bodyAllowed = !(status < 200 || status == 204 || status == 304)
        let sendsBody = bodyAllowed && !isHead
        var headerBytes = 0
        headers.forEachField { name, value in headerBytes += name.count + value.count + 4 }
        bytes.reserveCapacity(bytes.count + 128 + headerBytes + (sendsBody ? body.count : 0))
        bytes.append(contentsOf: "HTTP/1.1 ".utf8)
        Self.appendDecimal(status, to: &bytes)
        bytes.append(ASCII.space)
        bytes.append(contentsOf: Self.reasonPhrase(status).utf8)
        bytes.append(contentsOf: [ASCII.cr, ASCII.lf])
        headers.forEachField { name, value in
            guard !Self.isServerOwned(name) else { return }
            // Never let a handler's value split the head: CR, LF and other controls are dropped.
            if name.allSatisfy(ASCII.isTokenChar) {
                bytes.append(contentsOf: name)
            } else {
                bytes.append(contentsOf: "X-Invalid-Name".utf8)
            }
            bytes.append(contentsOf: ": ".utf8)
            if value.allSatisfy(ASCII.isFieldValueChar) {
                bytes.append(contentsOf: value)
            } else {
                for byte in value where ASCII.isFieldValueChar(byte) { bytes.append(byte) }
            }
            bytes.append(contentsOf: [ASCII.cr, ASCII.lf])
        }
        bytes.append(contentsOf: "Date: ".utf8)
        bytes.append(contentsOf: date)
        bytes.append(contentsOf: [ASCII.cr, ASCII.lf])
        if bodyAllowed {
            bytes.append(contentsOf: "Content-Length: ".utf8)
            Self.appendDecimal(body.count, to: &bytes)
            bytes.append(contentsOf: [ASCII.cr, ASCII.lf])
        }
        if keepAlive {
            if version == .http1_0 { bytes.append(contentsOf: "Connection: keep-alive\r\n".utf8) }
        } else {
            bytes.append(contentsOf: "Connection: close\r\n".utf8)
        }
        bytes.append(contentsOf: [ASCII.cr, ASCII.lf])
        if sendsBody { bytes.append(contentsOf: body) }
    }

    /// Fields the server writes itself; a handler's own are dropped.
    private static func isServerOwned(_ name: ArraySlice<UInt8>) -> Bool {
        serverOwnedNames.contains { ASCII.equalsIgnoringCase(name, $0) }
    }

    private static let serverOwnedNames = ["content-length", "transfer-encoding", "connection", "date"].map {
        Array($0.utf8)
    }

    /// Appends the decimal digits of `value` (non-negative), without an intermediate string.
    private static func appendDecimal(_ value: Int, to bytes: inout [UInt8]) {
        var divisor = 1
        while divisor <= value / 10 { divisor *= 10 }
        while divisor > 0 {
            bytes.append(0x30 + UInt8(value / divisor % 10))
            divisor /= 10
        }
    }
}
