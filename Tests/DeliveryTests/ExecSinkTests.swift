import Delivery
import EventStore
import Foundation
import Glibc
import Logging
import POSIX
import TestSupport
import Testing

@Suite("ExecSink")
struct ExecSinkTests {
    static let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
    static let event = StoredEvent(
        sequence: 7,
        id: "evt-1",
        type: "epayments.payment.captured.v1",
        endpoint: "/vipps/epayment",
        receivedAtMillis: 1_700_000_000_000,
        body: Array(#"{"reference":"order-1","amount":49900}"#.utf8)
    )

    static func context(_ fields: [String: String], variables: [String: String] = [:]) -> ExecSinkContext {
        ExecSinkContext(fields: { fields[$0] }, variables: variables, line: Array(#"{"id":"evt-1"}"#.utf8))
    }

    @Test("placeholders fill whole and partial arguments; braces escape; missing and NUL values are empty")
    func templateRendering() throws {
        let template = try ExecSinkTemplate([
            "/bin/hook", "--ref={reference}", "{amount}", "{{literal}}", "{missing}", "{nul}", "plain",
        ])
        #expect(template.fieldNames == ["reference", "amount", "missing", "nul"])
        let rendered = template.render { ["reference": "order-1", "amount": "49900", "nul": "a\u{0}b"][$0] }
        #expect(rendered == ["--ref=order-1", "49900", "{literal}", "", "", "plain"])
    }

    @Test("invalid templates are rejected with a clear error")
    func templateErrors() {
        #expect(throws: ExecSinkTemplate.ParseError.empty) { try ExecSinkTemplate([]) }
        #expect(throws: ExecSinkTemplate.ParseError.placeholderInProgram) { try ExecSinkTemplate(["/bin/{x}"]) }
        for bad in ["{", "{name", "}", "a}b", "{}", "{a{b}"] {
            #expect(throws: ExecSinkTemplate.ParseError.malformed(index: 1, argument: bad)) {
                try ExecSinkTemplate(["/bin/true", bad])
            }
        }
    }

    /// A sink whose hook prints its environment.
    static func environmentSink() throws -> ExecSink {
        try ExecSink(
            configuration: .init(
                name: "env",
                argv: ["/usr/bin/env"],
                timeout: .seconds(5),
                maxAttempts: 1,
                concurrency: 1
            ),
            runner: ProcessRunner(),
            logger: logger
        )
    }

    @Test("the hook's environment is exactly PATH, the event variables and the given VIPPS_* ones")
    func exactEnvironment() async throws {
        let sink = try Self.environmentSink()
        let context = Self.context(
            [:],
            variables: [
                "VIPPS_MSN": "123456", "VIPPS_REFERENCE": "order-1", "LD_PRELOAD": "/evil.so", "VIPPS_BAD": "a\u{0}b",
                "VIPPS_EVENT_ID": "spoofed", "vipps_lower": "x",
            ]
        )
        // Run the very request the sink builds, through the runner, to see the child's real environment.
        let result = try await ExecTestSupport.run(ProcessRunner(), sink.request(for: Self.event, context: context))
        let lines = String(decoding: result.stdout.bytes, as: UTF8.self).split(separator: "\n").sorted()
        #expect(
            lines == [
                "PATH=/usr/local/bin:/usr/bin:/bin", "VIPPS_ENDPOINT=/vipps/epayment", "VIPPS_EVENT_ID=evt-1",
                "VIPPS_EVENT_SOURCE=webhook", "VIPPS_EVENT_TYPE=epayments.payment.captured.v1", "VIPPS_MSN=123456",
                "VIPPS_REFERENCE=order-1",
            ]
        )
    }

    @Test("an event journaled under an earlier id gives it as VIPPS_LEGACY_EVENT_ID; no field can supply one")
    func legacyEventID() throws {
        let sink = try Self.environmentSink()
        let spoofing = Self.context([:], variables: ["VIPPS_LEGACY_EVENT_ID": "spoofed"])
        #expect(sink.environment(for: Self.event, context: spoofing)["VIPPS_LEGACY_EVENT_ID"] == nil)
        var migrated = Self.event
        migrated.legacyID = "0f8c2a54-webhook-id"
        let environment = sink.environment(for: migrated, context: spoofing)
        #expect(environment["VIPPS_LEGACY_EVENT_ID"] == "0f8c2a54-webhook-id")
        #expect(environment["VIPPS_EVENT_ID"] == "evt-1")
        migrated.legacyID = migrated.id
        #expect(sink.environment(for: migrated, context: Self.context([:]))["VIPPS_LEGACY_EVENT_ID"] == nil)
    }

    @Test("shell metacharacters in a field arrive byte for byte as one argument and run nothing; stdin is the line")
    func noShellInjection() async throws {
        let temporary = TemporaryDirectory(prefix: "vipps-exec-test")
        defer { temporary.remove() }
        let dir = temporary.path
        let hook = try ExecTestSupport.script("printf '%s\\0' \"$@\" > \(dir)/args\ncat > \(dir)/stdin", in: dir)
        let sink = try ExecSink(
            configuration: .init(
                name: "args",
                argv: [hook, "--ref={reference}", "{amount}"],
                timeout: .seconds(5),
                maxAttempts: 1,
                concurrency: 1
            ),
            runner: ProcessRunner(),
            logger: Self.logger
        )
        let hostile = "$(touch \(dir)/p1)`touch \(dir)/p2`; touch \(dir)/p3\n| touch \(dir)/p4 && 'q' \"dq\" * $HOME"
        let failure: ExecSinkFailure? = await withCheckedContinuation { continuation in
            sink.attempt(Self.event, context: Self.context(["reference": hostile, "amount": "49900"]), attempt: 1) {
                continuation.resume(returning: $0)
            }
        }
        #expect(failure == nil)
        let args = try [UInt8](Data(contentsOf: URL(fileURLWithPath: "\(dir)/args")))
        #expect(args == Array("--ref=\(hostile)\u{0}49900\u{0}".utf8))
        let stdin = try [UInt8](Data(contentsOf: URL(fileURLWithPath: "\(dir)/stdin")))
        #expect(stdin == Array("{\"id\":\"evt-1\"}\n".utf8))
        for name in ["p1", "p2", "p3", "p4"] {
            #expect(!FileManager.default.fileExists(atPath: "\(dir)/\(name)"))
        }
    }

    @Test("failures carry exit code, timeout or spawn error and the stderr tail")
    func failureKinds() async throws {
        func attempt(_ argv: [String], timeout: Duration = .seconds(5)) async throws -> ExecSinkFailure? {
            let sink = try ExecSink(
                configuration: .init(
                    name: "f",
                    argv: argv,
                    timeout: timeout,
                    maxAttempts: 1,
                    concurrency: 1,
                    terminationGrace: .zero
                ),
                runner: ProcessRunner(),
                logger: Self.logger
            )
            return await withCheckedContinuation { continuation in
                sink.attempt(Self.event, context: Self.context([:]), attempt: 1) { continuation.resume(returning: $0) }
            }
        }
        let exit = try await attempt(["/bin/sh", "-c", "echo boom >&2; exit 7"])
        #expect(exit?.kind == .exit)
        #expect(exit?.exitCode == 7)
        #expect(exit?.stderrTail == "boom\n")
        let timeout = try await attempt(["/bin/sleep", "5"], timeout: .milliseconds(50))
        #expect(timeout?.kind == .timeout)
        let missing = try await attempt(["no-such-hook-anywhere"])
        #expect(missing?.kind == .spawnError)
        #expect(missing?.message.contains("not found") == true)
    }
}
