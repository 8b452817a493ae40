import Foundation

/// Runs the real `vipps-webhookd` binary (or another program) as a child process for end-to-end tests.
public enum ChildProcess {
    /// What a finished child left behind.
    public struct Output {
        /// The exit status.
        public var status: Int32
        /// Everything written to standard output.
        public var stdout: String
        /// Everything written to standard error.
        public var stderr: String
    }

    /// The `vipps-webhookd` executable built next to the test bundle.
    public static var daemonBinary: URL {
        productsDirectory.appendingPathComponent("vipps-webhookd")
    }

    /// The build products folder (`.build/debug` or `.build/release`).
    public static var productsDirectory: URL {
        for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
            return bundle.bundleURL.deletingLastPathComponent()
        }
        return Bundle.main.bundleURL
    }

    /// Runs `executable` with `arguments` to completion, feeding `stdin`.
    public static func run(
        _ arguments: [String],
        executable: URL = daemonBinary,
        stdin: [UInt8] = [],
        environment: [String: String]? = nil
    ) throws -> Output {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        if let environment { process.environment = environment }
        let input = Pipe()
        let output = Pipe()
        let errors = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        // Read both pipes concurrently with feeding stdin, so a chatty child cannot dead-lock on a full pipe.
        let group = DispatchGroup()
        nonisolated(unsafe) var outData = Data()
        nonisolated(unsafe) var errData = Data()
        DispatchQueue.global().async(group: group) { outData = output.fileHandleForReading.readDataToEndOfFile() }
        DispatchQueue.global().async(group: group) { errData = errors.fileHandleForReading.readDataToEndOfFile() }
        try? input.fileHandleForWriting.write(contentsOf: Data(stdin))
        try? input.fileHandleForWriting.close()
        group.wait()
        process.waitUntilExit()
        return Output(
            status: process.terminationStatus,
            stdout: String(decoding: outData, as: UTF8.self),
            stderr: String(decoding: errData, as: UTF8.self)
        )
    }
}

/// Runs `/usr/bin/curl -sS --max-time 5` with `arguments`, feeding `input` on its standard input; returns its
/// standard output and exit status.
public func curl(_ arguments: [String], input: [UInt8]? = nil) throws -> (output: String, status: Int32) {
    let result = try ChildProcess.run(
        ["-sS", "--max-time", "5"] + arguments,
        executable: URL(fileURLWithPath: "/usr/bin/curl"),
        stdin: input ?? []
    )
    return (result.stdout, result.status)
}
