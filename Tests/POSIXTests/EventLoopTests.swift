import Dispatch
import Glibc
import POSIX
import Synchronization
import TestSupport
import Testing

/// The one epoll loop: clients registered on its thread (the HTTP server's way) and one-shot watches handed to a
/// Dispatch queue (the process runner's way) on the same loop.
@Suite struct EventLoopTests {
    /// Records what the loop reports.
    final class Client: EventLoopClient, Sendable {
        let reports = Mutex<[(events: UInt32, onLoop: Bool)]>([])
        let reported = DispatchSemaphore(value: 0)
        let loop: EventLoop

        init(loop: EventLoop) { self.loop = loop }

        func ready(_ events: UInt32) {
            reports.withLock { $0.append((events, loop.inLoop)) }
            reported.signal()
        }
    }

    private func nonBlockingPipe() throws -> (read: Int32, write: Int32) {
        let pipe = try Syscall.pipe()
        try Syscall.setNonBlocking(pipe.read)
        return pipe
    }

    @Test func aRegisteredClientHearsReadinessOnTheLoopThread() throws {
        let loop = try EventLoop(name: "test-loop")
        defer { loop.stop() }
        let pipe = try nonBlockingPipe()
        let client = Client(loop: loop)
        let token = Mutex<UInt64?>(nil)
        let registered = DispatchSemaphore(value: 0)
        let accepted = loop.execute {
            token.withLock { $0 = try? loop.register(pipe.read, events: EventMask.input, client: client) }
            registered.signal()
        }
        #expect(accepted)
        #expect(registered.wait(timeout: .now() + 5) == .success)
        #expect(token.withLock { $0 } != nil)
        #expect(Glibc.write(pipe.write, "x", 1) == 1)
        #expect(client.reported.wait(timeout: .now() + 5) == .success)
        let first = client.reports.withLock { $0.first }
        #expect(first.map { $0.events & EventMask.readableOrClosed != 0 } == true)
        #expect(first?.onLoop == true)
        let done = DispatchSemaphore(value: 0)
        loop.execute {
            if let token = token.withLock({ $0 }) { loop.unregister(pipe.read, token: token) }
            Syscall.close(pipe.read)
            done.signal()
        }
        #expect(done.wait(timeout: .now() + 5) == .success)
        Syscall.close(pipe.write)
    }

    @Test func tasksPostedInsideBatchedWakeUpsRunOnlyAfterItAndAllOfThem() throws {
        let loops = [try EventLoop(name: "batch-a"), try EventLoop(name: "batch-b")]
        defer { for loop in loops { loop.stop() } }
        let ran = Atomic<Int>(0)
        let allRan = DispatchSemaphore(value: 0)
        let tasks = 200
        let returned = EventLoop.batchingWakeUps { () -> String in
            for index in 0..<tasks {
                loops[index % 2].execute {
                    if ran.add(1, ordering: .relaxed).newValue == tasks { allRan.signal() }
                }
                // A nested call joins the outer one: still nothing is woken.
                if index == tasks / 2 { _ = EventLoop.batchingWakeUps { loops[0].execute {} } }
            }
            usleep(100_000)  // The loops would have run the first tasks long ago had they been woken.
            #expect(ran.load(ordering: .relaxed) == 0)
            return "value"
        }
        #expect(returned == "value")
        #expect(allRan.wait(timeout: .now() + 5) == .success)
        // Outside the scope a task wakes its loop at once again.
        let later = DispatchSemaphore(value: 0)
        loops[1].execute { later.signal() }
        #expect(later.wait(timeout: .now() + 5) == .success)
    }

    @Test func aLoopStoppedWhileABatchHoldsItsWakeUpEndsAndOthersStillRun() throws {
        let stopped = try EventLoop(name: "batch-stopped")
        let other = try EventLoop(name: "batch-other")
        defer { other.stop() }
        let ran = DispatchSemaphore(value: 0)
        EventLoop.batchingWakeUps {
            stopped.execute {}
            other.execute { ran.signal() }
            stopped.stop()  // A reload or shutdown in the middle of a batch.
            #expect(!stopped.execute {}, "a stopping loop takes no more tasks")
        }
        #expect(ran.wait(timeout: .now() + 5) == .success, "the other loop's task is not lost with the stopped one")
        let after = DispatchSemaphore(value: 0)
        other.execute { after.signal() }
        #expect(after.wait(timeout: .now() + 5) == .success)
    }

