import Foundation

/// A temporary directory removed when the value is released.
final class TemporaryDirectory {
    let url: URL
    var path: String { url.path }

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("vipps-e2e-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    /// Writes `contents` to `name` inside the directory and returns its path.
    @discardableResult
    func write(_ name: String, _ contents: String, mode: Int = 0o600) throws -> String {
        let file = url.appendingPathComponent(name)
        try Data(contents.utf8).write(to: file)
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: file.path)
        return file.path
    }

    /// Writes each of `files` (name → contents), with `$DIR` in the contents replaced by this directory's path;
    /// names ending in `.sh` are made executable.
    func write(files: [String: String]) throws {
        for (name, contents) in files.sorted(by: { $0.key < $1.key }) {
            try write(name, expandingDIR(contents), mode: name.hasSuffix(".sh") ? 0o755 : 0o600)
        }
    }

    /// `text` with `$DIR` replaced by this directory's path.
    func expandingDIR(_ text: String) -> String {
        text.replacingOccurrences(of: "$DIR", with: path)
    }

    deinit { try? FileManager.default.removeItem(at: url) }
}
