import ArgumentParser
import FoundationEssentials
import Glibc
import POSIX
import VippsWebhooks

/// `vipps-webhookd sign`: prints the three signature headers Vipps would send for a body and URL.
struct SignCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sign",
        abstract: "Print the x-ms-date, x-ms-content-sha256 and authorization headers for a body.",
        discussion: "The body is read from --body-file, or from standard input byte for byte."
    )

    @OptionGroup var secret: SecretOptions

    @Option(help: "The registered URL the signature covers (its host and path+query).")
    var url: String

    @Option(help: "HTTP-date to sign, e.g. 'Mon, 31 Mar 2025 10:15:00 GMT' (default: now).")
    var date: String?

    @Option(name: .customLong("body-file"), help: "File holding the exact body (default: standard input).")
    var bodyFile: String?

    func run() throws {
        let target: SignedTarget
        do { target = try SignedTarget(url: url) } catch { throw ValidationError("--url: \(error)") }
        if let date, HTTPDate.parse(date) == nil {
            throw ValidationError("--date is not an HTTP-date (e.g. 'Mon, 31 Mar 2025 10:15:00 GMT'): \(date)")
        }
        let body = try readBody()
        let headers = RequestSigner.sign(
            secret: try secret.load(),
            target: target,
            date: date ?? HTTPDate.format(secondsSince1970: Int64(Date().timeIntervalSince1970)),
            body: body
        )
        print("x-ms-date: \(headers.date)")
        print("x-ms-content-sha256: \(headers.contentHash)")
        print("authorization: \(headers.authorization)")
    }

    private func readBody() throws -> [UInt8] {
        if let bodyFile {
            guard let data = FileManager.default.contents(atPath: bodyFile) else {
                throw CommandFailure("cannot read body file \(bodyFile)")
            }
            return Array(data)
        }
        do {
            return try Syscall.readAll(STDIN_FILENO, detail: "standard input")
        } catch {
            throw CommandFailure("cannot read standard input: \(systemErrorMessage(error.errno))")
        }
    }
}
