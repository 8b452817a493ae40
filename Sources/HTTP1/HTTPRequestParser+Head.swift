/// Pure parsing of a complete head (request line and field lines, CRLF-separated, bare CR/LF already rejected).
///
/// The head's bytes are copied once; its fields are kept as ranges of that copy (`HTTPHeaders`), so no string is
/// made for a field here.
extension HTTPRequestParser {
    private static let hostName = Array("host".utf8)
    private static let contentLengthName = Array("content-length".utf8)
    private static let transferEncodingName = Array("transfer-encoding".utf8)
    private static let expectName = Array("expect".utf8)
    private static let connectionName = Array("connection".utf8)
    private static let chunkedToken = Array("chunked".utf8)
    private static let continueToken = Array("100-continue".utf8)
    private static let closeToken = Array("close".utf8)
    private static let keepAliveToken = Array("keep-alive".utf8)
    private static let versionPrefix = Array("HTTP/".utf8)

    static func parseHead(_ bytes: ArraySlice<UInt8>) -> Result<HTTPRequestHead, HTTPParseError> {
        let head = Array(bytes)
        var lineStart = 0
        guard let requestLine = nextLine(head, from: &lineStart) else { return .failure(.invalidRequestLine) }
        let method: String
        let target: String
        let version: HTTPVersion
        switch parseRequestLine(requestLine) {
        case .success(let parsed): (method, target, version) = parsed
        case .failure(let error): return .failure(error)
        }
        var headers = HTTPHeaders(parsedHead: head, fieldCapacity: 16)
        while let line = nextLine(head, from: &lineStart) {
            switch fieldRanges(line) {
            case .success(let field): headers.appendParsedField(name: field.name, value: field.value)
            case .failure(let error): return .failure(error)
            }
        }
        var hosts = 0
        headers.forEachValue(named: hostName) { _ in hosts += 1 }
        if version == .http1_1 && hosts != 1 { return .failure(.invalidHost) }
        if version == .http1_0 && hosts > 1 { return .failure(.invalidHost) }
        let framing: HTTPBodyFraming
        switch bodyFraming(headers: headers, version: version) {
        case .success(let value): framing = value
        case .failure(let error): return .failure(error)
        }
        var expectations = 0
        var onlyContinue = true
        headers.forEachToken(named: expectName) { token in
            expectations += 1
            onlyContinue = onlyContinue && ASCII.equalsIgnoringCase(token, continueToken)
        }
        if expectations > 0 && (expectations != 1 || !onlyContinue) { return .failure(.unsupportedExpectation) }
        var close = false
        var keepAliveAsked = false
        headers.forEachToken(named: connectionName) { token in
            if ASCII.equalsIgnoringCase(token, closeToken) { close = true }
            if ASCII.equalsIgnoringCase(token, keepAliveToken) { keepAliveAsked = true }
        }
        return .success(
            HTTPRequestHead(
                method: method,
                target: target,
                version: version,
                headers: headers,
                bodyFraming: framing,
                keepAlive: version == .http1_1 ? !close : keepAliveAsked && !close,
                expectsContinue: version == .http1_1 && expectations > 0
            )
        )
    }

