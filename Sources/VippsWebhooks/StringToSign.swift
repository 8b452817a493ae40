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
        "\(method)\n\(target.pathAndQuery)\n\(date);\(target.host);\(contentHash)"
    }
}
