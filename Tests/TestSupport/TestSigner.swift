import Foundation
import VippsWebhooks

/// Signs test deliveries with the project's own signer, for the URL the vendor would call.
public enum TestSigner {
    /// The headers of a delivery of `body` signed with `secret` for `url` at `date` (default: now).
    public static func headers(
        secret: String,
        url: String,
        body: [UInt8],
        date: Date = Date(),
        webhookID: String? = nil
    ) throws -> [(String, String)] {
        let target = try SignedTarget(url: url)
        let signed = RequestSigner.sign(
            secret: WebhookSecret(secret),
            target: target,
            date: HTTPDate.format(secondsSince1970: Int64(date.timeIntervalSince1970)),
            body: body
        )
        var headers = [
            ("Content-Type", "application/json"),
            ("x-ms-date", signed.date),
            ("x-ms-content-sha256", signed.contentHash),
            ("Authorization", signed.authorization),
        ]
        if let webhookID { headers.append(("webhook-id", webhookID)) }
        return headers
    }
}
