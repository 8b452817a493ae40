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
        return head.withUnsafeBufferPointer { parseHead(head, $0) }
    }

    /// Parses `head`, read through `bytes` (its storage); the header list keeps `head`.
    private static func parseHead(
        _ head: [UInt8],
        _ bytes: UnsafeBufferPointer<UInt8>
    ) -> Result<HTTPRequestHead, HTTPParseError> {
        var lineStart = 0
        guard let requestLine = nextLine(bytes, from: &lineStart) else { return .failure(.invalidRequestLine) }
        let method: String
        let target: String
        let version: HTTPVersion
        switch parseRequestLine(requestLine) {
        case .success(let parsed): (method, target, version) = parsed
        case .failure(let error): return .failure(error)
        }
        var headers = HTTPHeaders(parsedHead: head, fieldCapacity: 16)
        var meaning = FieldMeaning()
        while lineStart < bytes.count {
            let field: (name: Range<Int>, value: Range<Int>)
            if let simple = simpleField(bytes, from: lineStart) {
                field = (simple.name, simple.value)
                lineStart = simple.next
            } else {
                guard let line = nextLine(bytes, from: &lineStart) else { break }
                switch fieldRanges(line) {
                case .success(let parsed): field = parsed
                case .failure(let error): return .failure(error)
                }
            }
            headers.appendParsedField(name: field.name, value: field.value)
            meaning.note(name: bytes[field.name], value: bytes[field.value])
        }
        if version == .http1_1 && meaning.hosts != 1 { return .failure(.invalidHost) }
        if version == .http1_0 && meaning.hosts > 1 { return .failure(.invalidHost) }
        let framing: HTTPBodyFraming
        switch meaning.bodyFraming(version: version) {
        case .success(let value): framing = value
        case .failure(let error): return .failure(error)
        }
        if meaning.expectations > 0 && (meaning.expectations != 1 || !meaning.onlyContinue) {
            return .failure(.unsupportedExpectation)
        }
        return .success(
            HTTPRequestHead(
                method: method,
                target: target,
                version: version,
                headers: headers,
                bodyFraming: framing,
                keepAlive: version == .http1_1 ? !meaning.close : meaning.keepAlive && !meaning.close,
                expectsContinue: version == .http1_1 && meaning.expectations > 0
            )
        )
    }

    /// What the fields the server itself acts on say (Host, Content-Length, Transfer-Encoding, Expect,
    /// Connection), gathered in one pass over the fields.
    private struct FieldMeaning {
        typealias Bytes = Slice<UnsafeBufferPointer<UInt8>>

        var hosts = 0
        var lengthFields = 0
        var length: Int?
        /// The first fault in a Content-Length value.
        var lengthFailure: HTTPParseError?
        var encodingFields = 0
        var encodings = 0
        var chunked = false
        var expectations = 0
        var onlyContinue = true
        var close = false
        var keepAlive = false

        mutating func note(name: Bytes, value: Bytes) {
            switch name.count {
            case 4 where ASCII.equalsIgnoringCase(name, hostName):
                hosts += 1
            case 14 where ASCII.equalsIgnoringCase(name, contentLengthName):
                lengthFields += 1
                if lengthFailure == nil { noteLength(value) }
            case 17 where ASCII.equalsIgnoringCase(name, transferEncodingName):
                encodingFields += 1
                ASCII.forEachListElement(value) { token in
                    encodings += 1
                    chunked = ASCII.equalsIgnoringCase(token, chunkedToken)
                }
            case 6 where ASCII.equalsIgnoringCase(name, expectName):
                ASCII.forEachListElement(value) { token in
                    expectations += 1
                    onlyContinue = onlyContinue && ASCII.equalsIgnoringCase(token, continueToken)
                }
            case 10 where ASCII.equalsIgnoringCase(name, connectionName):
                ASCII.forEachListElement(value) { token in
                    if ASCII.equalsIgnoringCase(token, closeToken) { close = true }
                    if ASCII.equalsIgnoringCase(token, keepAliveToken) { keepAlive = true }
                }
            default:
                break
            }
        }

        /// The comma-separated items of a Content-Length value: decimal numbers, all equal.
        private mutating func noteLength(_ value: Bytes) {
            var start = value.startIndex
            while true {
                let end = value[start...].firstIndex(of: UInt8(ascii: ",")) ?? value.endIndex
                guard let parsed = ASCII.decimalValue(bytes: ASCII.trimmed(value[start..<end]), maxDigits: 18) else {
                    lengthFailure = .invalidContentLength
                    return
                }
                if let length, length != parsed {
                    lengthFailure = .conflictingContentLength
                    return
                }
                length = parsed
                guard end < value.endIndex else { return }
                start = end + 1
            }
        }

        /// Body framing per RFC 9112 §6, rejecting every ambiguous shape (request smuggling).
        func bodyFraming(version: HTTPVersion) -> Result<HTTPBodyFraming, HTTPParseError> {
            if encodingFields > 0 {
                guard lengthFields == 0 else { return .failure(.contentLengthWithTransferEncoding) }
                guard version == .http1_1, encodings == 1, chunked else {
                    return .failure(.unsupportedTransferEncoding)
                }
                return .success(.chunked)
            }
            guard lengthFields > 0 else { return .success(.none) }
            if let lengthFailure { return .failure(lengthFailure) }
            return .success(.length(length ?? 0))
        }
    }

    /// The line of `bytes` starting at `start` without its CRLF (the last line may lack it), moving `start` past
    /// it; nil at the end.
    private static func nextLine(
        _ bytes: UnsafeBufferPointer<UInt8>,
        from start: inout Int
    ) -> Slice<UnsafeBufferPointer<UInt8>>? {
        guard start < bytes.count else { return nil }
        let line: Slice<UnsafeBufferPointer<UInt8>>
        if let lf = bytes[start...].firstIndex(of: ASCII.lf) {
            line = bytes[start..<(lf - 1)]
            start = lf + 1
        } else {
            line = bytes[start...]
            start = bytes.count
        }
        return line
    }

    /// The field line at `start` in one pass when it has the common shape (a token name, a colon, a value of
    /// field-value bytes, CRLF): where its name and value (surrounding blanks removed) lie, and where the next line
    /// starts. Nil for any other line; `fieldRanges(_:)` then decides, so its answers stay the rule.
    private static func simpleField(
        _ bytes: UnsafeBufferPointer<UInt8>,
        from start: Int
    ) -> (name: Range<Int>, value: Range<Int>, next: Int)? {
        var index = start
        while index < bytes.count && ASCII.isTokenChar(bytes[index]) { index += 1 }
        guard index > start, index < bytes.count, bytes[index] == ASCII.colon else { return nil }
        let nameEnd = index
        index += 1
        while index < bytes.count && ASCII.isSpace(bytes[index]) { index += 1 }
        let valueStart = index
        index = ByteScan.firstNonFieldValueByte(bytes, from: index, to: bytes.count)
        var valueEnd = index
        while valueEnd > valueStart && ASCII.isSpace(bytes[valueEnd - 1]) { valueEnd -= 1 }
        guard index + 1 < bytes.count, bytes[index] == ASCII.cr, bytes[index + 1] == ASCII.lf else { return nil }
        return (start..<nameEnd, valueStart..<valueEnd, index + 2)
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

    static func parseRequestLine<Line: BidirectionalCollection<UInt8>>(
        _ line: Line
    ) -> Result<(String, String, HTTPVersion), HTTPParseError> where Line.Index == Int, Line.SubSequence == Line {
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
    static func fieldRanges<Line: BidirectionalCollection<UInt8>>(
        _ line: Line
    ) -> Result<(name: Range<Int>, value: Range<Int>), HTTPParseError>
    where Line.Index == Int, Line.SubSequence == Line {
        guard let first = line.first else { return .failure(.invalidHeaderName) }
        if first == ASCII.space || first == ASCII.tab { return .failure(.obsoleteLineFolding) }
        guard let colon = line.firstIndex(of: ASCII.colon) else { return .failure(.invalidHeaderValue) }
        let name = line[..<colon]
        guard !name.isEmpty, name.allSatisfy(ASCII.isTokenChar) else { return .failure(.invalidHeaderName) }
        let value = ASCII.trimmed(line[(colon + 1)...])
        guard value.allSatisfy(ASCII.isFieldValueChar) else { return .failure(.invalidHeaderValue) }
        return .success((name.startIndex..<name.endIndex, value.startIndex..<value.endIndex))
    }

    private static func digit(_ byte: UInt8) -> Int? {
        ASCII.isDigit(byte) ? Int(byte - 0x30) : nil
    }
}
