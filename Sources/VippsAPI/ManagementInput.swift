import HTTP1
import VippsWebhooks

/// Checks of command input, done before any call so that bad input never reaches the API.
public enum ManagementInput {
    /// Longest URL accepted for registration or as an API root.
    public static let maximumURLLength = 2048

    /// Checks an ePayment payment reference: 8 to 64 characters of `A-Z a-z 0-9 -` (the ePayment API's pattern), so
    /// it is safe in a URL path as it is.
    public static func checkPaymentReference(_ reference: String) throws(ManagementError) {
        let allowed = reference.utf8.allSatisfy { ASCII.isLetterOrDigit($0) || $0 == 0x2D }
        guard (8...64).contains(reference.utf8.count), allowed else {
            throw .invalidInput(
                "a payment reference is 8 to 64 characters of A-Z, a-z, 0-9 and -, got \"\(OutputText.clean(reference))\""
            )
        }
    }

    /// Digits a merchant serial number may have: the access-token API's pattern `^[0-9]{4,10}$` (the Webhooks API
    /// itself gives no pattern).
    public static let msnDigits = 4...10

    /// Checks a merchant serial number: 4 to 10 digits, the pattern `^[0-9]{4,10}$` of the access-token API.
    public static func checkMSN(_ msn: String) throws(ManagementError) {
        guard msnDigits.contains(msn.utf8.count), msn.utf8.allSatisfy(ASCII.isDigit) else {
            throw .invalidInput(
                "the merchant serial number must be 4 to 10 digits (the access-token API pattern ^[0-9]{4,10}$), "
                    + "got \"\(OutputText.clean(msn))\""
            )
        }
    }

    /// Checks credentials: every key present, no control characters (they go into header fields), the MSN's shape
    /// when there is one (partners and PSPs leave it out to act for all their merchants). Names the missing or bad
    /// field, never its value.
    public static func checkCredentials(_ credentials: ManagementCredentials) throws(ManagementError) {
        let fields = [
            ("client id", credentials.clientID), ("client secret", credentials.clientSecret),
            ("subscription key", credentials.subscriptionKey),
        ]
        for (name, value) in fields {
            guard !value.isEmpty else { throw .invalidInput("the \(name) is empty") }
            guard isHeaderSafe(value) else { throw .invalidInput("the \(name) contains control characters") }
        }
        if let msn = credentials.msn { try checkMSN(msn) }
    }

    /// Checks a URL to register: an absolute `https` URL with a host (the vendor only delivers over HTTPS).
    /// - Returns: the URL without surrounding whitespace.
    public static func checkWebhookURL(_ url: String) throws(ManagementError) -> String {
        let trimmed = url.trimmingSpaces()
        guard trimmed.utf8.count <= maximumURLLength else {
            throw .invalidInput("--url is longer than \(maximumURLLength) bytes")
        }
        guard trimmed.lowercased().hasPrefix("https://") else {
            throw .invalidInput("--url must be an https:// URL (Vipps MobilePay only delivers webhooks over HTTPS)")
        }
        guard isHeaderSafe(trimmed), !trimmed.contains(" ") else {
            throw .invalidInput("--url contains spaces or control characters")
        }
        do { _ = try SignedTarget(url: trimmed) } catch { throw .invalidInput("--url: \(error)") }
        guard !trimmed.contains("#") else { throw .invalidInput("--url must not carry a #fragment") }
        return trimmed
    }

    /// Checks a list of event types: at least one, none empty or with spaces; duplicates dropped.
    /// - Returns: the events to send and those of them this tool does not know (allowed; the caller warns).
    public static func checkEvents(_ events: [String]) throws(ManagementError) -> (events: [String], unknown: [String])
    {
        var result: [String] = []
        for raw in events {
            let event = raw.trimmingSpaces()
            guard !event.isEmpty else { throw .invalidInput("--events has an empty entry") }
            guard event.utf8.count <= 200, event.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
                throw .invalidInput("--events entry \"\(OutputText.clean(event))\" is not an event type")
            }
            if !result.contains(event) { result.append(event) }
        }
        guard !result.isEmpty else { throw .invalidInput("--events needs at least one event type") }
        return (result, result.filter { !SampleEvents.knownTypes.contains($0) })
    }

    /// Checks a registration id for `DELETE /webhooks/v1/webhooks/{id}`: 1–128 URL-unreserved characters
    /// (letters, digits, `-`, `_`, `.`, `~`), not `.` or `..`, so it stays one path segment.
    public static func checkWebhookID(_ id: String) throws(ManagementError) {
        guard (1...128).contains(id.utf8.count), id.utf8.allSatisfy(isUnreserved), id != ".", id != ".." else {
            throw .invalidInput(
                "the webhook id \"\(OutputText.clean(id))\" is not an id (letters, digits, '-', '_', '.', '~'; "
                    + "no '/'), e.g. one printed by `webhooks list`"
            )
        }
    }

    /// Checks an `Idempotency-Key`: 1 to 64 letters, digits, `-`, `_`, `.` or `~`.
    public static func checkIdempotencyKey(_ key: String) throws(ManagementError) {
        guard (1...64).contains(key.utf8.count), key.utf8.allSatisfy(isUnreserved) else {
            throw .invalidInput("the idempotency key must be 1 to 64 letters, digits, '-', '_', '.' or '~'")
        }
    }

    /// Checks an API root: `https://host[:port][/prefix]`, or `http://` only to a loopback host (a local fake;
    /// credentials must not cross a network in clear text).
    /// - Returns: the root without a trailing slash.
    public static func checkBaseURL(_ url: String) throws(ManagementError) -> String {
        var root = url.trimmingSpaces()
        while root.hasSuffix("/") { root.removeLast() }
        guard root.utf8.count <= maximumURLLength, isHeaderSafe(root), !root.contains("?"), !root.contains("#") else {
            throw .invalidInput("--base-url must be scheme://host[:port][/prefix] without query or fragment")
        }
        let target: SignedTarget
        do { target = try SignedTarget(url: root) } catch { throw .invalidInput("--base-url: \(error)") }
        let lower = root.lowercased()
        if lower.hasPrefix("http://") {
            let host =
                target.host.hasPrefix("[")
                ? String(target.host.prefix { $0 != "]" }) + "]"
                : String(target.host.prefix { $0 != ":" })
            guard ["127.0.0.1", "localhost", "[::1]"].contains(host) else {
                throw .invalidInput("--base-url must be https:// (plain http:// is allowed only to a loopback host)")
            }
        }
        return root
    }

    /// A URL-unreserved byte: letter, digit, `-`, `_`, `.` or `~`.
    private static func isUnreserved(_ byte: UInt8) -> Bool {
        ASCII.isLetterOrDigit(byte) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
            || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "~")
    }

    private static func isHeaderSafe(_ value: String) -> Bool {
        value.utf8.allSatisfy { $0 >= 0x20 && $0 != 0x7F }
    }
}

extension String {
    /// The string without leading and trailing spaces, tabs, CR and LF.
    func trimmingSpaces() -> String {
        String(ASCII.trimmed(self, while: ASCII.isWhitespace))
    }
}
