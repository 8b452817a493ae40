/// The text a Vipps webhook signature covers (README: How signing works), lines joined by LF, no trailing newline:
/// ```
/// POST
/// <pathAndQuery>
/// <x-ms-date>;<host>;<x-ms-content-sha256>
/// ```
public enum StringToSign {
    /// The string to sign for a request.
    /// - Parameters:
    ///   - method: the HTTP method (upper case; Vipps sends `POST`).
    ///   - target: host and path+query of the registered URL.
    ///   - date: the `x-ms-date` value exactly as sent.
    ///   - contentHash: the `x-ms-content-sha256` value.
    public static func make(method: String, target: SignedTarget, date: String, contentHash: String) -> String {
        String(decoding: bytes(method: method, target: target, date: date, contentHash: contentHash), as: UTF8.self)
    }

    /// ``make(method:target:date:contentHash:)`` as UTF-8 bytes, the form that is signed.
    public static func bytes(method: String, target: SignedTarget, date: String, contentHash: String) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(
            method.utf8.count + target.pathAndQuery.utf8.count + date.utf8.count + target.host.utf8.count
                + contentHash.utf8.count + 4
        )
        bytes += method.utf8
        bytes.append(UInt8(ascii: "\n"))
        bytes += target.pathAndQuery.utf8
        bytes.append(UInt8(ascii: "\n"))
        bytes += date.utf8
        bytes.append(UInt8(ascii: ";"))
        bytes += target.host.utf8
        bytes.append(UInt8(ascii: ";"))
        bytes += contentHash.utf8
        return bytes
    }
}
