import Foundation
import Glibc
import TestSupport
import Testing

/// `reconcile` run as root with no daemon running writes the state as the state directory's owner.
@Suite("reconcile as root")
struct ReconcileAsRootTests {
    @Test(
        "reconcile run as root with the daemon stopped leaves the state directory usable by the daemon's user",
        .enabled(if: geteuid() == 0, "runs the daemon as another user")
    )
    func reconcileAsRootKeepsStateUsable() throws {
        let api = try FakeEPaymentAPI()
        defer { api.stop() }
        let dir = TemporaryDirectory()
        let configFile = try DaemonReconciliationTests.configWithoutDaemon(in: dir, api: api)
        try FileManager.default.createDirectory(atPath: dir.path + "/state", withIntermediateDirectories: true)
        // The daemon's user owns its directory, as with the unit's StateDirectory=.
        let chown = try ChildProcess.run(
            ["-R", "65534:65534", dir.path],
            executable: URL(fileURLWithPath: "/bin/chown")
        )
        try #require(chown.status == 0, "\(chown.stderr)")
        let daemon = try DaemonProcess(
            arguments: ["serve", "--config", configFile],
            workingDirectory: dir.url,
            launcher: ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
        )
        let reference = "order-\(UUID().uuidString.prefix(8))"
        let created = FakeEPaymentAPI.Entry(pspReference: "psp-created", name: "CREATED")
        _ = try TestHTTPClient.post(
            port: daemon.port,
            path: "/vipps/epayment",
            headers: try TestSigner.headers(
                secret: Fixture.secret,
                url: "http://127.0.0.1:\(daemon.port)/vipps/epayment",
                body: Array(DaemonReconciliationTests.webhook(reference, created).utf8),
                date: Date(),
                webhookID: nil
            ),
            body: Array(DaemonReconciliationTests.webhook(reference, created).utf8)
        )
        // The daemon is stopped (systemctl stop, or it failed): the operator catches up by hand.
        #expect(try daemon.stop() == 0)
        // A payment it saw 8 days ago (any daemon that has run for a week has such lines; they are dropped when the
        // ledger is next opened), written as the daemon writes them.
        let eightDaysAgo = Int64(Date().timeIntervalSince1970 * 1000) - 8 * 86_400_000
        var old =
            #"{"msn":"\#(DaemonReconciliationTests.msn)","reference":"order-old-0001","pspReference":"psp-old","#
            + #""name":"CREATED","success":true,"endpoint":"/vipps/epayment","at":\#(eightDaysAgo),"amount":49900"#
        old += #","crc":\#(LegacyStateDirectory.crc32(Array(old.utf8)))}"# + "\n"
        let ledger = try FileHandle(forWritingTo: URL(fileURLWithPath: dir.path + "/state/payments.log"))
        try ledger.seekToEnd()
        try ledger.write(contentsOf: Data(old.utf8))
        try ledger.close()

        // The operator, as root (the command's help says "the daemon's user or root"), reconciles while it is stopped.
        api.setLog(
            reference,
            msn: DaemonReconciliationTests.msn,
            [created, FakeEPaymentAPI.Entry(pspReference: "psp-captured", name: "CAPTURED")]
        )
        let out = try ChildProcess.run(["reconcile", "--config", configFile, "--reference", reference])
        #expect(out.status == 0, "\(out.stdout)\(out.stderr)")

        var rootOwned: [String] = []
        if let walker = FileManager.default.enumerator(atPath: dir.path + "/state") {
            for case let name as String in walker {
                var info = stat()
                if lstat(dir.path + "/state/" + name, &info) == 0, info.st_uid == 0 { rootOwned.append(name) }
            }
        }
        #expect(rootOwned.isEmpty, "files in the state directory now owned by root: \(rootOwned)")
        #expect(throws: Never.self, "the daemon (its own user) cannot start again") { try daemon.restart() }
    }
}