    /// The line of `bytes` starting at `start` without its CRLF (the last line may lack it), moving `start` past
    /// it; nil at the end.
    private static func nextLine(_ bytes: [UInt8], from start: inout Int) -> ArraySlice<UInt8>? {
        guard start < bytes.count else { return nil }
        let line: ArraySlice<UInt8>
        if let lf = bytes[start...].firstIndex(of: ASCII.lf) {
            line = bytes[start..<(lf - 1)]
            start = lf + 1
        } else {
            line = bytes[start...]
            start = bytes.count
        }
        return line
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
        // Exactly two spaces: method SP target SP version.
        guard let firstSpace = line.firstIndex(of: ASCII.space),
            let secondSpace = line[(firstSpace + 1)...].firstIndex(of: ASCII.space),
            !line[(secondSpace + 1)...].contains(ASCII.space)
        else { return .failure(.invalidRequestLine) }
        let method = line[..<firstSpace]
        let target = line[(firstSpace + 1)..<secondSpace]
        let versionBytes = line[(secondSpace + 1)...]
        guard !method.isEmpty, method.allSatisfy(ASCII.isTokenChar) else { return .failure(.invalidMethod) }
        guard !target.isEmpty, target.allSatisfy(ASCII.isTargetChar) else { return .failure(.invalidTarget) }
        let start = versionBytes.startIndex
        guard versionBytes.count == 8, versionBytes.starts(with: versionPrefix),
            versionBytes[start + 6] == UInt8(ascii: "."),
            let major = digit(versionBytes[start + 5]), let minor = digit(versionBytes[start + 7])
        else { return .failure(.invalidVersion) }
        let version = HTTPVersion(major: major, minor: minor)
        guard version == .http1_0 || version == .http1_1 else { return .failure(.unsupportedVersion) }
        return .success((String(decoding: method, as: UTF8.self), String(decoding: target, as: UTF8.self), version))
    }

    /// Where the name and the value (surrounding whitespace removed) of one `name: value` field line lie.
    static func fieldRanges(_ line: ArraySlice<UInt8>) -> Result<(name: Range<Int>, value: Range<Int>), HTTPParseError>
    {
        guard let first = line.first else { return .failure(.invalidHeaderName) }
        if first == ASCII.space || first == ASCII.tab { return .failure(.obsoleteLineFolding) }
        guard let colon = line.firstIndex(of: ASCII.colon) else { return .failure(.invalidHeaderValue) }
        let name = line[..<colon]
        guard !name.isEmpty, name.allSatisfy(ASCII.isTokenChar) else { return .failure(.invalidHeaderName) }
        let value = ASCII.trimmed(line[(colon + 1)...])
        guard value.allSatisfy(ASCII.isFieldValueChar) else { return .failure(.invalidHeaderValue) }
        return .success((name.startIndex..<name.endIndex, value.startIndex..<value.endIndex))
    }

    /// Body framing per RFC 9112 §6, rejecting every ambiguous shape (request smuggling).
    static func bodyFraming(headers: HTTPHeaders, version: HTTPVersion) -> Result<HTTPBodyFraming, HTTPParseError> {
        var lengthFields = 0
        headers.forEachValue(named: contentLengthName) { _ in lengthFields += 1 }
        if headers.firstValue(named: transferEncodingName) != nil {
            guard lengthFields == 0 else { return .failure(.contentLengthWithTransferEncoding) }
            var encodings = 0
            var chunked = false
            headers.forEachToken(named: transferEncodingName) { token in
                encodings += 1
                chunked = ASCII.equalsIgnoringCase(token, chunkedToken)
            }
            guard version == .http1_1, encodings == 1, chunked else { return .failure(.unsupportedTransferEncoding) }
            return .success(.chunked)
        }
        guard lengthFields > 0 else { return .success(.none) }
        var length: Int?
        var failure: HTTPParseError?
        headers.forEachValue(named: contentLengthName) { value in
            for item in value.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false)
            where failure == nil {
                let digits = ASCII.trimmed(item)
                guard !digits.isEmpty, digits.count <= 18, digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
                    failure = .invalidContentLength
                    return
                }
                let parsed = digits.reduce(0) { $0 * 10 + Int($1 - 0x30) }
                if let existing = length, existing != parsed {
                    failure = .conflictingContentLength
                    return
                }
                length = parsed
            }
        }
        if let failure { return .failure(failure) }
        return .success(.length(length ?? 0))
    }

    private static func digit(_ byte: UInt8) -> Int? {
        byte >= 0x30 && byte <= 0x39 ? Int(byte - 0x30) : nil
    }
}
