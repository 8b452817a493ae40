import HTTPClient
import VippsCrypto
import VippsWebhooks

extension SendCommand {
    /// One event to send: its body, signed headers and how to reach the receiver. Built without I/O.
    struct Delivery {
        /// The event type (from the sample, or decoded from a given body).
        var eventType: String
        /// The `webhook-id` header.
        var webhookID: String
        /// Header fields in the order sent, as a real delivery has them, without `Content-Length`.
        var headers: [(name: String, value: String)]
        /// The exact body bytes.
        var body: [UInt8]

        /// `User-Agent` of real deliveries.
        static let userAgent = "Vipps MobilePay/1.0 Webhooks/1.0"

        /// Builds a signed delivery.
        /// - Parameters:
        ///   - body: the body to send byte for byte.
        ///   - eventType: its type, for the output line.
        ///   - secret: the registration secret.
        ///   - target: host and path+query of the registered URL (the signature and `Host` use them).
        ///   - webhookID: the `webhook-id` to send.
        ///   - now: seconds since 1970, for `x-ms-date`.
        init(
            body: [UInt8],
            eventType: String,
            secret: WebhookSecret,
            target: SignedTarget,
            webhookID: String,
            now: Int64
        ) {
            let signed = RequestSigner.sign(
                secret: secret,
                target: target,
                date: HTTPDate.format(secondsSince1970: now),
                body: body
            )
            self.eventType = eventType
            self.webhookID = webhookID
            self.body = body
            headers = [
                ("Host", target.host), ("Content-Type", "application/json; charset=utf-8"),
                ("User-Agent", Self.userAgent), ("x-ms-date", signed.date),
                ("x-ms-content-sha256", signed.contentHash), ("Authorization", signed.authorization),
                ("x-vipps-authorization", signed.authorization), ("webhook-id", webhookID),
            ]
        }

        /// The POST for the HTTP client (which adds `Content-Length` and `Connection: close`).
        func request(url: ClientURL) -> HTTPClientRequest {
            HTTPClientRequest(method: "POST", url: url, headers: headers, body: body)
        }
    }
}
