import Foundation
import Glibc
import POSIX
import Synchronization
import Testing

/// The one syscall wrapper: EINTR retried, EAGAIN given as a value, any other failure thrown with errno, the call's
/// name and readable text.
@Suite struct SyscallTests {
    @Test func eintrIsRetriedUntilTheCallSucceeds() throws {
        var calls = 0
        let result = try Syscall.retrying("fake") { () -> Int in
            calls += 1
            guard calls == 3 else {
                errno = EINTR
                return -1
            }
            return 42
        }
        #expect(result == 42)
        #expect(calls == 3)
    }

    @Test func anyOtherErrnoIsThrownAtOnceWithTheCallName() {
        var calls = 0
        #expect(throws: SystemCallError(call: "fake", errno: EIO, detail: "/x")) {
            try Syscall.retrying("fake", detail: "/x") { () -> Int32 in
                calls += 1
                errno = EIO
                return -1
            }
        }
        #expect(calls == 1, "only EINTR is retried")
    }

    @Test func readInterruptedByARealSignalIsRetried() throws {
        // A handler installed without SA_RESTART: a blocking read returns EINTR when the signal arrives. The no-op
        // handler stays installed afterwards, so a signal still in flight cannot end the test process.
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in }
        sigemptyset(&action.sa_mask)
        action.sa_flags = 0
        #expect(sigaction(SIGUSR2, &action, nil) == 0)
        let pipe = try Syscall.pipe()
        defer {
            Syscall.close(pipe.read)
            Syscall.close(pipe.write)
        }
        let calls = Atomic<Int>(0)
        let reader = Mutex<pthread_t?>(nil)
        let outcome = Mutex<Result<Int, SystemCallError>?>(nil)
        let thread = Thread {
            // Threads started from Dispatch workers inherit a mask that blocks most signals.
            var signals = sigset_t()
            sigemptyset(&signals)
            sigaddset(&signals, SIGUSR2)
            pthread_sigmask(SIG_UNBLOCK, &signals, nil)
            reader.withLock { $0 = pthread_self() }
            var byte: UInt8 = 0
            let result = Result { () throws(SystemCallError) -> Int in
                try Syscall.retrying("read") { () -> Int in
                    calls.add(1, ordering: .relaxed)
                    return Glibc.read(pipe.read, &byte, 1)
                }
            }
            outcome.withLock { $0 = result }
        }
        thread.start()
        let deadline = Date().addingTimeInterval(10)
        while calls.load(ordering: .relaxed) < 2 && Date() < deadline {
            if calls.load(ordering: .relaxed) == 1, let target = reader.withLock({ $0 }) {
                pthread_kill(target, SIGUSR2)
            }
            usleep(5_000)
        }
        var byte = UInt8(ascii: "x")
        #expect(Glibc.write(pipe.write, &byte, 1) == 1)
        while outcome.withLock({ $0 }) == nil && Date() < deadline { usleep(1_000) }
        #expect(calls.load(ordering: .relaxed) >= 2, "the read was interrupted and called again")
        #expect(outcome.withLock { $0 } == .success(1))
    }

    @Test func eagainIsAValueNotAnError() throws {
        var fds: [Int32] = [-1, -1]
        #expect(Glibc.pipe(&fds) == 0)
        defer {
            Syscall.close(fds[0])
            Syscall.close(fds[1])
        }
        try Syscall.setNonBlocking(fds[0])
        var buffer = [UInt8](repeating: 0, count: 8)
        let empty = try Syscall.nonBlocking("read") { Glibc.read(fds[0], &buffer, buffer.count) }
        #expect(empty == .wouldBlock)
        #expect(Glibc.write(fds[1], "ab", 2) == 2)
        let filled = try Syscall.nonBlocking("read") { Glibc.read(fds[0], &buffer, buffer.count) }
        #expect(filled == .done(2))
        Syscall.close(fds[1])
        fds[1] = Glibc.open("/dev/null", O_RDONLY)
        let ended = try Syscall.nonBlocking("read") { Glibc.read(fds[0], &buffer, buffer.count) }
        #expect(ended == .done(0), "end of file is a result, not EAGAIN")
    }

    @Test func aFailedCallSaysWhichCallFailedAndWhyInWords() {
        let path = "/nonexistent-\(getpid())/file"
        do {
            _ = try Syscall.open(path, flags: O_RDONLY)
            Issue.record("opening \(path) succeeded")
        } catch {
            #expect(error == SystemCallError(call: "open", errno: ENOENT, detail: path))
            #expect(error.description == "open failed: No such file or directory [errno \(ENOENT)] (\(path))")
        }
        #expect(SystemCallError(call: "fsync", errno: EIO).description == "fsync failed: Input/output error [errno 5]")
    }
}
