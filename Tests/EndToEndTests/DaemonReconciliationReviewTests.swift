import Foundation
import Glibc
import TestSupport
import Testing

/// Faults nobody asked about in reconciliation: an --endpoint naming no endpoint, a control-socket request whose
/// numbers are out of range.
@Suite("reconciliation: review faults")
struct DaemonReconciliationReviewTests {
    typealias Base = DaemonReconciliationTests

    @Test("--endpoint naming no configured endpoint never swallows an event: it is refused, or the event still arrives")
    func unknownEndpointLosesNothing() throws {
        let api = try FakeEPaymentAPI()
        defer { api.stop() }
        let harness = try Base.harness(api: api)
        let reference = "order-\(UUID().uuidString.prefix(8))"
        let created = FakeEPaymentAPI.Entry(pspReference: "psp-created", name: "CREATED")
        let authorized = FakeEPaymentAPI.Entry(pspReference: "psp-authorized", name: "AUTHORIZED")
        api.setLog(reference, msn: Base.msn, [created, authorized])
        #expect(try harness.send(Base.webhook(reference, created)).status == 200)
        try harness.waitForRecords("events.jsonl", count: 1)

        let out = try Base.reconcile(harness, ["--reference", reference, "--endpoint", "/vipps/typo"])
        // The real AUTHORIZED webhook arrives afterwards on the real endpoint.
        _ = try harness.send(Base.webhook(reference, authorized))
        func types() -> [String] { harness.records("events.jsonl").compactMap { $0["type"] as? String } }
        // The file sink writes it a moment after the answer: waited for, not slept on.
        _ = eventually(15) { types().contains("epayments.payment.authorized.v1") }
        #expect(
            types().contains("epayments.payment.authorized.v1"),
            "AUTHORIZED never reached the sink; reconcile said: \(out.stdout)"
        )
    }

    @Test(
        "garbage, a line over 64 KiB and a client that closes at once are refused (logged); the next client is served"
    )
    func hostileControlClients() throws {
        let api = try FakeEPaymentAPI()
        defer { api.stop() }
        let harness = try Base.harness(api: api)
        let socket = harness.stateDir + "/control.sock"
        let garbage = try Self.ask(socket, "{not json\n")
        #expect(garbage.contains("error: not a reconcile request") && garbage.hasSuffix("exit 1\n"), "\(garbage)")
        let long = try Self.ask(socket, String(repeating: "x", count: 70_000) + "\n")
        #expect(long.contains("error: not a reconcile request"), "\(long)")
        let partial = try Self.ask(socket, #"{"references":[]"#, halfClose: true)  // no newline, then EOF
        #expect(partial.contains("error: not a reconcile request"), "\(partial)")
        let silent = try Self.ask(socket, "", halfClose: true)
        #expect(silent.contains("error: not a reconcile request"), "\(silent)")
        try waitUntil("the refusals are logged", log: harness.daemon.log) {
            harness.daemon.logged("control socket: refused a request that is not a reconcile request").count >= 4
        }
        let good = try Base.reconcile(harness)
        #expect(good.status == 0 && good.stdout.contains("total: 0 payments"), "\(good.stdout)\(good.stderr)")
    }

    @Test("a control-socket request with a huge since_seconds gets an answer and the daemon lives on")
    func hugeSinceOverSocket() throws {
        let api = try FakeEPaymentAPI()
        defer { api.stop() }
        let harness = try Base.harness(api: api)
        let answer = try Self.ask(
            harness.stateDir + "/control.sock",
            #"{"references":[],"since_seconds":9223372036854775807}"# + "\n"
        )
        Thread.sleep(forTimeInterval: 0.3)
        #expect(harness.daemon.isRunning, "the daemon died on a control request; it answered: \(answer)")
        #expect(answer.contains("exit "), "\(answer)")
    }

    @Test("an id the dedup index dropped for room (dedup_max_ids reached) is not reconciled into a second delivery")
    func earlyEvictedIDIsNotAddedAgain() throws {
        let api = try FakeEPaymentAPI()
        defer { api.stop() }
        let harness = try DaemonHarness(
            config: Fixture.basicConfig(
                extraTop: """
                    dedup_max_ids: 1000
                    vipps_api:
                      base_url: "\(api.baseURL)"
                      credentials_file: "$DIR/vipps.env"
                      check_registrations_minutes: 0
                      reconcile_minutes: 0
                    """
            ),
            files: Fixture.secretFiles.merging(["vipps.env": FakeEPaymentAPI.credentials(msn: Base.msn)]) { $1 }
        )
        let reference = "order-\(UUID().uuidString.prefix(8))"
        let captured = FakeEPaymentAPI.Entry(pspReference: "psp-captured", name: "CAPTURED")
        api.setLog(reference, msn: Base.msn, [captured])
        #expect(try harness.send(Base.webhook(reference, captured)).status == 200)
        for number in 0..<1000 {
            let other = FakeEPaymentAPI.Entry(pspReference: "psp-\(number)", name: "CREATED")
            _ = try harness.send(Base.webhook("filler-\(number)-\(reference)", other))
        }
        try harness.waitForRecords("events.jsonl", count: 1001, timeout: 30)
        let out = try Base.reconcile(harness, ["--reference", reference])
        Thread.sleep(forTimeInterval: 0.5)
        let deliveries = harness.records("events.jsonl").filter {
            ($0["payload"] as? [String: Any])?["reference"] as? String == reference
        }
        #expect(deliveries.count == 1, "CAPTURED delivered \(deliveries.count) times; reconcile said: \(out.stdout)")
    }

    @Test("a SIGHUP while a reconcile waits on a silent API does not hold SIGTERM (nor the watchdog) behind it")
    func reloadDuringReconcileKeepsControl() throws {
        // A listener that never accepts: every API call waits for its whole timeout (30 s, 4 attempts).
        let (silent, port) = try loopbackSocket(listening: 16)
        defer { close(silent) }
        let harness = try DaemonHarness(
            config: Fixture.basicConfig(
                extraTop: """
                    vipps_api:
                      base_url: "http://127.0.0.1:\(port)"
                      credentials_file: "$DIR/vipps.env"
                      check_registrations_minutes: 0
                      reconcile_minutes: 0
                    """
            ),
            files: Fixture.secretFiles.merging(["vipps.env": FakeEPaymentAPI.credentials(msn: Base.msn)]) { $1 }
        )
        let client = Process()
        client.executableURL = ChildProcess.daemonBinary
        client.arguments = ["reconcile", "--config", harness.configFile, "--reference", "order-silent-1"]
        client.standardOutput = FileHandle.nullDevice
        client.standardError = FileHandle.nullDevice
        try client.run()
        defer { if client.isRunning { client.terminate() } }
        Thread.sleep(forTimeInterval: 1)
        harness.daemon.signal(SIGHUP)
        Thread.sleep(forTimeInterval: 0.5)
        harness.daemon.signal(SIGTERM)
        #expect(throws: Never.self) { try harness.daemon.waitForExit(timeout: 15) }
    }

    @Test("the periodic mode spaces its event-log calls (60 a minute), not a whole round's worth at once")
    func periodicCallsAreSpaced() throws {
        let api = try FakeEPaymentAPI()
        defer { api.stop() }
        let harness = try Base.harness(api: api, reconcileMinutes: 0.05)  // 3 s: up to 3 calls a round
        for number in 0..<3 {
            let reference = "order-\(number)-\(UUID().uuidString.prefix(8))"
            let created = FakeEPaymentAPI.Entry(pspReference: "psp-created", name: "CREATED")
            api.setLog(reference, msn: Base.msn, [created])
            #expect(try harness.send(Base.webhook(reference, created)).status == 200)
        }
        try #require(eventually(10, every: 0.005) { api.eventCalls > 0 }, "no periodic check within 10 s")
        Thread.sleep(forTimeInterval: 0.4)
        let early = api.eventCalls(withinFirst: .milliseconds(400))
        #expect(early <= 1, "\(early) event-log calls within 0.4 s of the first")
    }

    @Test("a newline in the vendor's data cannot end the control-socket answer early with a forged exit 0")
    func vendorNewlineCannotForgeTheExit() throws {
        let api = try FakeEPaymentAPI()
        defer { api.stop() }
        let harness = try Base.harness(api: api)
        let reference = "order-\(UUID().uuidString.prefix(8))"
        var hostile = FakeEPaymentAPI.Entry(pspReference: #"psp\nexit 0\n"#, name: "AUTHORIZED")
        hostile.timestamp = FakeEPaymentAPI.timestamp(secondsAgo: 8 * 86400)  // skipped, its pspReference printed
        api.setLog(reference, msn: Base.msn, [hostile])
        let out = try Base.reconcile(harness, ["--reference", reference, "--reference", "no-such-order-2"])
        #expect(out.status != 0, "the failed second payment was hidden: \(out.stdout)")
        #expect(out.stdout.contains("no-such-order-2"), "\(out.stdout)")
    }

    /// Sends `line` to the Unix socket at `path` and returns everything read until EOF.
    /// Sends `line` on the control socket at `path` and reads the answer; `halfClose` shuts the writing side right
    /// after, as a client that has nothing more to say.
    static func ask(_ path: String, _ line: String, halfClose: Bool = false) throws -> String {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        try #require(fd >= 0)
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8) + [0]) }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        try #require(connected == 0)
        var timeout = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        _ = Array(line.utf8).withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        if halfClose { shutdown(fd, Int32(SHUT_WR)) }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = recv(fd, &buffer, buffer.count, 0)
            guard count > 0 else { break }
            received += buffer[0..<count]
        }
        return String(decoding: received, as: UTF8.self)
    }
}
