import FoundationEssentials
import VippsWebhooks

/// Where one registration secret comes from.
public enum SecretSource: Sendable, Equatable {
    /// A file; one trailing newline is not part of the secret.
    case file(String)
    /// An environment variable.
    case environment(String)
    /// A systemd credential: the file `$CREDENTIALS_DIRECTORY/NAME` (`LoadCredential=` in the unit).
    case credential(String)
    /// Written in the configuration itself (warned about).
    case inline(String)
}

/// Reads secrets from their sources. Messages name the source, never the value.
public struct SecretResolver: Sendable {
    /// A secret and an optional concern about how it is stored.
    public struct Resolved: Sendable {
        public var secret: WebhookSecret
        public var warning: String?
    }

    /// Why a secret could not be read.
    public struct Failure: Error, Sendable {
        public var message: String
    }

    /// The environment variables to read (`secret_env`, `CREDENTIALS_DIRECTORY`).
    public var environment: [String: String]

    /// A resolver over `environment` (the process environment by default).
    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.environment = environment
    }

    /// Reads the secret of `source`.
    public func resolve(_ source: SecretSource) -> Swift.Result<Resolved, Failure> {
        switch source {
        case .file(let path):
            return readFile(path)
        case .credential(let name):
            guard !name.contains("/"), !name.isEmpty, name != ".", name != ".." else {
                return .failure(Failure(message: "a credential name cannot contain '/'"))
            }
            guard let directory = environment["CREDENTIALS_DIRECTORY"], !directory.isEmpty else {
                return .failure(
                    Failure(
                        message:
                            "CREDENTIALS_DIRECTORY is not set (systemd sets it from LoadCredential=; outside systemd "
                            + "give check-config --credentials-directory /etc/vipps-webhookd/credentials)"
                    )
                )
            }
            return readFile(directory + "/" + name)
        case .environment(let name):
            guard let value = environment[name] else {
                return .failure(Failure(message: "environment variable \(name) is not set"))
            }
            return checked(WebhookSecret(value), warning: nil, origin: "environment variable \(name)")
        case .inline(let value):
            return checked(WebhookSecret(value), warning: nil, origin: "the inline secret")
        }
    }

    private func readFile(_ path: String) -> Swift.Result<Resolved, Failure> {
        guard let data = FileManager.default.contents(atPath: path) else {
            let exists = FileManager.default.fileExists(atPath: path)
            return .failure(Failure(message: exists ? "cannot read secret file \(path)" : "no secret file \(path)"))
        }
        var warning: String?
        if let attributes = try? FileManager.default.attributesOfItem(atPath: path),
            let mode = attributes[.posixPermissions] as? Int, mode & 0o077 != 0
        {
            warning = "secret file \(path) is readable by others (mode \(String(mode, radix: 8))); use chmod 600"
        }
        return checked(WebhookSecret(fileContents: Array(data)), warning: warning, origin: "secret file \(path)")
    }

    private func checked(
        _ secret: WebhookSecret,
        warning: String?,
        origin: String
    ) -> Swift.Result<Resolved, Failure> {
        guard !secret.isEmpty else { return .failure(Failure(message: "\(origin) is empty")) }
        return .success(Resolved(secret: secret, warning: warning))
    }
}
