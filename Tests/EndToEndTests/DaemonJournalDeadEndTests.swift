import Foundation
import Glibc
import TestSupport
import Testing

/// A journal that can no longer be written nor cut back (here: its segment made immutable under the running daemon,
/// so the write and its undo both fail) is a visible dead end: webhooks get 503, `/healthz` 503, the systemd watchdog
/// is no longer fed, and an error line says why.
@Suite("daemon journal dead end")
struct DaemonJournalDeadEndTests {
    static var canMakeFilesImmutable: Bool {
        getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/chattr")
    }

    static func chattr(_ flag: String, _ path: String) -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/chattr")
        process.arguments = [flag, path]
        guard (try? process.run()) != nil else { return -1 }
        process.waitUntilExit()
        return process.terminationStatus
    }

    @Test(.enabled(if: canMakeFilesImmutable, "needs root and chattr to make the journal segment immutable"))
    func journalThatCannotBeCutBack() throws {
        let directory = TemporaryDirectory()
        let receiver = try NotifyReceiver(path: directory.path + "/notify.sock")
        let harness = try DaemonHarness(
            environment: ["NOTIFY_SOCKET": receiver.path, "WATCHDOG_USEC": "200000"],
            directory: directory
        )
        #expect(try harness.send(Fixture.payment(), webhookID: "wh-before").status == 200)
        #expect(receiver.waitFor("WATCHDOG=1"), "the watchdog is fed while the journal works")

        let journal = harness.stateDir + "/journal"
        let segment = try #require(
            try FileManager.default.contentsOfDirectory(atPath: journal).filter { $0.hasPrefix("segment-") }.max()
        )
        #expect(Self.chattr("+i", journal + "/" + segment) == 0)
        defer { _ = Self.chattr("-i", journal + "/" + segment) }

        #expect(try harness.send(Fixture.payment(), webhookID: "wh-during").status == 503)
        try waitUntil("dead end logged", log: harness.daemon.log) {
            harness.daemon.logRecords.contains { ($0["msg"] as? String)?.hasPrefix("journal dead end") == true }
        }
        let line = try #require(
            harness.daemon.logRecords.first { ($0["msg"] as? String)?.hasPrefix("journal dead end") == true }
        )
        #expect(line["level"] as? String == "critical")
        #expect("\(line)".contains("Operation not permitted"), "says why: \(line)")
        let health = try harness.get("/healthz")
        #expect(health.status == 503)
        #expect(health.text.contains("failed"))
        #expect(try harness.send(Fixture.payment(), webhookID: "wh-after").status == 503, "stays refused")

        receiver.drain()
        #expect(!receiver.waitFor("WATCHDOG=1", timeout: 0.6), "no ping for three watchdog periods")
        #expect(try harness.get("/healthz").status == 503, "still failed (no recovery without a restart)")
    }
}

/// A bound AF_UNIX datagram socket standing in for systemd's notify socket.
private final class NotifyReceiver {
    let path: String
    private let fd: Int32

    init(path: String) throws {
        self.path = path
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let name = Array(path.utf8) + [0]
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: name) }
        let length = socklen_t(MemoryLayout<sockaddr_un>.offset(of: \.sun_path)! + name.count)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard fd >= 0, bound == 0 else { throw POSIXError(.EADDRNOTAVAIL) }
    }

    deinit {
        close(fd)
    }

    /// Whether a datagram containing `text` arrives within `timeout` seconds.
    func waitFor(_ text: String, timeout: Double = 5) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&entry, 1, 50) == 1 else { continue }
            if receive().contains(text) { return true }
        }
        return false
    }

    /// Reads every datagram already queued.
    func drain() {
        var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        while poll(&entry, 1, 0) == 1 { _ = receive() }
    }

    private func receive() -> String {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        return count > 0 ? String(decoding: buffer[..<count], as: UTF8.self) : ""
    }
}
