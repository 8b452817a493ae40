import EventStore
import FoundationEssentials
import Logging
import POSIX

/// Builds the sink workers of a configuration, reusing unchanged ones on reload.
public struct SinkFactory {
    let store: EventStore
    let deadLetters: DeadLetterStore
    let runner: ProcessRunner
    let metrics: any DeliveryMetrics
    let logger: Logger
    /// Most events a worker holds in memory before it leaves arrivals to the journal.
    public var memoryLimit = 100_000
    /// Most bytes (estimated from the bodies) a worker holds in memory before it leaves arrivals to the journal.
    public var memoryBytes = 64 << 20
    /// Events an exec sink's hook queue admits at once (beyond them, the worker's overflow takes them).
    public var hookQueueCapacity = 10_000

    /// A factory of workers that mark deliveries in `store`, write dead letters to `deadLetters` and run hooks
    /// through `runner`.
    public init(
        store: EventStore,
        deadLetters: DeadLetterStore,
        runner: ProcessRunner,
        metrics: any DeliveryMetrics,
        logger: Logger
    ) {
        self.store = store
        self.deadLetters = deadLetters
        self.runner = runner
        self.metrics = metrics
        self.logger = logger
    }

    /// Workers for `sinks`. A worker in `existing` with the same name and settings is kept (file sinks keep their
    /// file, exec sinks their queue). Each new file sink is given the ids of the events still owed to it (read from
    /// the journal page by page), to skip those it wrote before a crash, so it never writes a line twice.
    public func workers(
        for sinks: [SinkDefinition],
        existing: [String: any SinkWorker]
    ) throws -> [String: any SinkWorker] {
        var result: [String: any SinkWorker] = [:]
        for sink in sinks {
            switch sink.kind {
            case .file(let path):
                if let old = existing[sink.name] as? FileSinkWorker, old.path == path {
                    result[sink.name] = old
                    continue
                }
                try createParentDirectory(of: path)
                let feed = store.journalFeed()
                defer { feed.close() }
                let ids = try feed.owedIDs(sink: sink.name)
                let file = try FileSink(
                    path: path,
                    resumeFrom: store.lastPosition(sink: sink.name),
                    pendingIDs: ids,
                    logger: logger,
                    fileRecreated: { [metrics] in metrics.storageError(operation: "file_recreate") }
                )
                result[sink.name] = FileSinkWorker(
                    name: sink.name,
                    sink: file,
                    store: store,
                    metrics: metrics,
                    logger: logger,
                    memoryLimit: memoryLimit,
                    memoryBytes: memoryBytes
                )
            case .exec(let argv, let timeoutSeconds, let maxAttempts, let concurrency):
                let configuration = ExecSinkConfiguration(
                    name: sink.name,
                    argv: argv,
                    timeout: .seconds(timeoutSeconds),
                    maxAttempts: maxAttempts,
                    concurrency: concurrency,
                    queueCapacity: hookQueueCapacity
                )
                if let old = existing[sink.name] as? ExecSinkWorker, old.configuration == configuration {
                    result[sink.name] = old
                    continue
                }
                let execSink = try ExecSink(configuration: configuration, runner: runner, logger: logger)
                let dispatcher = ExecDispatcher(
                    sink: execSink,
                    retryPolicy: RetryPolicy(maxAttempts: maxAttempts),
                    deadLetters: deadLetters,
                    logger: logger
                )
                result[sink.name] = ExecSinkWorker(
                    configuration: configuration,
                    dispatcher: dispatcher,
                    store: store,
                    metrics: metrics,
                    logger: logger,
                    memoryLimit: memoryLimit,
                    memoryBytes: memoryBytes
                )
            }
        }
        try Self.refuseSharedFiles(result)
        return result
    }

    /// Throws when two file sinks write one file (by device and inode: also through a link or another spelling of
    /// the path), now or once reopened (a kept sink whose file logrotate moved): each cuts its own failed batch back
    /// by size, which would cut the other's synced lines.
    private static func refuseSharedFiles(_ workers: [String: any SinkWorker]) throws {
        var writers: [FileSink.FileIdentity: String] = [:]
        for (name, worker) in workers.sorted(by: { $0.key < $1.key }) {
            guard let file = worker as? FileSinkWorker else { continue }
            for identity in try file.fileIdentities() {
                if let other = writers.updateValue(name, forKey: identity), other != name {
                    throw SinkFactoryError.sharedFile(sinks: [other, name], path: file.path)
                }
            }
        }
    }

    private func createParentDirectory(of path: String) throws {
        guard path.contains("/") else { return }
        let parent = Syscall.parentDirectory(of: path)
        try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
    }
}

/// A configuration the factory cannot build workers for.
public enum SinkFactoryError: Error, CustomStringConvertible {
    /// Two file sinks name one file.
    case sharedFile(sinks: [String], path: String)

    public var description: String {
        switch self {
        case .sharedFile(let sinks, let path):
            "file sinks \(sinks.joined(separator: " and ")) write the same file (\(path)); give each its own file"
        }
    }
}
