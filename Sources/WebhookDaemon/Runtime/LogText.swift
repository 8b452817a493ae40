/// Client-supplied text (request path, method, Host) made safe to echo in a log line: bytes outside printable ASCII
/// and `\` become `\xNN`, and at most `limit` bytes of the original are kept, the rest replaced by a count.
enum LogText {
    /// Bytes of a client-supplied value kept in a log line.
    static let defaultLimit = 200

    /// `text` escaped and cut to `limit` bytes of the original.
    static func escaped(_ text: some StringProtocol, limit: Int = defaultLimit) -> String {
        let bytes = Array(text.utf8)
        var out = ""
        out.reserveCapacity(min(bytes.count, limit) + 16)
        let hex: [Character] = Array("0123456789abcdef")
        for byte in bytes.prefix(limit) {
            if byte >= 0x20 && byte < 0x7F && byte != UInt8(ascii: "\\") {
                out.append(Character(Unicode.Scalar(byte)))
            } else {
                out += "\\x"
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0x0F)])
            }
        }
        if bytes.count > limit { out += "…(+\(bytes.count - limit) bytes)" }
        return out
    }
}
