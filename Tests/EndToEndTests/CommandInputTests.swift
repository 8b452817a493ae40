import Foundation
import HTTPServer
import TestSupport
import Testing

/// The commands' own file and terminal input and output (body files, credentials files, the `send` summary), run as
/// real processes: what they read is bounded the same as before Foundation was dropped, and what they print is the
/// same text.
@Suite("command input and output")
struct CommandInputTests {
    static let secret = "command-input-secret"

    @Test("send: a URL with blanks around it is used trimmed; the summary has 3 and 1 decimals")
    func summaryAndTrimmedURL() throws {
        let receiver = try RecordingReceiver()
        defer { receiver.stop() }
        let out = try ChildProcess.run(
            [
                "send", "--secret-env", "E2E_SECRET", "--url", " \thttp://127.0.0.1:\(receiver.port)/hook \t",
                "--event", "epayments.payment.captured.v1", "--count", "3",
            ],
            environment: ["E2E_SECRET": Self.secret]
        )
        #expect(out.status == 0, "\(out.stdout)\(out.stderr)")
        #expect(receiver.requests.count == 3)
        #expect(receiver.requests.allSatisfy { $0.target == "/hook" })
        let summary = try #require(out.stdout.split(separator: "\n").last.map(String.init))
        let pattern = #/sent 3, 2xx 3, non-2xx 0, errors 0, elapsed [0-9]+\.[0-9]{3} s, [0-9]+\.[0-9] req/s/#
        #expect(summary.wholeMatch(of: pattern) != nil, "\(summary)")
    }

    @Test("send --body-file: a file of exactly 1 MiB is read and sent, one byte more is refused, a missing one named")
    func bodyFileBound() throws {
        let receiver = try RecordingReceiver()
        defer { receiver.stop() }
        let dir = TemporaryDirectory()
        let limit = 1 << 20
        let frame = #"{"pad":""}"#
        let atLimit = try dir.write(
            "limit.json",
            #"{"pad":""# + String(repeating: "x", count: limit - frame.count) + #""}"#
        )
        let overLimit = try dir.write("over.json", String(repeating: " ", count: limit + 1))
        func send(_ file: String) throws -> ChildProcess.Output {
            try ChildProcess.run(
                [
                    "send", "--secret-env", "E2E_SECRET", "--url", "http://127.0.0.1:\(receiver.port)/hook",
                    "--body-file", file,
                ],
                environment: ["E2E_SECRET": Self.secret]
            )
        }
        // The receiver's 64 KiB body limit answers 413: the whole file was read and went out.
        let sent = try send(atLimit)
        #expect(!sent.stderr.contains("is over"), "\(sent.stderr)")
        #expect(sent.stdout.contains("413"), "\(sent.stdout)\(sent.stderr)")

        let refused = try send(overLimit)
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("body file \(overLimit) is over \(limit) bytes"), "\(refused.stderr)")

        let missing = try send(dir.path + "/missing.json")
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("cannot read body file \(dir.path)/missing.json"), "\(missing.stderr)")
        #expect(receiver.requests.isEmpty)
    }

    @Test("webhooks --credentials: a file over 64 KiB and a missing file are refused before any call")
    func credentialsFileBound() throws {
        let fake = try FakeVippsAPI()
        defer { fake.stop() }
        let dir = TemporaryDirectory()
        let line = "# padding\n"
        let big = try dir.write("big.env", String(repeating: line, count: 64 * 1024 / line.count + 1))
        func list(_ file: String) throws -> ChildProcess.Output {
            try ChildProcess.run(
                ["webhooks", "list", "--credentials", file, "--base-url", fake.baseURL],
                environment: [:]
            )
        }
        let over = try list(big)
        #expect(over.status != 0)
        #expect(over.stderr.contains("credentials file \(big) is over 65536 bytes"), "\(over.stderr)")
        let missing = try list(dir.path + "/missing.env")
        #expect(missing.status != 0)
        #expect(
            missing.stderr.contains("cannot read credentials file \(dir.path)/missing.env: No such file or directory"),
            "\(missing.stderr)"
        )
        #expect(fake.seen.isEmpty)
    }
}
