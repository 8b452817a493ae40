/// Pure parsing of a complete head (request line and field lines, CRLF-separated, bare CR/LF already rejected).
extension HTTPRequestParser {
    static func parseHead(_ bytes: ArraySlice<UInt8>) -> Result<HTTPRequestHead, HTTPParseError> {
        var lines = Self.lines(bytes).makeIterator()
        guard let requestLine = lines.next() else { return .failure(.invalidRequestLine) }
        let method: String
        let target: String
        let version: HTTPVersion
        switch parseRequestLine(requestLine) {
        case .success(let parsed): (method, target, version) = parsed
        case .failure(let error): return .failure(error)
        }
        var headers = HTTPHeaders()
        while let line = lines.next() {
            switch parseField(line) {
            case .success(let field): headers.add(name: field.name, value: field.value)
            case .failure(let error): return .failure(error)
            }
        }
        if version == .http1_1 && headers.values(for: "host").count != 1 { return .failure(.invalidHost) }
        if version == .http1_0 && headers.values(for: "host").count > 1 { return .failure(.invalidHost) }
        let framing: HTTPBodyFraming
        switch bodyFraming(headers: headers, version: version) {
        case .success(let value): framing = value
        case .failure(let error): return .failure(error)
        }
        let expectations = headers.tokens(for: "expect")
        if !expectations.isEmpty && expectations != ["100-continue"] { return .failure(.unsupportedExpectation) }
        let connection = headers.tokens(for: "connection")
        let keepAlive =
            version == .http1_1
            ? !connection.contains("close")
            : connection.contains("keep-alive")
                && !connection.contains("close")
        return .success(
            HTTPRequestHead(
                method: method,
                target: target,
                version: version,
                headers: headers,
                bodyFraming: framing,
                keepAlive: keepAlive,
                expectsContinue: version == .http1_1 && !expectations.isEmpty
            )
        )
    }

    /// The CRLF-separated lines of a section whose last line ends with CRLF.
    static func lines(_ bytes: ArraySlice<UInt8>) -> [ArraySlice<UInt8>] {
        var result: [ArraySlice<UInt8>] = []
        var start = bytes.startIndex
        var index = bytes.startIndex
        while index < bytes.endIndex {
            if bytes[index] == ASCII.lf {
                result.append(bytes[start..<(index - 1)])
                start = index + 1
            }
            index += 1
        }
        if start < bytes.endIndex { result.append(bytes[start...]) }
        return result
    }

    static func parseRequestLine(
        _ line: ArraySlice<UInt8>
    ) -> Result<(String, String, HTTPVersion), HTTPParseError> {
        let parts = line.split(separator: ASCII.space, omittingEmptySubsequences: false)
        guard parts.count == 3 else { return .failure(.invalidRequestLine) }
        guard !parts[0].isEmpty, parts[0].allSatisfy(ASCII.isTokenChar) else { return .failure(.invalidMethod) }
        guard !parts[1].isEmpty, parts[1].allSatisfy(ASCII.isTargetChar) else { return .failure(.invalidTarget) }
        let versionBytes = Array(parts[2])
        let prefix = Array("HTTP/".utf8)
        guard versionBytes.count == 8, versionBytes.starts(with: prefix), versionBytes[6] == UInt8(ascii: "."),
            let major = digit(versionBytes[5]), let minor = digit(versionBytes[7])
        else { return .failure(.invalidVersion) }
        let version = HTTPVersion(major: major, minor: minor)
        guard version == .http1_0 || version == .http1_1 else { return .failure(.unsupportedVersion) }
        return .success((String(decoding: parts[0], as: UTF8.self), String(decoding: parts[1], as: UTF8.self), version))
    }

    /// One `name: value` field line; the value with surrounding whitespace removed.
    static func parseField(_ line: ArraySlice<UInt8>) -> Result<(name: String, value: String), HTTPParseError> {
        guard let first = line.first else { return .failure(.invalidHeaderName) }
        if first == ASCII.space || first == ASCII.tab { return .failure(.obsoleteLineFolding) }
        guard let colon = line.firstIndex(of: ASCII.colon) else { return .failure(.invalidHeaderValue) }
        let name = line[..<colon]
        guard !name.isEmpty, name.allSatisfy(ASCII.isTokenChar) else { return .failure(.invalidHeaderName) }
        var value = line[(colon + 1)...]
        while let byte = value.first, byte == ASCII.space || byte == ASCII.tab { value = value.dropFirst() }
        while let byte = value.last, byte == ASCII.space || byte == ASCII.tab { value = value.dropLast() }
        guard value.allSatisfy(ASCII.isFieldValueChar) else { return .failure(.invalidHeaderValue) }
        return .success((String(decoding: name, as: UTF8.self), String(decoding: value, as: UTF8.self)))
    }

    /// Body framing per RFC 9112 §6, rejecting every ambiguous shape (request smuggling).
    static func bodyFraming(headers: HTTPHeaders, version: HTTPVersion) -> Result<HTTPBodyFraming, HTTPParseError> {
        let lengths = headers.values(for: "content-length")
        let encodings = headers.values(for: "transfer-encoding")
        if !encodings.isEmpty {
            guard lengths.isEmpty else { return .failure(.contentLengthWithTransferEncoding) }
            guard version == .http1_1, headers.tokens(for: "transfer-encoding") == ["chunked"] else {
                return .failure(.unsupportedTransferEncoding)
            }
            return .success(.chunked)
        }
        guard !lengths.isEmpty else { return .success(.none) }
        var length: Int?
        for value in lengths {
            for item in value.split(separator: ",", omittingEmptySubsequences: false) {
                let digits = item.trimmingASCIIWhitespace().utf8
                guard !digits.isEmpty, digits.count <= 18, digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
                    return .failure(.invalidContentLength)
                }
                let parsed = digits.reduce(0) { $0 * 10 + Int($1 - 0x30) }
                if let existing = length, existing != parsed { return .failure(.conflictingContentLength) }
                length = parsed
            }
        }
        return .success(.length(length ?? 0))
    }

    private static func digit(_ byte: UInt8) -> Int? {
        byte >= 0x30 && byte <= 0x39 ? Int(byte - 0x30) : nil
    }
}
