import EventStore
import Glibc
import POSIX

/// Finds, in a file sink's file, the lines of events still owed to the sink (written before a crash that lost their
/// delivered mark), so that ``FileSink`` does not write them again.
struct FileSinkScan {
    /// The start of each owed event's line, `{"id": "<escaped id>"`, and its id.
    private let wanted: [[UInt8]: String]

    init(pendingIDs: Set<String>) {
        var wanted: [[UInt8]: String] = [:]
        for id in pendingIDs {
            var prefix = Array("{\"id\": ".utf8)
            EventLine.appendString(id, to: &prefix)
            wanted[prefix] = id
        }
        self.wanted = wanted
    }

    /// Reads `file`, `size` bytes long, from `start` to its end: the owed ids whose lines are there, and the offset
    /// just past the last whole line (less than `size` when the file ends in a torn line).
    func scan(
        _ file: SyscallFile,
        from start: UInt64,
        size: UInt64
    ) throws(SystemCallError) -> (found: Set<String>, lineEnd: UInt64) {
        var found: Set<String> = []
        var offset = start
        var carry: [UInt8] = []
        var lineEnd = start
        while offset < size {
            let chunk = try file.read(count: Int(min(size - offset, 1 << 16)), at: offset)
            guard !chunk.isEmpty else { break }
            offset += UInt64(chunk.count)
            carry += chunk
            var lineStart = carry.startIndex
            while let newline = carry[lineStart...].firstIndex(of: 0x0A) {
                if let id = Self.idPrefix(of: carry[lineStart..<newline]).flatMap({ wanted[$0] }) {
                    found.insert(id)
                }
                lineEnd += UInt64(newline + 1 - lineStart)
                lineStart = newline + 1
            }
            carry.removeFirst(lineStart)
        }
        return (found, lineEnd)
    }

    /// The path of the regular file `position` names (its device and inode) where logrotate moves a sink file:
    /// beside it, under a name that starts with its own (`events.jsonl.1`, `events.jsonl-20261206`). Looked for
    /// beside `path`, and beside the file a symbolic link at `path` (or in its directory) leads to. Nil when none is
    /// found: a file elsewhere with a reused inode, or of another name, is not taken for the moved one.
    static func path(of position: SinkPosition, besides path: String) -> String? {
        for (directory, name) in places(of: path) {
            guard let names = try? Syscall.listDirectory(directory) else { continue }
            for candidate in names where candidate.hasPrefix(name) && candidate != name {
                let candidatePath = directory + "/" + candidate
                var info = stat()
                guard lstat(candidatePath, &info) == 0, info.st_mode & S_IFMT == S_IFREG,
                    UInt64(info.st_dev) == position.device, UInt64(info.st_ino) == position.inode
                else { continue }
                return candidatePath
            }
        }
        return nil
    }

    /// The directories and names a sink file at `path` has: as written, with its directory resolved (a symbolic
    /// link to a directory), and the file a symbolic link at `path` leads to.
    private static func places(of path: String) -> [(directory: String, name: String)] {
        func split(_ path: String) -> (directory: String, name: String) {
            (Syscall.parentDirectory(of: path), path.split(separator: "/").last.map(String.init) ?? path)
        }
        let written = split(path)
        var places = [written]
        if let resolved = realpath(written.directory, nil) {
            places.append((String(cString: resolved), written.name))
            free(resolved)
        }
        var target = [UInt8](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = target.withUnsafeMutableBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { readlink(path, $0.baseAddress!, $0.count - 1) }
        }
        if length > 0 {
            let link = String(decoding: target[0..<length], as: UTF8.self)
            places.append(split(link.hasPrefix("/") ? link : written.directory + "/" + link))
        }
        var seen: Set<String> = []
        return places.filter { place in seen.insert(place.directory + "/" + place.name).inserted }
    }

    /// `{"id": "<escaped id>"` of a line written by ``EventLine``, or nil.
    private static func idPrefix(of line: ArraySlice<UInt8>) -> [UInt8]? {
        let opening = Array("{\"id\": \"".utf8)
        guard line.starts(with: opening) else { return nil }
        var index = line.startIndex + opening.count
        while index < line.endIndex {
            switch line[index] {
            case UInt8(ascii: "\\"): index += 2
            case UInt8(ascii: "\""): return Array(line[line.startIndex...index])
            default: index += 1
            }
        }
        return nil
    }
}
