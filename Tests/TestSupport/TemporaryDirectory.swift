import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A fresh directory under /tmp (made by `mkdtemp`, mode 0700), removed with everything in it by ``remove()`` or,
/// unless told otherwise, when the value is released. The one temporary folder of every test target.
public final class TemporaryDirectory: Sendable {
    /// The directory's absolute path (short, so that Unix socket paths inside it stay within 108 bytes).
    public let path: String
    private let removedOnRelease: Bool

    /// Makes the directory `/tmp/<prefix>-XXXXXX`; with `removedOnRelease` false, only ``remove()`` removes it (for a
    /// test that keeps the path and drops the value).
    public init(prefix: String = "vipps-test", removedOnRelease: Bool = true) {
        var template = Array("/tmp/\(prefix)-XXXXXX".utf8CString)
        let created = template.withUnsafeMutableBufferPointer { buffer in
            mkdtemp(buffer.baseAddress!).map { String(cString: $0) }
        }
        guard let created else { preconditionFailure("mkdtemp /tmp/\(prefix)-XXXXXX: errno \(errno)") }
        path = created
        self.removedOnRelease = removedOnRelease
    }

    deinit {
        if removedOnRelease { remove() }
    }

    /// The directory as a file URL.
    public var url: URL { URL(fileURLWithPath: path, isDirectory: true) }

    /// Removes the directory and everything in it.
    public func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// Writes `contents` to `name` inside the directory with permissions `mode` and returns its path.
    @discardableResult
    public func write(_ name: String, _ contents: String, mode: Int = 0o600) throws -> String {
        let file = path + "/" + name
        try Data(contents.utf8).write(to: URL(fileURLWithPath: file))
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: file)
        return file
    }

    /// Writes each of `files` (name → contents), with `$DIR` in the contents replaced by this directory's path;
    /// names ending in `.sh` are made executable.
    public func write(files: [String: String]) throws {
        for (name, contents) in files.sorted(by: { $0.key < $1.key }) {
            try write(name, expandingDIR(contents), mode: name.hasSuffix(".sh") ? 0o755 : 0o600)
        }
    }

    /// `text` with `$DIR` replaced by this directory's path.
    public func expandingDIR(_ text: String) -> String {
        text.replacingOccurrences(of: "$DIR", with: path)
    }
}
