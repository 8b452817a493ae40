import Dispatch
import POSIX

/// A bounded scheduler for jobs made of attempts: per-key order, a cap on parallel attempts, timed retries.
///
/// - Jobs with the same key run strictly one at a time in submission order, retries included: the next job of a
///   key starts only when the previous one is done (delivered or given up).
/// - Jobs with different keys, or no key, run in parallel, with at most `concurrency` attempts running at once.
///   A job waiting for its retry timer holds its key but not a concurrency slot.
/// - At most `capacity` jobs are admitted (waiting, running or waiting to retry); past it `submit` answers
///   `.full` at once and the caller keeps the work elsewhere (the journal) — submitters never block.
/// - Retries wait on Dispatch timers, never on a sleeping thread.
///
/// All state lives on one private serial queue (hence `@unchecked Sendable`); attempts run on the global queue.
public final class KeyedSerialQueue: @unchecked Sendable {
    /// What an attempt asks for when it ends.
    public enum Step: Sendable, Equatable {
        /// The job is finished (succeeded or given up); its key is released.
        case done
        /// Run another attempt after this delay; the key stays held meanwhile.
        case retry(after: Duration)
    }

    /// The answer to `submit`.
    public enum SubmitResult: Sendable, Equatable {
        /// Admitted; it will run or be reported interrupted.
        case accepted
        /// `capacity` jobs are already admitted.
        case full
        /// `drain` was called; nothing new is admitted.
        case draining
    }

    /// Runs attempt number `attempt` (from 1) and calls `finish` once when it ends.
    public typealias Attempt = @Sendable (_ attempt: Int, _ finish: @escaping @Sendable (Step) -> Void) -> Void
    /// Told that the job will not run further because of `drain`, with the attempts it made.
    public typealias Interrupted = @Sendable (_ attempts: Int) -> Void

    /// A job's state; its mutable parts are touched only on `queue`.
    private final class Job: @unchecked Sendable {
        let key: String?
        let run: Attempt
        let interrupted: Interrupted
        var attempts = 0
        var retryTimer: DispatchWorkItem?

        init(key: String?, run: @escaping Attempt, interrupted: @escaping Interrupted) {
            self.key = key
            self.run = run
            self.interrupted = interrupted
        }
    }

    /// Attempts running at once, at most.
    public let concurrency: Int
    /// Jobs admitted at once, at most.
    public let capacity: Int
    private let queue: DispatchQueue
    private let depthChanged: @Sendable (Int) -> Void

    private var admitted = 0
    private var ready: [Job] = []
    private var waitingForKey: [String: [Job]] = [:]
    private var heldKeys: Set<String> = []
    private var running: [ObjectIdentifier: Job] = [:]
    private var sleeping: [ObjectIdentifier: Job] = [:]
    private var draining = false
    private var drainCompletion: (@Sendable (Int) -> Void)?
    /// Entered for each interrupted job until its `interrupted` callback returned: a drain completes only after
    /// them, so its caller sees every interrupted job's outcome first.
    private let interruptions = DispatchGroup()

    /// Creates a queue.
    /// - Parameters:
    ///   - concurrency: Attempts running at once (at least 1).
    ///   - capacity: Jobs admitted at once (at least 1).
    ///   - label: Label of the private queue.
    ///   - depthChanged: Called (on the private queue) with the number of admitted jobs whenever it changes.
    public init(
        concurrency: Int,
        capacity: Int,
        label: String = "vipps-webhookd.keyed-serial-queue",
        depthChanged: @escaping @Sendable (Int) -> Void = { _ in }
    ) {
        self.concurrency = max(1, concurrency)
        self.capacity = max(1, capacity)
        self.queue = DispatchQueue(label: label)
        self.depthChanged = depthChanged
    }

    /// Jobs admitted and not finished.
    public var depth: Int { queue.sync { admitted } }

    /// Admits a job.
    /// - Parameters:
    ///   - key: Ordering key (e.g. the payment reference); nil for no ordering.
    ///   - run: Runs one attempt.
    ///   - interrupted: Called instead of further attempts when the queue drains.
    /// - Returns: Whether the job was admitted.
    public func submit(
        key: String?,
        run: @escaping Attempt,
        interrupted: @escaping Interrupted
    ) -> SubmitResult {
        queue.sync {
            if draining { return .draining }
            guard admitted < capacity else { return .full }
            admitted += 1
            depthChanged(admitted)
            let job = Job(key: key, run: run, interrupted: interrupted)
            if let key {
                if heldKeys.contains(key) {
                    waitingForKey[key, default: []].append(job)
                    return .accepted
                }
                heldKeys.insert(key)
            }
            ready.append(job)
            pump()
            return .accepted
        }
    }

