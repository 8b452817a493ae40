import Glibc

extension ProcessRunner {
    /// Finds the file `execve` would run for `name`, the way a shell's PATH lookup does but stricter.
    ///
    /// A name containing `/` is used as given; a bare name is looked up in the absolute folders of `searchPath`
    /// (empty or relative entries, which would mean the current folder, are skipped).
    /// - Parameters:
    ///   - name: Program path or bare name.
    ///   - searchPath: Colon-separated folders.
    /// - Returns: The path of an executable regular file, or nil.
    public static func resolveExecutable(_ name: String, searchPath: String?) -> String? {
        guard !name.isEmpty, !name.utf8.contains(0) else { return nil }
        if name.contains("/") {
            return isExecutableFile(name) ? name : nil
        }
        for folder in (searchPath ?? "").split(separator: ":") where folder.hasPrefix("/") {
            let candidate = folder.hasSuffix("/") ? "\(folder)\(name)" : "\(folder)/\(name)"
            if isExecutableFile(candidate) {
                return candidate
            }
        }
        return nil
    }

    private static func isExecutableFile(_ path: String) -> Bool {
        var info = stat()
        guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return false }
        return access(path, X_OK) == 0
    }
}
