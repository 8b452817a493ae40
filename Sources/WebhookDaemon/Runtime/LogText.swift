/// Client-supplied text (request path, method, Host) made safe to echo in a log line: bytes outside printable ASCII
/// and `\` become `\xNN`, and at most `limit` bytes of the original are kept, the rest replaced by a count.
enum LogText {
    /// Bytes of a client-supplied value kept in a log line.
    static let defaultLimit = 200

    /// `text` escaped and cut to `limit` bytes of the original.
    static func escaped(_ text: some StringProtocol, limit: Int = defaultLimit) -> String {
        var text = String(text)
        if text.withUTF8({ $0.count <= limit && $0.allSatisfy(isKept) }) { return text }
        return text.withUTF8 { bytes in
            let hex: StaticString = "0123456789abcdef"
            var out: [UInt8] = []
            out.reserveCapacity(min(bytes.count, limit) + 32)
            for byte in bytes.prefix(limit) {
                if isKept(byte) {
                    out.append(byte)
                } else {
                    out += [UInt8(ascii: "\\"), UInt8(ascii: "x")]
                    out += [hex.utf8Start[Int(byte >> 4)], hex.utf8Start[Int(byte & 0x0F)]]
                }
            }
            if bytes.count > limit { out += "…(+\(bytes.count - limit) bytes)".utf8 }
            return String(decoding: out, as: UTF8.self)
        }
    }

    /// Whether `byte` is written as it is: printable ASCII other than `\`.
    private static func isKept(_ byte: UInt8) -> Bool {
        byte >= 0x20 && byte < 0x7F && byte != UInt8(ascii: "\\")
    }
}
