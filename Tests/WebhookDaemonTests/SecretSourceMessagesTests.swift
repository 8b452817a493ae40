import Foundation
import Glibc
import TestSupport
import Testing

@testable import WebhookDaemon

/// What configuration problems and warnings say about secrets: never a secret written where a path or name belongs,
/// and a secret file's own type, size and mode (through a symlink).
@Suite struct SecretSourceMessagesTests {
    static let secret = "rotation-s3cr3t-\(UUID().uuidString)"

    private func load(_ secretLines: String) -> ConfigurationLoader.Result {
        let yaml = """
            state_dir: /tmp/state
            public_url: "https://shop.example.com"
            endpoints:
              - path: /a
                \(secretLines)
                routes:
                  - { events: ["*"], sinks: [events] }
            sinks:
              events: { file: /tmp/events.jsonl }
            """
        return ConfigurationLoader(secretResolver: SecretResolver(environment: [:])).load(yaml: yaml, file: "test.yaml")
    }

    private func text(_ result: ConfigurationLoader.Result) -> String {
        (result.problems + result.warnings).map(\.description).joined(separator: "\n")
    }

    @Test("secret values written in secrets: (it lists files) or as secret_env's name are not echoed")
    func valuesWhereAPathOrNameBelongsAreNotEchoed() {
        for lines in [
            "secrets: [\"\(Self.secret)\", \"\(Self.secret)-new\"]", "secret_env: \"\(Self.secret)\"",
            "secret_file: \"/\(Self.secret)\"", "secrets: [{ env: \"\(Self.secret)\" }]",
        ] {
            let result = load(lines)
            #expect(result.configuration == nil)
            #expect(!text(result).contains(Self.secret), "\(text(result))")
        }
    }

    @Test("a missing file in an existing directory, and a conventional variable name, are named")
    func pathsAndNamesAreNamed() {
        #expect(text(load("secret_file: /tmp/no-such.secret")).contains("no secret file /tmp/no-such.secret"))
        #expect(text(load("secret_env: NO_SUCH_VARIABLE")).contains("environment variable NO_SUCH_VARIABLE is not set"))
    }

    @Test("modes through a symlink; group-readable is not readable by others; others-readable is warned about")
    func modes() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let target = directory.path + "/secret.v2"
        #expect(FileManager.default.createFile(atPath: target, contents: Data("abc\n".utf8)))
        let link = directory.path + "/secret"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: target)
        for (mode, warned) in [(0o600, false), (0o640, false), (0o604, true), (0o644, true)] {
            chmod(target, mode_t(mode))
            let result = load("secret_file: \"\(link)\"")
            #expect(result.configuration != nil, "\(result.problems)")
            #expect(text(result).contains("readable by others") == warned, "mode \(String(mode, radix: 8))")
        }
    }

    @Test("a secret file over 64 KiB, or not a regular file (a FIFO), is a problem, not a hang")
    func oversizedAndIrregularFiles() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let big = directory.path + "/big.secret"
        #expect(FileManager.default.createFile(atPath: big, contents: Data(count: 65_537)))
        chmod(big, 0o600)
        #expect(text(load("secret_file: \"\(big)\"")).contains("over 65536 bytes"))
        let fifo = directory.path + "/fifo.secret"
        #expect(mkfifo(fifo, 0o600) == 0)
        #expect(text(load("secret_file: \"\(fifo)\"")).contains("not a regular file"))
    }
}
