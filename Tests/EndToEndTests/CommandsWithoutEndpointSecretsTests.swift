import Foundation
import TestSupport
import Testing

/// `webhooks status` and `reconcile` without a daemon verify no signature: they run from a shell on the production
/// configuration, whose endpoint secrets (systemd credentials, the daemon user's files) that shell may not reach.
@Suite("commands that read no endpoint secret")
struct CommandsWithoutEndpointSecretsTests {
    @Test(
        "webhooks status works on a config whose endpoint secret is a systemd credential (it needs no endpoint secret)"
    )
    func statusWithCredentialSecret() throws {
        let fake = try FakeVippsAPI()
        defer { fake.stop() }
        let dir = TemporaryDirectory()
        try dir.write(files: RegistrationFixture.files)
        // As config/config.example.yaml: the endpoint secret comes from LoadCredential= (secret_credential), the API
        // credentials from a file. The README says to run exactly `webhooks status --config ...` from a shell.
        let config = RegistrationFixture.config(fake, checkMinutes: nil)
            .replacingOccurrences(of: #"secret_file: "$DIR/secret""#, with: #"secret_credential: "epayment.secret""#)
        let path = try dir.write("config.yaml", dir.expandingDIR(config))
        fake.add(
            url: RegistrationFixture.hookURL,
            events: [RegistrationFixture.captured],
            msn: WebhooksCommandTests.msn
        )
        let out = try ChildProcess.run(["webhooks", "status", "--config", path], environment: [:])
        #expect(out.status == 0, "exit \(out.status): \(out.stderr)")
        #expect(out.stdout == "/vipps/epayment: ok\n", "\(out.stdout)")
    }

    @Test("reconcile with the daemon stopped works on a config whose endpoint secret is a systemd credential")
    func reconcileHereWithCredentialSecret() throws {
        let api = try FakeEPaymentAPI()
        defer { api.stop() }
        let directory = TemporaryDirectory()
        try FileManager.default.createDirectory(
            atPath: directory.path + "/credentials",
            withIntermediateDirectories: true
        )
        try directory.write("credentials/epayment.secret", Fixture.secret + "\n")
        let harness = try DaemonHarness(
            config: Fixture.basicConfig(
                extraTop: DaemonReconciliationTests.vippsAPI(api),
                secret: #"secret_credential: "epayment.secret""#
            ),
            environment: ["CREDENTIALS_DIRECTORY": directory.path + "/credentials"],
            files: ["vipps.env": FakeEPaymentAPI.credentials(msn: DaemonReconciliationTests.msn)],
            directory: directory
        )
        #expect(try harness.daemon.stop() == 0)
        let reference = "order-\(UUID().uuidString.prefix(8))"
        api.setLog(
            reference,
            msn: DaemonReconciliationTests.msn,
            [FakeEPaymentAPI.Entry(pspReference: "psp-c", name: "CAPTURED")]
        )
        // From the operator's shell: no CREDENTIALS_DIRECTORY (only systemd sets it for the service).
        let out = try ChildProcess.run(
            ["reconcile", "--config", harness.configFile, "--reference", reference],
            environment: [:]
        )
        #expect(out.status == 0, "exit \(out.status): \(out.stdout)\(out.stderr)")
        #expect(out.stdout.contains("1 event added"), "\(out.stdout)")
    }
}
