import Dispatch
import Foundation
import Glibc
import Synchronization
import TestSupport
import Testing

@testable import WebhookDaemon

@Suite("SystemdNotifier")
struct SystemdNotifierTests {
    @Test("is a no-op without NOTIFY_SOCKET")
    func disabledWithoutSocket() throws {
        for environment in [[:], ["NOTIFY_SOCKET": ""], ["WATCHDOG_USEC": "1000000"]] {
            let notifier = try SystemdNotifier(environment: environment, processID: 42)
            #expect(!notifier.isEnabled)
            #expect(try notifier.notify(.ready) == false)
            #expect(notifier.startWatchdog(queue: .global()) == nil)
        }
    }

    @Test(
        "rejects a malformed NOTIFY_SOCKET",
        arguments: ["run/notify", "@", "/" + String(repeating: "x", count: 107)]
    )
    func malformedSocket(value: String) {
        #expect(throws: SystemdError.self) {
            try SystemdNotifier(environment: ["NOTIFY_SOCKET": value], processID: 42)
        }
    }

    @Test("sends to a socket file")
    func sendsToPathSocket() throws {
        let receiver = try NotifySocket(.path)
        let notifier = try SystemdNotifier(environment: ["NOTIFY_SOCKET": receiver.notifySocket], processID: 42)
        #expect(notifier.socketAddress == .path(receiver.notifySocket))

        #expect(try notifier.notify(.ready, .status("listening on\n127.0.0.1:8080")))
        #expect(try receiver.receive() == "READY=1\nSTATUS=listening on 127.0.0.1:8080\n")
        try notifier.notify(.stopping)
        #expect(try receiver.receive() == "STOPPING=1\n")
    }

    @Test("sends to an abstract-namespace socket")
    func sendsToAbstractSocket() throws {
        let receiver = try NotifySocket(.abstract)
        #expect(receiver.notifySocket.hasPrefix("@"))
        let notifier = try SystemdNotifier(environment: ["NOTIFY_SOCKET": receiver.notifySocket], processID: 42)

        try notifier.notify(.watchdog)
        #expect(try receiver.receive() == "WATCHDOG=1\n")
    }

    @Test("RELOADING=1 carries the current monotonic time")
    func reloadingCarriesMonotonicTime() throws {
        let receiver = try NotifySocket(.path)
        let notifier = try SystemdNotifier(environment: ["NOTIFY_SOCKET": receiver.notifySocket], processID: 42)
        let before = SystemdNotifier.monotonicMicroseconds()
        try notifier.notify(.reloading)
        let after = SystemdNotifier.monotonicMicroseconds()

        let lines = try receiver.receive().split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines.first == "RELOADING=1")
        let stamp = try #require(lines.last.flatMap { UInt64($0.dropFirst("MONOTONIC_USEC=".count)) })
        #expect(lines.last?.hasPrefix("MONOTONIC_USEC=") == true)
        #expect((before...after).contains(stamp))
    }

    @Test("formats every state")
    func formatsStates() {
        let message = SystemdNotifier.message(
            for: [.ready, .stopping, .watchdog, .extendTimeout(.milliseconds(1500)), .errno(28), .status("a\r\nb")],
            monotonicMicroseconds: 7
        )
        #expect(message == "READY=1\nSTOPPING=1\nWATCHDOG=1\nEXTEND_TIMEOUT_USEC=1500000\nERRNO=28\nSTATUS=a b\n")
        #expect(
            SystemdNotifier.message(for: [.reloading], monotonicMicroseconds: 7) == "RELOADING=1\nMONOTONIC_USEC=7\n"
        )
    }

    @Test("reports a socket nobody listens on with errno")
    func reportsSendFailure() throws {
        let directory = TemporaryDirectory(prefix: "vipps-ops")
        let notifier = try SystemdNotifier(environment: ["NOTIFY_SOCKET": directory.path + "/missing"], processID: 42)
        let error = try #require(throws: SystemdError.self) { try notifier.notify(.ready) }
        #expect(error.call == "sendto")
        #expect(error.errno == ENOENT)
        #expect(error.description.contains("No such file or directory"))
    }

    @Test("reads WATCHDOG_USEC for this process only")
    func watchdogInterval() throws {
        let socket = ["NOTIFY_SOCKET": "/run/systemd/notify"]
        let own = try SystemdNotifier(
            environment: socket.merging(["WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "42"]) { $1 },
            processID: 42
        )
        #expect(own.watchdogInterval == .seconds(30))
        let noPID = try SystemdNotifier(environment: socket.merging(["WATCHDOG_USEC": "250"]) { $1 }, processID: 42)
        #expect(noPID.watchdogInterval == .microseconds(250))
        let other = try SystemdNotifier(
            environment: socket.merging(["WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "43"]) { $1 },
            processID: 42
        )
        #expect(other.watchdogInterval == nil)
        #expect(try SystemdNotifier(environment: socket, processID: 42).watchdogInterval == nil)
    }

    @Test(
        "rejects a malformed watchdog",
        arguments: [
            ["WATCHDOG_USEC": "0"], ["WATCHDOG_USEC": "30s"],
            ["WATCHDOG_USEC": "-5"], ["WATCHDOG_USEC": "1000", "WATCHDOG_PID": "me"],
        ]
    )
    func malformedWatchdog(environment: [String: String]) {
        #expect(throws: SystemdError.self) {
            try SystemdNotifier(environment: environment, processID: 42)
        }
    }

    @Test("pings the watchdog repeatedly")
    func watchdogTimer() throws {
        let receiver = try NotifySocket(.path)
        let notifier = try SystemdNotifier(
            environment: ["NOTIFY_SOCKET": receiver.notifySocket, "WATCHDOG_USEC": "100000"],
            processID: 42
        )
        let watchdog = try #require(notifier.startWatchdog(queue: DispatchQueue(label: "watchdog-test")))
        defer { watchdog.cancel() }
        for _ in 0..<3 {
            #expect(try receiver.receive() == "WATCHDOG=1\n")
        }
    }

    @Test("stops pinging while the daemon is not healthy, so systemd restarts it")
    func watchdogStopsWhenUnhealthy() throws {
        let receiver = try NotifySocket(.path)
        let notifier = try SystemdNotifier(
            environment: ["NOTIFY_SOCKET": receiver.notifySocket, "WATCHDOG_USEC": "100000"],
            processID: 42
        )
        let healthy = HealthFlag()
        let started = notifier.startWatchdog(queue: DispatchQueue(label: "watchdog-test"), isHealthy: { healthy.value })
        let watchdog = try #require(started)
        defer { watchdog.cancel() }
        #expect(try receiver.receive() == "WATCHDOG=1\n")
        healthy.value = false
        // Pings already under way (the timer read the flag just before it changed, and a loaded machine may hold its
        // thread a while before it sends): taken until none comes for 100 ms, at most 20 of them.
        for _ in 0..<20 {
            guard (try? receiver.receive(timeoutMilliseconds: 100)) != nil else { break }
        }
        #expect(throws: NotifySocket.Failure.self, "no ping for four periods") {
            try receiver.receive(timeoutMilliseconds: 200)
        }
    }
}

/// A flag shared with the watchdog timer's queue.
private final class HealthFlag: Sendable {
    private let stored = Mutex(true)

    var value: Bool {
        get { stored.withLock { $0 } }
        set { stored.withLock { $0 = newValue } }
    }
}
