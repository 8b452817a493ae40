import Foundation
import TestSupport
import Testing

/// `vipps-webhookd sign` run as a real process against the vendor vectors.
@Suite("sign command")
struct SignCommandTests {
    static let vectors = SignatureVector.all

    @Test("prints the vector's three headers byte for byte (body file and stdin)", arguments: vectors)
    func matchesVector(vector: SignatureVector) throws {
        let dir = TemporaryDirectory()
        let secretFile = try dir.write("secret", vector.secret + "\n")
        let bodyFile = try dir.write("body", vector.body)
        let expected = """
            x-ms-date: \(vector.date)
            x-ms-content-sha256: \(vector.expectedContentHash)
            authorization: \(vector.expectedAuthorization)

            """
        let fromFile = try ChildProcess.run(
            [
                "sign", "--secret-file", secretFile, "--url", vector.registeredUrl, "--date", vector.date,
                "--body-file", bodyFile,
            ])
        #expect(fromFile.status == 0, "\(fromFile.stderr)")
        #expect(fromFile.stdout == expected)

        let fromStdin = try ChildProcess.run(
            ["sign", "--secret-env", "E2E_SECRET", "--url", vector.registeredUrl, "--date", vector.date],
            stdin: Array(vector.body.utf8),
            environment: ["E2E_SECRET": vector.secret]
        )
        #expect(fromStdin.status == 0, "\(fromStdin.stderr)")
        #expect(fromStdin.stdout == expected)
    }

    @Test("without --date it signs with the current time")
    func currentDate() throws {
        let out = try ChildProcess.run(
            ["sign", "--secret-env", "E2E_SECRET", "--url", "https://example.com/x"],
            stdin: Array("{}".utf8),
            environment: ["E2E_SECRET": "s3cret"]
        )
        #expect(out.status == 0)
        let lines = out.stdout.split(separator: "\n")
        #expect(lines.count == 3)
        #expect(lines.first?.hasPrefix("x-ms-date: ") == true)
        #expect(lines.first?.hasSuffix(" GMT") == true)
    }

    @Test("bad input gets a clear error and a non-zero exit, and never echoes the secret")
    func badInput() throws {
        let dir = TemporaryDirectory()
        let secretFile = try dir.write("secret", "very-secret-value")
        let cases: [([String], String)] = [
            (["sign", "--url", "https://example.com/"], "--secret-file"),
            (["sign", "--secret-file", secretFile, "--url", "ftp://example.com/"], "--url"),
            (["sign", "--secret-file", secretFile, "--url", "https://example.com/", "--date", "today"], "--date"),
            (["sign", "--secret-file", dir.path + "/missing", "--url", "https://example.com/"], "cannot read"),
            (["sign", "--secret-env", "E2E_UNSET_VARIABLE", "--url", "https://example.com/"], "not set"),
        ]
        for (arguments, message) in cases {
            let out = try ChildProcess.run(arguments, environment: [:])
            #expect(out.status != 0, "\(arguments)")
            #expect(out.stderr.contains(message), "\(arguments): \(out.stderr)")
            #expect(!out.stderr.contains("very-secret-value") && !out.stdout.contains("very-secret-value"))
        }
    }
}
