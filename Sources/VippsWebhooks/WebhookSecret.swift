import VippsCrypto

/// A registration secret: the HMAC key is the UTF-8 bytes of the secret string exactly as the registration returned it
/// (never base64-decoded).
///
/// Its `description` is redacted so that a secret printed by mistake (string interpolation, a log line, a dump)
/// never shows its value.
public struct WebhookSecret: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The HMAC key bytes.
    public let keyBytes: [UInt8]
    /// The key prepared for HMAC-SHA256.
    let hmacKey: HMACKey

    /// A secret from its string form.
    public init(_ secret: String) {
        self.init(keyBytes: Array(secret.utf8))
    }

    private init(keyBytes: [UInt8]) {
        self.keyBytes = keyBytes
        hmacKey = HMACKey(keyBytes)
    }

    /// A secret from the contents of a secret file: one trailing newline (`\n` or `\r\n`) is not part of the secret.
    public init(fileContents: [UInt8]) {
        var bytes = fileContents[...]
        if bytes.last == UInt8(ascii: "\n") {
            bytes = bytes.dropLast()
            if bytes.last == UInt8(ascii: "\r") { bytes = bytes.dropLast() }
        }
        self.init(keyBytes: Array(bytes))
    }

    /// Whether the secret has no bytes (never a valid registration secret).
    public var isEmpty: Bool { keyBytes.isEmpty }

    public var description: String { "<redacted secret>" }
    public var debugDescription: String { description }
}
