import Delivery

extension SinkDefinition {
    /// The definition of a configured sink, for `SinkFactory` (Delivery).
    init(_ sink: DaemonConfiguration.Sink) {
        switch sink.kind {
        case .file(let path):
            self.init(name: sink.name, kind: .file(path: path))
        case .exec(let argv, let timeoutSeconds, let maxAttempts, let concurrency):
            self.init(
                name: sink.name,
                kind: .exec(
                    argv: argv,
                    timeoutSeconds: timeoutSeconds,
                    maxAttempts: maxAttempts,
                    concurrency: concurrency
                )
            )
        }
    }
}
