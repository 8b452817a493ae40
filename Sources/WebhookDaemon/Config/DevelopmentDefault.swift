import Delivery
import FoundationEssentials
import VippsCrypto
import VippsWebhooks

/// The embedded development default `serve` runs on when there is no configuration file: `127.0.0.1:8080`, one
/// endpoint `/vipps/webhooks` routing every event to the file sink `./var/events.jsonl`, state in `./var/state`.
///
/// The secret comes from `VIPPS_WEBHOOK_SECRET`; without it one is generated once, kept in
/// `./var/dev-webhook.secret` (mode 0600) so restarts keep it, and printed when it is made.
enum DevelopmentDefault {
    static let endpointPath = "/vipps/webhooks"
    static let secretFile = "./var/dev-webhook.secret"
    static let stateDirectory = "./var/state"

    /// The configuration and lines to show the user (how the secret was obtained, how to send a test event).
    struct Setup {
        var configuration: DaemonConfiguration
        var notices: [String]
    }

    static func make(environment: [String: String]) throws -> Setup {
        var configuration = DaemonConfiguration()
        configuration.stateDirectory = stateDirectory
        configuration.sinks = [.init(name: "events", kind: .file(path: "./var/events.jsonl"))]
        var notices = ["no configuration file: running on the embedded development default"]
        let secret: WebhookSecret
        var secretHint: String
        if let value = environment["VIPPS_WEBHOOK_SECRET"], !value.isEmpty {
            secret = WebhookSecret(value)
            secretHint = "--secret-env VIPPS_WEBHOOK_SECRET"
            notices.append("secret: from VIPPS_WEBHOOK_SECRET")
        } else if let data = FileManager.default.contents(atPath: secretFile), !data.isEmpty {
            secret = WebhookSecret(fileContents: Array(data))
            secretHint = "--secret-file \(secretFile)"
            notices.append("secret: from \(secretFile) (generated earlier; set VIPPS_WEBHOOK_SECRET to use your own)")
        } else {
            let text = Base64.encode(SecureRandom.bytes(32))
            try FileManager.default.createDirectory(atPath: "./var", withIntermediateDirectories: true)
            guard
                FileManager.default.createFile(
                    atPath: secretFile,
                    contents: Data((text + "\n").utf8),
                    attributes: [.posixPermissions: 0o600]
                )
            else { throw DevelopmentDefaultError(message: "cannot write \(secretFile)") }
            secret = WebhookSecret(text)
            secretHint = "--secret-file \(secretFile)"
            notices.append("secret: generated and saved to \(secretFile) (shown once): \(text)")
        }
        configuration.endpoints = [
            .init(
                path: endpointPath,
                signedTarget: nil,
                secrets: [secret],
                routes: [Route(events: [EventPattern("*")], sinks: ["events"])]
            )
        ]
        notices.append("events are appended to ./var/events.jsonl; state is kept in ./var/state")
        notices.append(
            "send a signed test event: vipps-webhookd send --url http://127.0.0.1:8080\(endpointPath) "
                + "\(secretHint) --event epayments.payment.captured.v1"
        )
        return Setup(configuration: configuration, notices: notices)
    }
}

/// The development default could not be set up.
struct DevelopmentDefaultError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
