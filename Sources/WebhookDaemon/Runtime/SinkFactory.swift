import Delivery
import Foundation
import Logging

/// Builds the sink workers of a configuration, reusing unchanged ones on reload.
struct SinkFactory {
    let store: EventStore
    let deadLetters: DeadLetterStore
    let runner: ProcessRunner
    let metrics: DaemonMetrics
    let logger: Logger

    /// Workers for `sinks`. A worker in `existing` with the same name and settings is kept (file sinks keep their
    /// file, exec sinks their queue); `pending` gives each new file sink the events it may have written before a
    /// crash, so it never writes a line twice.
    func workers(
        for sinks: [DaemonConfiguration.Sink], existing: [String: any SinkWorker], pending: [PendingDelivery]
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
                let ids = Set(pending.filter { $0.sinks.contains(sink.name) }.flatMap(\.event.lineIDs))
                let file = try FileSink(path: path, resumeFrom: store.lastPosition(sink: sink.name), pendingIDs: ids,
                                        logger: logger)
                result[sink.name] = FileSinkWorker(name: sink.name, sink: file, store: store, metrics: metrics,
                                                   logger: logger)
            case .exec(let argv, let timeoutSeconds, let maxAttempts, let concurrency):
                let configuration = ExecSinkConfiguration(
                    name: sink.name, argv: argv, timeout: .seconds(timeoutSeconds), maxAttempts: maxAttempts,
                    concurrency: concurrency)
                if let old = existing[sink.name] as? ExecSinkWorker, old.configuration == configuration {
                    result[sink.name] = old
                    continue
                }
                let execSink = try ExecSink(configuration: configuration, runner: runner, logger: logger)
                let dispatcher = ExecDispatcher(
                    sink: execSink, retryPolicy: RetryPolicy(maxAttempts: maxAttempts), deadLetters: deadLetters,
                    logger: logger)
                result[sink.name] = ExecSinkWorker(configuration: configuration, dispatcher: dispatcher, store: store,
                                                   metrics: metrics, logger: logger)
            }
        }
        return result
    }

    private func createParentDirectory(of path: String) throws {
        let parent = (path as NSString).deletingLastPathComponent
        guard !parent.isEmpty else { return }
        try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
    }
}
