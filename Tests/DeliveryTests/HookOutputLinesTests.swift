import POSIX
import Testing

@testable import Delivery

@Suite("Hook output lines for the log")
struct HookOutputLinesTests {
    private func output(_ text: String, discarded: Int = 0) -> ProcessRunnerResult.Output {
        ProcessRunnerResult.Output(bytes: Array(text.utf8), discardedCount: discarded)
    }

    @Test("one entry per line; CR dropped, empty lines skipped, a last line without newline kept")
    func splitsLines() {
        let lines = HookOutputLines(output("first\r\n\nsecond\nno newline"))
        #expect(lines.lines == ["first", "second", "no newline"])
        #expect(!lines.truncated)
    }

    @Test("the line cap counts what is left out")
    func lineCap() {
        let text = (1...60).map { "line \($0)" }.joined(separator: "\n")
        let lines = HookOutputLines(output(text), lineLimit: 50, byteLimit: 1 << 20)
        #expect(lines.lines.count == 50)
        #expect(lines.lines.last == "line 50")
        #expect(lines.omittedLines == 10)
        #expect(lines.omittedBytes == (51...60).map { "line \($0)".utf8.count }.reduce(0, +))
        #expect(lines.truncated)
    }

    @Test("the byte cap cuts the line that crosses it and counts the rest, plus what the runner discarded")
    func byteCap() {
        let lines = HookOutputLines(output("abcdef\nghij\nklm", discarded: 100), lineLimit: 50, byteLimit: 8)
        #expect(lines.lines == ["abcdef", "gh"])
        #expect(lines.omittedLines == 1)
        #expect(lines.omittedBytes == 2 + 3 + 100)
    }

    @Test("nothing written, nothing logged; only discarded bytes still count as truncation")
    func empty() {
        #expect(HookOutputLines(output("")).lines.isEmpty)
        #expect(!HookOutputLines(output("\n\n")).truncated)
        #expect(HookOutputLines(output("", discarded: 5)).truncated)
    }
}
