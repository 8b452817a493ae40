import Glibc
import HTTP1
import POSIX
import VippsAPI

/// A credentials file: `KEY=VALUE` lines with the `VIPPS_*` environment names, `#` comments and blank lines allowed,
/// an optional `export ` prefix and one pair of surrounding quotes on a value. Parsing is pure.
struct ManagementCredentialsFile {
    /// Largest file read.
    static let maximumBytes = 64 * 1024

    /// The values by key.
    var values: [String: String] = [:]

    /// One line for each `VIPPS_*` key not among ``keys`` (a misspelling, or a key of another use of the file).
    var unknownKeys: [String] = []

    /// The `VIPPS_*` keys read; another `VIPPS_*` key is warned about as a possible misspelling (keys of other
    /// programs sharing the file are left alone).
    static let keys = ["VIPPS_CLIENT_ID", "VIPPS_CLIENT_SECRET", "VIPPS_SUBSCRIPTION_KEY", "VIPPS_MSN"]

    /// Parses the text of a file; the error names the line, never a value.
    init(text: String, path: String) throws(ManagementCredentialsError) {
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var line = Substring(rawLine)
            if line.hasSuffix("\r") { line = line.dropLast() }
            line = ASCII.trimmed(line)
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix("export ") { line = line.dropFirst("export ".count) }
            guard let equals = line.firstIndex(of: "=") else {
                throw .init("\(path):\(index + 1): expected KEY=VALUE")
            }
            let key = String(ASCII.trimmed(line[..<equals]))
            var value = String(ASCII.trimmed(line[line.index(after: equals)...]))
            if value.count >= 2, let first = value.first, first == "\"" || first == "'", value.last == first {
                value = String(value.dropFirst().dropLast())
            }
            guard !key.isEmpty else { throw .init("\(path):\(index + 1): empty key") }
            if key.hasPrefix("VIPPS_"), !Self.keys.contains(key) {
                // A misspelt VIPPS_MSN would otherwise make the caller a partner without an MSN, silently. A key
                // that is no variable name (`VIPPS_CLIENT_SECRET: …`, a colon for the `=`) may hold a secret.
                let isName = key.utf8.allSatisfy {
                    (0x41...0x5A).contains($0) || (0x30...0x39).contains($0) || $0 == UInt8(ascii: "_")
                }
                let shown = isName ? key : "a VIPPS_ key with other characters than A-Z, 0-9 and _ (not shown)"
                let suggestion =
                    isName ? EditDistance.nearest(to: key, in: Self.keys).map { " (did you mean \($0)?)" } ?? "" : ""
                unknownKeys.append("\(path):\(index + 1): \(shown) is not a credentials key, not read\(suggestion)")
            }
            values[key] = value
        }
    }
}

extension ManagementCredentialsFile {
    /// Reads and parses the file at `path`; a file others may read, and each unknown `VIPPS_*` key, get a warning
    /// through `warn`. Its group may read it: the service's user reads it through its group
    /// (`chown root:vipps-webhookd`, mode 640), as it does webhook secret files.
    static func read(_ path: String, warn: (String) -> Void) throws(ManagementCredentialsError) -> Self {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw .init("cannot read credentials file \(path): \(String(cString: strerror(errno)))")
        }
        if info.st_mode & 0o007 != 0 {
            warn(
                "warning: credentials file \(path) is accessible by others (mode "
                    + "\(String(info.st_mode & 0o777, radix: 8))); run chmod o-rwx \(path)"
            )
        }
        let fd: Int32
        do {
            fd = try Syscall.open(path, flags: O_RDONLY)
        } catch {
            throw .init("cannot read credentials file \(path): \(systemErrorMessage(error.errno))")
        }
        defer { Syscall.close(fd) }
        guard let data = try? Syscall.readAll(fd, limit: maximumBytes + 1, detail: path) else {
            throw .init("cannot read credentials file \(path)")
        }
        guard data.count <= maximumBytes else {
            throw .init("credentials file \(path) is over \(maximumBytes) bytes")
        }
        let file = try ManagementCredentialsFile(text: String(decoding: data, as: UTF8.self), path: path)
        for line in file.unknownKeys { warn("warning: \(line)") }
        return file
    }

    /// The management credentials the file holds (`VIPPS_CLIENT_ID`, `VIPPS_CLIENT_SECRET`,
    /// `VIPPS_SUBSCRIPTION_KEY`, and `VIPPS_MSN` when the caller is not a partner); the error names the missing key.
    func credentials(path: String) throws(ManagementCredentialsError) -> ManagementCredentials {
        func value(_ name: String) throws(ManagementCredentialsError) -> String {
            guard let value = values[name], !value.isEmpty else { throw .init("\(path): no \(name)=... line") }
            return value
        }
        let msn = values["VIPPS_MSN"].flatMap { $0.isEmpty ? nil : $0 }
        return ManagementCredentials(
            clientID: try value("VIPPS_CLIENT_ID"),
            clientSecret: try value("VIPPS_CLIENT_SECRET"),
            subscriptionKey: try value("VIPPS_SUBSCRIPTION_KEY"),
            msn: msn
        )
    }
}

/// A problem with management credentials or API options; the message never contains a secret.
struct ManagementCredentialsError: Error, CustomStringConvertible {
    var description: String

    init(_ description: String) { self.description = description }
}
