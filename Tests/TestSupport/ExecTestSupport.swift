import Foundation
import Glibc
import POSIX

/// Hook scripts, a child-process runner awaited, and probes of descriptors, processes and files: shared by the
/// process-runner tests (POSIXTests) and the exec-sink tests (DeliveryTests). Folders come from ``TemporaryDirectory``.
public enum ExecTestSupport {
    /// Writes an executable `/bin/sh` script with `body` and returns its path.
    public static func script(_ body: String, named name: String = "hook.sh", in directory: String) throws -> String {
        // Written through a close-on-exec descriptor: children spawned meanwhile by parallel tests must not
        // inherit it, or exec of the script fails with ETXTBSY.
        let path = "\(directory)/\(name)"
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o755)
        guard fd >= 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        let bytes = Array(("#!/bin/sh\n" + body + "\n").utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        guard written == bytes.count else { throw POSIXError(.EIO) }
        try waitUntilNotOpenForWriting(path)
        return path
    }

    /// A child spawned by a parallel test between our `open` and `close` still holds the script's open file
    /// description until its own `closefrom`; executing the script meanwhile fails with ETXTBSY. Linux refuses a
    /// read lease while anyone has the file open for writing: wait (bounded) until one is granted.
    private static func waitUntilNotOpenForWriting(_ path: String) throws {
        let setLease: Int32 = 1024  // F_SETLEASE, hidden by Glibc's module
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        defer { close(fd) }
        for _ in 0..<2000 {
            if fcntl(fd, setLease, F_RDLCK) == 0 {
                _ = fcntl(fd, setLease, F_UNLCK)
                return
            }
            guard errno == EAGAIN else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
            usleep(1000)
        }
        throw POSIXError(.ETXTBSY)
    }

    /// Runs `request` and waits for its result.
    public static func run(
        _ runner: ProcessRunner,
        _ request: ProcessRunnerRequest
    ) async throws -> ProcessRunnerResult {
        try await withCheckedThrowingContinuation { continuation in
            do {
                try runner.run(request) { continuation.resume(returning: $0) }
            } catch {
                continuation.resume(throwing: error)
            }
        }
    }

    /// Number of open descriptors of this process.
    public static func openDescriptorCount() throws -> Int {
        try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count
    }

    /// Open pipes and pidfds of this process: what a child process's run holds. Sockets, and the journal files of
    /// stores that tests running in parallel leave open, are left out of the count, so a leak of runs stands out.
    public static func openPipeAndPidfdCount() throws -> Int {
        try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count { name in
            var target = [CChar](repeating: 0, count: 256)
            let length = readlink("/proc/self/fd/" + name, &target, target.count - 1)
            guard length > 0 else { return false }  // closed meanwhile (the directory's own descriptor among them)
            let text = String(decoding: target[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            return text.hasPrefix("pipe:") || text == "anon_inode:[pidfd]"
        }
    }

    /// True when `pid` no longer runs (gone or a zombie), polled for up to `seconds`.
    public static func processEnds(_ pid: Int32, within seconds: Double = 10) async -> Bool {
        await eventually(within: seconds, every: 0.02) {
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return true }
            guard let close = stat.lastIndex(of: ")") else { return false }
            return stat[stat.index(close, offsetBy: 2)] == "Z"
        }
    }

    /// Reads a text file, trimmed, or nil.
    public static func read(_ path: String) -> String? {
        (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Polls until `path` exists with content (hook scripts write it).
    public static func waitForFile(_ path: String, within seconds: Double = 10) async -> String? {
        var text: String?
        _ = await eventually(within: seconds) {
            text = read(path).flatMap { $0.isEmpty ? nil : $0 }
            return text != nil
        }
        return text
    }
}
