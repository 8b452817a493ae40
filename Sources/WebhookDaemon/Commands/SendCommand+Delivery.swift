import Foundation
import VippsCrypto
import VippsManagement
import VippsWebhooks

extension SendCommand {
    /// One event to send: its body, signed headers and how to reach the receiver. Built without I/O.
    struct Delivery {
        /// The event type (from the sample, or decoded from a given body).
        var eventType: String
        /// The `webhook-id` header.
        var webhookID: String
        /// Header fields in the order sent, as a real delivery has them (spec §1), without `Content-Length`.
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

        /// The whole HTTP/1.1 request for the socket client.
        func serialized(pathAndQuery: String) -> [UInt8] {
            var head = "POST \(pathAndQuery) HTTP/1.1\r\n"
            for (name, value) in headers { head += "\(name): \(value)\r\n" }
            head += "Content-Length: \(body.count)\r\nConnection: close\r\n\r\n"
            return Array(head.utf8) + body
        }

        /// The same request for URLSession (which sets `Host` and `Content-Length` itself).
        func managementRequest(url: String) -> ManagementRequest {
            ManagementRequest(
                method: "POST",
                url: url,
                headers: headers.filter { $0.name != "Host" },
                body: body
            )
        }
    }
}
