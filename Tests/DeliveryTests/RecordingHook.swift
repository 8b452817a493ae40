import Delivery
import Dispatch
import EventStore
import POSIX
import TestSupport

/// What the dead-letter retry tests start from, in `directory`: a journal (`journal/`, with `faults` injected), the
/// dead-letter folder, and exec sink `hook`, whose script appends each run's event id to `runs`.
struct RecordingHook {
    let directory: String
    let store: EventStore
    let deadLetters: DeadLetterStore
    let definition: SinkDefinition

    init(in directory: String, faults: SyscallFaults? = nil) throws {
        self.directory = directory
        store = try EventStore(
            directory: directory + "/journal",
            options: testOptions(faults: faults),
            logger: testLogger
        )
        deadLetters = try DeadLetterStore(stateDirectory: directory)
        let hook = try ExecTestSupport.script("echo \"$VIPPS_EVENT_ID\" >> \(directory)/runs\nexit 0", in: directory)
        definition = SinkDefinition(
            name: "hook",
            kind: .exec(argv: [hook], timeoutSeconds: 10, maxAttempts: 1, concurrency: 1)
        )
    }

    /// How many times the hook has run.
    var runs: Int { (ExecTestSupport.read("\(directory)/runs") ?? "").split(separator: "\n").count }

    /// A requeue of the folder's letters onto `dispatcher`'s sinks, over `store`, logging into `log`, scanning every
    /// 50 ms.
    func startRequeue(feeding dispatcher: DeliveryDispatcher, store: EventStore, log: CapturedLog) -> DeadLetterRequeue
    {
        let requeue = DeadLetterRequeue(
            deadLetters: deadLetters,
            dispatcher: dispatcher,
            store: store,
            logger: log.logger
        )
        requeue.start(interval: .milliseconds(50))
        return requeue
    }
}
