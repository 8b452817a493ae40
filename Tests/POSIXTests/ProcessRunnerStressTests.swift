import Foundation
import Glibc
import POSIX
import TestSupport
import Testing

/// Many short children watched at once: the load under which libdispatch's epoll backend used to crash when pipe
/// and pidfd sources hung up concurrently. `VIPPS_STRESS_CHILDREN` raises the count for a soak run.
@Suite("ProcessRunner stress")
struct ProcessRunnerStressTests {
    let runner = ProcessRunner()

    /// Children run by default; enough to crash the old per-child Dispatch sources within a few runs.
    static let defaultChildren = 320
    static let concurrency = 16

    /// What one child of the mix does, and how its run must end.
    private enum Kind: CaseIterable {
        case output, stdin, timeout, killed, failing

        func request() -> ProcessRunnerRequest {
            switch self {
            case .output:
                .init(executable: "/bin/sh", arguments: ["-c", "echo out; echo err >&2"], timeout: .seconds(20))
            case .stdin:
                .init(executable: "/bin/cat", stdin: Array("line\n".utf8), timeout: .seconds(20))
            case .timeout:
                .init(executable: "/bin/sleep", arguments: ["5"], timeout: .milliseconds(30))
            case .killed:
                .init(executable: "/bin/sleep", arguments: ["5"], timeout: .seconds(20))
            case .failing:
                .init(executable: "/bin/sh", arguments: ["-c", "echo no >&2; exit 7"], timeout: .seconds(20))
            }
        }

        func matches(_ result: ProcessRunnerResult) -> Bool {
            switch self {
            case .output:
                result.termination == .exited(0) && result.stdout.bytes == Array("out\n".utf8)
                    && result.stderr.bytes == Array("err\n".utf8)
            case .stdin: result.termination == .exited(0) && result.stdout.bytes == Array("line\n".utf8)
            case .timeout: result.termination == .timedOut
            case .killed: result.termination == .killed
            case .failing: result.termination == .exited(7) && result.stderr.bytes == Array("no\n".utf8)
            }
        }
    }

    @Test(
        "hundreds of short children, 16 at a time, with timeouts and kills: every run ends as expected",
        .timeLimit(.minutes(10))
    )
    func manyConcurrentChildren() async throws {
        let total =
            ProcessInfo.processInfo.environment["VIPPS_STRESS_CHILDREN"].flatMap { Int($0) } ?? Self.defaultChildren
        let before = try ExecTestSupport.openPipeAndPidfdCount()
        let mismatches = try await withThrowingTaskGroup(of: Int.self) { group in
            for worker in 0..<Self.concurrency {
                group.addTask {
                    var mismatches = 0
                    for index in stride(from: worker, to: total, by: Self.concurrency) {
                        let kind = Kind.allCases[index % Kind.allCases.count]
                        let result = try await run(kind)
                        if !kind.matches(result) {
                            mismatches += 1
                            Issue.record("\(kind) ended with \(result.termination)")
                        }
                    }
                    return mismatches
                }
            }
            return try await group.reduce(0, +)
        }
        #expect(mismatches == 0)
        // Other suites run in parallel and open descriptors of their own: only pipes and pidfds are counted (what a
        // run holds; a full run holds dozens of sockets and journal files), and the pipes of their children are
        // counted too, so the count is taken again while it is high, for up to 10 s; one descriptor leaked per run
        // here would be >= 320.
        let noLeak = try await eventually(within: 10, every: 0.05) {
            try ExecTestSupport.openPipeAndPidfdCount() - before < 100
        }
        let after = try ExecTestSupport.openPipeAndPidfdCount()
        #expect(noLeak, "open pipes and pidfds: \(after), \(before) before the runs")
    }

    private func run(_ kind: Kind) async throws -> ProcessRunnerResult {
        try await withCheckedThrowingContinuation { continuation in
            do {
                let handle = try runner.run(kind.request()) { continuation.resume(returning: $0) }
                if kind == .killed {
                    DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(5)) { handle.kill() }
                }
            } catch {
                continuation.resume(throwing: error)
            }
        }
    }
}