    @Test func aThrowingBodyStillWakesTheLoopsItOwes() throws {
        struct Failure: Error {}
        let loop = try EventLoop(name: "batch-throw")
        defer { loop.stop() }
        let ran = DispatchSemaphore(value: 0)
        #expect(throws: Failure.self) {
            try EventLoop.batchingWakeUps {
                loop.execute { ran.signal() }
                throw Failure()
            }
        }
        #expect(ran.wait(timeout: .now() + 5) == .success)
    }

    @Test func anotherThreadsTaskIsNotHeldBackByABatchOnThisThread() throws {
        let loop = try EventLoop(name: "batch-other")
        defer { loop.stop() }
        let otherRan = DispatchSemaphore(value: 0)
        var ranWhileBatching = false
        EventLoop.batchingWakeUps {
            loop.execute {}  // This thread's task: its wake-up is held back until the scope ends.
            // A task from another thread (the listener adopting a connection, another thread's answer) owes its own
            // wake-up: it must not wait for this thread's scope.
            DispatchQueue.global().async { loop.execute { otherRan.signal() } }
            ranWhileBatching = otherRan.wait(timeout: .now() + 10) == .success  // bounded: a held task never runs
        }
        #expect(ranWhileBatching, "another thread's task waited for this thread's batch")
    }

    @Test func aWatchFiresOnceOnItsQueueUntilRearmed() throws {
        let loop = try EventLoop(name: "test-watches")
        defer { loop.stop() }
        let pipe = try nonBlockingPipe()
        let queue = DispatchQueue(label: "test-watch")
        let fired = DispatchSemaphore(value: 0)
        let count = Atomic<Int>(0)
        let watch = try loop.watch(pipe.read, for: .readable, queue: queue) {
            dispatchPrecondition(condition: .onQueue(queue))
            count.add(1, ordering: .relaxed)
            fired.signal()
        }
        #expect(Glibc.write(pipe.write, "x", 1) == 1)
        #expect(fired.wait(timeout: .now() + 5) == .success)
        // One-shot: still readable, but not reported again until re-armed.
        #expect(fired.wait(timeout: .now() + .milliseconds(100)) == .timedOut)
        #expect(count.load(ordering: .relaxed) == 1)
        loop.rearm(watch)
        #expect(fired.wait(timeout: .now() + 5) == .success)
        loop.close(watch)
        Syscall.close(pipe.write)
        #expect(fired.wait(timeout: .now() + .milliseconds(100)) == .timedOut, "a closed watch is not reported")
        #expect(count.load(ordering: .relaxed) == 2)
    }

    @Test func aDescriptorEpollRefusesIsAnErrorWithTheCallNotASilentWatch() throws {
        let loop = try EventLoop(name: "test-refusals")
        defer { loop.stop() }
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        // epoll cannot watch a regular file (EPERM) nor a closed descriptor (EBADF).
        let fd = try Syscall.open(dir.path + "/plain", flags: O_RDWR | O_CREAT)
        defer { Syscall.close(fd) }
        let queue = DispatchQueue(label: "test-refusals")
        #expect(throws: SystemCallError(call: "epoll_ctl(ADD)", errno: EPERM)) {
            try loop.watch(fd, for: .readable, queue: queue) {}
        }
        #expect(throws: SystemCallError(call: "epoll_ctl(ADD)", errno: EBADF)) {
            try loop.watch(-1, for: .writable, queue: queue) {}
        }
        let client = Client(loop: loop)
        let refused = Mutex<SystemCallError?>(nil)
        let done = DispatchSemaphore(value: 0)
        loop.execute {
            do throws(SystemCallError) {
                _ = try loop.register(fd, events: EventMask.input, client: client)
            } catch {
                refused.withLock { $0 = error }
            }
            done.signal()
        }
        #expect(done.wait(timeout: .now() + 5) == .success)
        #expect(refused.withLock { $0 } == SystemCallError(call: "epoll_ctl(ADD)", errno: EPERM))
    }

    @Test func aClientAndAWatchOnOneLoopEachHearOnlyTheirOwnDescriptor() throws {
        let loop = try EventLoop(name: "test-shared")
        defer { loop.stop() }
        let socketPipe = try nonBlockingPipe()
        let childPipe = try nonBlockingPipe()
        let client = Client(loop: loop)
        let registered = DispatchSemaphore(value: 0)
        let token = Mutex<UInt64?>(nil)
        loop.execute {
            token.withLock { $0 = try? loop.register(socketPipe.read, events: EventMask.input, client: client) }
            registered.signal()
        }
        #expect(registered.wait(timeout: .now() + 5) == .success)
        let fired = DispatchSemaphore(value: 0)
        let watch = try loop.watch(childPipe.read, for: .readable, queue: DispatchQueue(label: "test-shared")) {
            fired.signal()
        }
        #expect(Glibc.write(childPipe.write, "x", 1) == 1)
        #expect(fired.wait(timeout: .now() + 5) == .success)
        #expect(client.reported.wait(timeout: .now() + .milliseconds(100)) == .timedOut, "the client heard nothing")
        #expect(Glibc.write(socketPipe.write, "y", 1) == 1)
        #expect(client.reported.wait(timeout: .now() + 5) == .success)
        #expect(fired.wait(timeout: .now() + .milliseconds(100)) == .timedOut, "the one-shot watch stays quiet")
        loop.close(watch)
        let done = DispatchSemaphore(value: 0)
        loop.execute {
            if let token = token.withLock({ $0 }) { loop.unregister(socketPipe.read, token: token) }
            done.signal()
        }
        #expect(done.wait(timeout: .now() + 5) == .success)
        for fd in [socketPipe.read, socketPipe.write, childPipe.write] { Syscall.close(fd) }
    }
}
