import Foundation
import Glibc
import TestSupport
import Testing

/// `reconcile` run as root becomes the daemon's user with that user's groups, as systemd's `User=` gives them; on a
/// root-owned directory shared with a group, the owner of the state in it, or it refuses when there is none yet.
@Suite("reconcile as root: the daemon user's groups")
struct ReconcileAsRootGroupsTests {
    /// A user with a supplementary group on this machine: postgres (101:104), member of ssl-cert (103).
    static let uid: uid_t = 101
    static let gid: gid_t = 104
    static let supplementary: gid_t = 103

    static func userHasSupplementaryGroup() -> Bool {
        guard geteuid() == 0, let user = getpwuid(uid), user.pointee.pw_gid == gid,
            let group = getgrgid(supplementary)
        else { return false }
        var member = group.pointee.gr_mem
        while let name = member?.pointee {
            if String(cString: name) == String(cString: user.pointee.pw_name) { return true }
            member = member?.advanced(by: 1)
        }
        return false
    }

    /// A fake ePayment API whose log holds one created payment, a directory with a configuration for it (no daemon,
    /// no state directory yet), its path and the payment's reference.
    static func oneCreatedPayment() throws -> (
        api: FakeEPaymentAPI, dir: TemporaryDirectory, configFile: String, reference: String
    ) {
        let api = try FakeEPaymentAPI()
        let dir = TemporaryDirectory()
        let reference = "order-\(UUID().uuidString.prefix(8))"
        api.setLog(
            reference,
            msn: DaemonReconciliationTests.msn,
            [FakeEPaymentAPI.Entry(pspReference: "psp-created", name: "CREATED")]
        )
        return (api, dir, try DaemonReconciliationTests.configWithoutDaemon(in: dir, api: api), reference)
    }

    @Test(
        "reconcile as root works on a state directory its owner reaches through a supplementary group",
        .enabled(if: userHasSupplementaryGroup(), "needs root and a user with a supplementary group")
    )
    func reconcileKeepsTheOwnersGroups() throws {
        let (api, dir, configFile, reference) = try Self.oneCreatedPayment()
        defer {
            api.stop()
            dir.remove()
        }
        // The daemon's user reaches its state directory through a group it is a member of (a shared /srv/shop,
        // root:shop 0750, say); its own directory is its own, as with StateDirectory=.
        try #require(chown(dir.path, 0, Self.supplementary) == 0 && chmod(dir.path, 0o750) == 0)
        try #require(mkdir(dir.path + "/state", 0o750) == 0)
        try #require(chown(dir.path + "/state", Self.uid, Self.gid) == 0)
        let asDaemon = try ChildProcess.run(
            [
                "--reuid=\(Self.uid)", "--regid=\(Self.gid)", "--init-groups", "/usr/bin/test", "-w",
                dir.path + "/state",
            ],
            executable: URL(fileURLWithPath: "/usr/bin/setpriv")
        )
        try #require(asDaemon.status == 0, "the daemon's user (with its groups, as systemd starts it) can write there")

        // The operator, as root, with the daemon stopped.
        let out = try ChildProcess.run(["reconcile", "--config", configFile, "--reference", reference])
        #expect(out.status == 0, "\(out.stdout)\(out.stderr)")
    }

    @Test(
        "reconcile as root on a root-owned directory shared with a group: refused until the daemon's state tells its user",
        .enabled(if: userHasSupplementaryGroup(), "needs root and a user with a supplementary group")
    )
    func rootOwnedGroupSharedStateDirectory() throws {
        let (api, dir, configFile, reference) = try Self.oneCreatedPayment()
        defer {
            api.stop()
            dir.remove()
        }
        try #require(chmod(dir.path, 0o755) == 0)
        // state_dir made by root for the daemon's group: root:<daemon group> 2770 (the daemon writes there through
        // its group; its files are its own).
        try #require(mkdir(dir.path + "/state", 0o770) == 0)
        try #require(chown(dir.path + "/state", 0, Self.gid) == 0 && chmod(dir.path + "/state", 0o2770) == 0)
        // No state yet to tell whose the directory is: refused, nothing written.
        let refused = try ChildProcess.run(["reconcile", "--config", configFile, "--reference", reference])
        #expect(refused.status != 0 && refused.stderr.contains("as the daemon's user"), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/state/payments.log"))
        // Once the daemon has run there (its journal is its own), reconcile becomes that user.
        try #require(mkdir(dir.path + "/state/journal", 0o700) == 0)
        try #require(chown(dir.path + "/state/journal", Self.uid, Self.gid) == 0)
        let out = try ChildProcess.run(["reconcile", "--config", configFile, "--reference", reference])
        #expect(out.status == 0, "\(out.stdout)\(out.stderr)")
        // The daemon (its user and groups) must still open what reconcile wrote.
        let read = try ChildProcess.run(
            [
                "--reuid=\(Self.uid)", "--regid=\(Self.gid)", "--init-groups", "/bin/cat",
                dir.path + "/state/payments.log",
            ],
            executable: URL(fileURLWithPath: "/usr/bin/setpriv")
        )
        #expect(read.status == 0, "the daemon's user cannot read payments.log: \(read.stderr)")
    }

    @Test(
        "reconcile as root on a root-owned directory shared with a group whose state is root's runs as root",
        .enabled(if: geteuid() == 0, "needs root")
    )
    func rootsOwnStateIsReconciledAsRoot() throws {
        let (api, dir, configFile, reference) = try Self.oneCreatedPayment()
        defer {
            api.stop()
            dir.remove()
        }
        // A daemon running as root in a directory it shares with a group: its journal is root's.
        try #require(mkdir(dir.path + "/state", 0o770) == 0 && mkdir(dir.path + "/state/journal", 0o700) == 0)
        try #require(chown(dir.path + "/state", 0, 65534) == 0 && chmod(dir.path + "/state", 0o2770) == 0)
        let out = try ChildProcess.run(["reconcile", "--config", configFile, "--reference", reference])
        #expect(out.status == 0, "\(out.stdout)\(out.stderr)")
    }

    @Test(
        "reconcile as root on a root:G shared directory whose daemon runs with Group=G (not its passwd group)",
        .enabled(if: Self.userHasSupplementaryGroup(), "needs root and postgres")
    )
    func sharedDirectoryThroughTheDaemonsUnitGroup() throws {
        let (api, dir, configFile, reference) = try Self.oneCreatedPayment()
        defer {
            api.stop()
            dir.remove()
        }
        let uid = Self.uid
        let group: gid_t = 65534  // nogroup: neither postgres's passwd group nor one it is listed in
        try #require(chmod(dir.path, 0o755) == 0)
        try #require(mkdir(dir.path + "/state", 0o770) == 0)
        try #require(chown(dir.path + "/state", 0, group) == 0 && chmod(dir.path + "/state", 0o2770) == 0)
        // The daemon ran there (User=postgres, Group=nogroup in its unit): its journal is its own.
        try #require(mkdir(dir.path + "/state/journal", 0o700) == 0)
        try #require(chown(dir.path + "/state/journal", uid, group) == 0)
        let asDaemon = try ChildProcess.run(
            ["--reuid=\(uid)", "--regid=\(group)", "--init-groups", "/usr/bin/test", "-w", dir.path + "/state"],
            executable: URL(fileURLWithPath: "/usr/bin/setpriv")
        )
        try #require(asDaemon.status == 0, "the daemon (User=postgres, Group=nogroup) can write there")
        let out = try ChildProcess.run(["reconcile", "--config", configFile, "--reference", reference])
        #expect(out.status == 0, "\(out.stdout)\(out.stderr)")
    }
}
