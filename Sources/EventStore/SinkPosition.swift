/// Where a sink's output file stood after an acknowledged write: which file (device + inode) and the byte offset
/// just past the last line written.
///
/// Recorded in the delivery ledger with each delivered mark so a file sink can find, after a crash, lines it wrote
/// but whose mark was not yet durable.
public struct SinkPosition: Sendable, Equatable, Hashable {
    /// `st_dev` of the file.
    public var device: UInt64
    /// `st_ino` of the file.
    public var inode: UInt64
    /// Byte offset just past the last acknowledged line.
    public var offset: UInt64

    /// Creates a position.
    public init(device: UInt64, inode: UInt64, offset: UInt64) {
        self.device = device
        self.inode = inode
        self.offset = offset
    }
}
