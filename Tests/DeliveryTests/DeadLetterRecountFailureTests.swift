import Foundation
import Logging
import Synchronization
import TestSupport
import Testing

@testable import Delivery

/// The coalesced recount behind `vipps_webhookd_dead_letters{sink}` when the folder cannot be read: the error is
/// logged (the gauge keeps its value), not dropped.
@Suite("dead letters: a failed recount")
struct DeadLetterRecountFailureTests {
    final class Capture: LogHandler, Sendable {
        let messages = Mutex<[String]>([])
        var metadata: Logger.Metadata {
            get { [:] }
            set {}
        }
        var logLevel: Logger.Level {
            get { .trace }
            set {}
        }
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { nil }
            set {}
        }
        func log(event: LogEvent) { messages.withLock { $0.append(event.message.description) } }
    }

    @Test("the folder gone: the recount logs an error instead of failing silently")
    func folderGone() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let store = try DeadLetterStore(stateDirectory: directory.path)
        try FileManager.default.removeItem(atPath: store.directory)
        let capture = Capture()
        store.recordWaitingSoon(sinks: ["hook"], logger: Logger(label: "test") { _ in capture })
        _ = await eventually(within: 5, every: 0.02) { !capture.messages.withLock { $0.isEmpty } }
        #expect(capture.messages.withLock { $0 }.contains { $0.hasPrefix("cannot count the dead letters") })
    }
}
