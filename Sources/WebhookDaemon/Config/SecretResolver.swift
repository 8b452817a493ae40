import FoundationEssentials
import Glibc
import HTTP1
import POSIX
import VippsCrypto
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

/// Reads secrets from their sources. Messages name the source, never the value: a path, variable or credential name
/// that may be a secret written in its place (`secrets:` and `secret_file:` take paths, `secret_env:` a name,
/// `secret_credential:` a credential's name) is not shown.
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
    /// Whether secrets are read. Commands that verify no signature (`webhooks status`, `reconcile`) do not read the
    /// endpoints' secrets, which a shell may not reach (`secret_credential` outside systemd, a file of the daemon's
    /// user): each then stands for a random secret no signature matches.
    public var readsSecrets: Bool

    /// A resolver over `environment` (the process environment by default).
    public init(environment: [String: String] = ProcessInfo.processInfo.environment, readsSecrets: Bool = true) {
        self.environment = environment
        self.readsSecrets = readsSecrets
    }

    /// Reads the secret of `source`.
    public func resolve(_ source: SecretSource) -> Swift.Result<Resolved, Failure> {
        guard readsSecrets else {
            return .success(Resolved(secret: WebhookSecret(fileContents: SecureRandom.bytes(32)), warning: nil))
        }
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
                            + "give --credentials-directory /etc/vipps-webhookd/credentials)"
                    )
                )
            }
            return readFile(directory + "/" + name, shownWhenUnreadable: Self.shown(credential: name, in: directory))
        case .environment(let name):
            guard let value = environment[name] else {
                return .failure(Failure(message: "environment variable \(Self.shown(variable: name)) is not set"))
            }
            return checked(WebhookSecret(value), warning: nil, origin: "environment variable \(name)")
        case .inline(let value):
            return checked(WebhookSecret(value), warning: nil, origin: "the inline secret")
        }
    }

    /// Largest secret file read (a secret is a few dozen bytes).
    static let maximumFileBytes = 64 * 1024

    /// Reads the secret file `path` (through a symlink: its target's type, size and mode count): a regular file of at
    /// most ``maximumFileBytes``, warned about when others may read it. When `stat` fails, the message names the file
    /// as `shownWhenUnreadable` (by default ``shown(path:)``): the path given may be a secret written in its place.
    private func readFile(
        _ path: String,
        shownWhenUnreadable: @autoclosure () -> String? = nil
    ) -> Swift.Result<Resolved, Failure> {
        var info = stat()
        guard stat(path, &info) == 0 else {
            let failure = errno
            let shown = shownWhenUnreadable() ?? Self.shown(path: path)
            if failure == ENOENT { return .failure(Failure(message: "no secret file \(shown)")) }
            return .failure(Failure(message: "cannot read secret file \(shown): \(String(cString: strerror(failure)))"))
        }
        guard info.st_mode & S_IFMT == S_IFREG else {
            return .failure(Failure(message: "secret file \(path) is not a regular file"))
        }
        guard let bytes = try? Syscall.readFile(path, limit: Self.maximumFileBytes + 1) else {
            return .failure(Failure(message: "cannot read secret file \(path)"))
        }
        guard bytes.count <= Self.maximumFileBytes else {
            return .failure(Failure(message: "secret file \(path) is over \(Self.maximumFileBytes) bytes"))
        }
        let mode = Int(info.st_mode & 0o777)
        let warning =
            mode & 0o007 != 0
            ? "secret file \(path) is readable by others (mode \(String(mode, radix: 8))); use chmod 600" : nil
        return checked(WebhookSecret(fileContents: bytes), warning: warning, origin: "secret file \(path)")
    }

    /// `path` (of a secret file that is not there) as a message may show it: only an absolute path whose directory
    /// exists, other than `/`; anything else may be a secret written where a path belongs.
    static func shown(path: String) -> String {
        var info = stat()
        let directory = Syscall.parentDirectory(of: path)
        guard path.hasPrefix("/"), directory != "/", stat(directory, &info) == 0 else {
            return
                "at the path given (not shown: no such directory either, and it may be a secret; a path belongs there)"
        }
        return path
    }

    /// The path of credential `name` (not in `directory`) as a message may show it: only for a name shaped as a file
    /// name (`epayment.secret`: safe characters, at most 64, with an extension); anything else may be a secret written
    /// where a name belongs.
    static func shown(credential name: String, in directory: String) -> String {
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        let fileShaped =
            name.utf8.count <= 64 && parts.count >= 2
            && parts.allSatisfy { part in
                !part.isEmpty
                    && part.utf8.allSatisfy {
                        ASCII.isLetterOrDigit($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_")
                    }
            }
        return fileShaped
            ? "\(directory)/\(name)"
            : "in \(directory) under the name given (not shown: not a file name such as epayment.secret, and it may "
                + "be a secret written where a name belongs)"
    }

    /// `name` (of an environment variable that is not set) as a message may show it: only a conventional name
    /// (capitals, digits and `_`, at most 64); anything else may be a secret written where a name belongs.
    static func shown(variable name: String) -> String {
        let conventional =
            (1...64).contains(name.utf8.count) && name.utf8.first.map { !(0x30...0x39).contains($0) } == true
            && name.utf8.allSatisfy { (0x41...0x5A).contains($0) || (0x30...0x39).contains($0) || $0 == 0x5F }
        return conventional
            ? name : "named there (not shown: not an environment variable's name, and it may be a secret)"
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
