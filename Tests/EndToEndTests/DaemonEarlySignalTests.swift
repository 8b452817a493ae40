import Foundation
import TestSupport
import Testing

/// A SIGTERM sent while the daemon is still starting (signals blocked, handlers not yet installed) stops it: it is
/// never swallowed, whatever the moment.
@Suite("early SIGTERM")
struct DaemonEarlySignalTests {
    @Test("SIGTERM at 0 to 200 ms after launch: the daemon exits (0, or 143 before its handlers exist) within 10 s")
    func earlySigterm() throws {
        for delay in stride(from: UInt32(0), through: 200, by: 8) {
            let directory = TemporaryDirectory()
            try directory.write(files: Fixture.secretFiles)
            let config = try directory.write("config.yaml", directory.expandingDIR(Fixture.basicConfig()))
            let daemon = try DaemonProcess(
                arguments: ["serve", "--config", config],
                workingDirectory: directory.url,
                waitUntilReady: false
            )
            usleep(delay * 1000)
            daemon.signal(SIGTERM)
            let status: Int32
            do {
                status = try daemon.waitForExit(timeout: 10)
            } catch {
                Issue.record("SIGTERM after \(delay) ms: \(error)")
                return
            }
            #expect(status == 0 || status == 143, "delay \(delay) ms: exit \(status)\n\(daemon.log)")
        }
    }
}
