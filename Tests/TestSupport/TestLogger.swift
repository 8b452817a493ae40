import Logging
import Synchronization

/// A logger for tests that build a store, a sink or a dispatcher: errors only, so that a failing test shows what went
/// wrong without the noise of every passing one.
public let testLogger: Logger = {
    var logger = Logger(label: "tests")
    logger.logLevel = .error
    return logger
}()

/// A logger that keeps every message at `level` or above (with its metadata rendered), for tests of what a component
/// tells the operator, and how often.
public final class CapturedLog: Sendable {
    /// One message.
    public struct Entry: Sendable {
        public var level: Logger.Level
        public var message: String
        public var metadata: [String: String]
    }

    private final class Storage: Sendable {
        let entries = Mutex<[Entry]>([])
    }

    private let storage = Storage()
    /// The logger writing here.
    public let logger: Logger

    /// A log keeping messages at `level` or above.
    public init(level: Logger.Level = .info) {
        let storage = storage
        var logger = Logger(label: "captured") { _ in Handler(storage: storage) }
        logger.logLevel = level
        self.logger = logger
    }

    /// What was logged so far, in order.
    public var messages: [Entry] { storage.entries.withLock { $0 } }

    private struct Handler: LogHandler {
        let storage: Storage
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let merged = metadata.merging(event.metadata ?? [:]) { $1 }
            let entry = Entry(
                level: event.level,
                message: "\(event.message)",
                metadata: merged.mapValues { "\($0)" }
            )
            storage.entries.withLock { $0.append(entry) }
        }
    }
}
