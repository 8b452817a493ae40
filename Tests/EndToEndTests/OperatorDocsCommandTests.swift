import Foundation
import TestSupport
import Testing

/// The commands the README and README.Debian give an operator, run as written against the files the package installs,
/// and the dead-letter name the help shows.
@Suite("operator docs: their commands work as written")
struct OperatorDocsCommandTests {
    private static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
    }

    /// The first `vipps-webhookd check-config …` command after `heading` in `file`, its `\` continuation lines joined.
    private static func checkConfigLine(in file: String, after heading: String) throws -> String {
        let text = try String(contentsOfFile: repositoryRoot.appendingPathComponent(file).path, encoding: .utf8)
        let start = try #require(text.range(of: heading), "no \(heading) in \(file)")
        let lines = text[start.upperBound...].split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        var index = try #require(
            lines.firstIndex { $0.hasPrefix("vipps-webhookd check-config") },
            "no check-config line after \(heading) in \(file)"
        )
        var command = lines[index]
        while command.hasSuffix("\\"), index + 1 < lines.count {
            index += 1
            command = command.dropLast().trimmingCharacters(in: .whitespaces) + " " + lines[index]
        }
        return command
    }

    /// Runs `line` (README text, /etc paths mapped to a temporary /etc) on the example config with every secret the
    /// example names already in place in `<etc>/credentials`, from a root shell (no CREDENTIALS_DIRECTORY).
    private static func runAsOperator(_ line: String) throws -> ChildProcess.Output {
        let etc = TemporaryDirectory()
        let example = try String(
            contentsOfFile: repositoryRoot.appendingPathComponent("config/config.example.yaml").path,
            encoding: .utf8
        )
        try etc.write("config.yaml", example, mode: 0o644)
        try FileManager.default.createDirectory(atPath: etc.path + "/credentials", withIntermediateDirectories: false)
        for name in ["epayment.secret", "recurring.secret", "recurring-next.secret"] {
            try etc.write("credentials/\(name)", "example-secret\n")
        }
        let arguments = line.replacingOccurrences(of: "/etc/vipps-webhookd", with: etc.path)
            .split(separator: "#").first.map(String.init)!
            .split(separator: " ").map(String.init).dropFirst()  // "vipps-webhookd"
        return try ChildProcess.run(Array(arguments), environment: ["PATH": "/usr/bin:/bin"])
    }

    @Test("README 'Install': its check-config command passes on the installed example once the secrets are in place")
    func readmeInstallCheckConfig() throws {
        let line = try Self.checkConfigLine(in: "README.md", after: "## Install (Debian 12, Ubuntu 24.04)")
        let output = try Self.runAsOperator(line)
        #expect(output.status == 0, "README runs `\(line)`; it answers:\n\(output.stderr)")
    }

    @Test("README.Debian: its check-config command passes on the example once the secrets are in place")
    func readmeDebianCheckConfig() throws {
        let line = try Self.checkConfigLine(in: "scripts/debian/README.Debian", after: "1. Write the configuration")
        let output = try Self.runAsOperator(line)
        #expect(output.status == 0, "README.Debian runs `\(line)`; it answers:\n\(output.stderr)")
    }

    @Test("`dead-letters retry --help` shows a dead-letter name of the form the store writes (and the README shows)")
    func deadLetterNameInHelp() throws {
        let help = try ChildProcess.run(["dead-letters", "retry", "--help"]).stdout
        let example = try #require(
            help.split(whereSeparator: { " \n".contains($0) }).first { $0.hasPrefix("0000") && $0.contains(".json") }
        )
        let name = example.hasSuffix(".") ? String(example.dropLast()) : String(example)
        // DeadLetterStore.fileName: <20-digit sequence>-<8 hex of the event id's SHA-256>-<sink>.json
        #expect(
            name.wholeMatch(of: /[0-9]{20}-[0-9a-f]{8}-[A-Za-z0-9._-]+\.json/) != nil,
            "help shows \(name); the store writes e.g. 00000000000000000042-3f9a0c1e-fulfil.json (README)"
        )
    }
}
