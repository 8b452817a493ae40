import ArgumentParser
import FoundationEssentials
import VippsWebhooks

/// `--secret-file F` or `--secret-env NAME`: where a command reads a registration secret from.
struct SecretOptions: ParsableArguments {
    @Option(
        name: .customLong("secret-file"),
        help: "File holding the registration secret (one trailing newline ignored)."
    )
    var secretFile: String?

    @Option(name: .customLong("secret-env"), help: "Environment variable holding the registration secret.")
    var secretEnv: String?

    func validate() throws {
        switch (secretFile, secretEnv) {
        case (nil, nil): throw ValidationError("give --secret-file FILE or --secret-env NAME")
        case (.some, .some): throw ValidationError("give only one of --secret-file and --secret-env")
        default: break
        }
    }

    /// Loads the secret; the error names the source, never the secret.
    func load() throws -> WebhookSecret {
        let secret: WebhookSecret
        if let secretFile {
            guard let data = FileManager.default.contents(atPath: secretFile) else {
                throw CommandFailure("cannot read secret file \(secretFile)")
            }
            secret = WebhookSecret(fileContents: Array(data))
        } else {
            let name = secretEnv ?? ""
            guard let value = ProcessInfo.processInfo.environment[name] else {
                throw CommandFailure("environment variable \(name) is not set")
            }
            secret = WebhookSecret(value)
        }
        guard !secret.isEmpty else { throw CommandFailure("the secret is empty") }
        return secret
    }
}