    /// Stops starting attempts: jobs not running now are interrupted at once; running attempts may end until
    /// `deadline`. Then `completion` gets the number of attempts still running (0 when all ended in time); those
    /// jobs are interrupted when their attempts end. `completion` runs only after the `interrupted` callbacks of the
    /// jobs stopped so far have returned, so a caller that gives their work back sees all of it before it moves on.
    ///
    /// With `stop`, attempts still running at `deadline` are ended through it (given their number; e.g. their
    /// processes killed), and `completion` waits until they have ended and their jobs are interrupted or finished
    /// (an attempt that succeeded just in time), at most `stopGrace` more: so the caller never moves on, and hands
    /// the work to someone else, while an outcome is still on its way.
    public func drain(
        deadline: DispatchTime,
        stopGrace: DispatchTimeInterval = .seconds(2),
        stop: (@Sendable (_ running: Int) -> Void)? = nil,
        completion: @escaping @Sendable (_ stillRunning: Int) -> Void
    ) {
        queue.async { [self] in
            draining = true
            var stopped = ready
            ready = []
            stopped += waitingForKey.values.joined()
            waitingForKey = [:]
            for job in sleeping.values {
                job.retryTimer?.cancel()
                stopped.append(job)
            }
            sleeping = [:]
            heldKeys = Set(running.values.compactMap(\.key))
            stopped.forEach(interrupt)
            if running.isEmpty {
                interruptions.notify(queue: queue) { completion(0) }
                return
            }
            drainCompletion = completion
            queue.asyncAfter(deadline: deadline) { [self] in
                guard let completion = drainCompletion else { return }
                let stillRunning = running.count
                guard let stop else {
                    drainCompletion = nil
                    return interruptions.notify(queue: queue) { completion(stillRunning) }
                }
                // `attemptEnded` completes the drain when the last of them ends; the grace, if one never does.
                drainCompletion = { _ in completion(stillRunning) }
                stop(stillRunning)
                queue.asyncAfter(deadline: .now() + stopGrace) { [self] in
                    guard let completion = drainCompletion else { return }
                    drainCompletion = nil
                    interruptions.notify(queue: queue) { completion(stillRunning) }
                }
            }
        }
    }

    private func pump() {
        while !draining && running.count < concurrency && !ready.isEmpty {
            let job = ready.removeFirst()
            running[ObjectIdentifier(job)] = job
            job.attempts += 1
            let attempt = job.attempts
            let run = job.run
            DispatchQueue.global().async {
                run(attempt) { [self] step in
                    queue.async { self.attemptEnded(job, step) }
                }
            }
        }
    }

    private func attemptEnded(_ job: Job, _ step: Step) {
        guard running.removeValue(forKey: ObjectIdentifier(job)) != nil else { return }
        switch step {
        case .done:
            finish(job)
        case .retry where draining:
            interrupt(job)
        case .retry(let delay):
            let id = ObjectIdentifier(job)
            sleeping[id] = job
            let timer = DispatchWorkItem { [self] in
                guard sleeping.removeValue(forKey: id) != nil else { return }
                job.retryTimer = nil
                ready.append(job)
                pump()
            }
            job.retryTimer = timer
            queue.asyncAfter(deadline: .now() + execDispatchInterval(delay), execute: timer)
        }
        pump()
        if draining, running.isEmpty, let completion = drainCompletion {
            drainCompletion = nil
            interruptions.notify(queue: queue) { completion(0) }
        }
    }

    /// Ends a job: frees its place and hands its key to the next job waiting for it.
    private func finish(_ job: Job) {
        admitted -= 1
        depthChanged(admitted)
        guard let key = job.key else { return }
        if var waiting = waitingForKey[key], !waiting.isEmpty {
            ready.append(waiting.removeFirst())
            waitingForKey[key] = waiting.isEmpty ? nil : waiting
        } else {
            heldKeys.remove(key)
        }
    }

    private func interrupt(_ job: Job) {
        finish(job)
        let attempts = job.attempts
        let interrupted = job.interrupted
        interruptions.enter()
        DispatchQueue.global().async { [interruptions] in
            interrupted(attempts)
            interruptions.leave()
        }
    }
}
