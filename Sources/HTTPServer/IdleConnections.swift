/// The keep-alive connections of one loop that wait for their next request (nothing buffered), longest idle first:
/// the ones to close when `HTTPServerConfiguration.maxConnections` are open and a new connection arrives.
///
/// The links live in the connections (`HTTPConnection.idleLinks`), so entering and leaving cost O(1) and allocate
/// nothing. Loop thread only; a connection is unlinked before it closes, which also breaks the links' cycles.
struct IdleConnections {
    /// A connection's place in the list.
    struct Links {
        fileprivate var previous: HTTPConnection?
        fileprivate var next: HTTPConnection?
        fileprivate var linked = false
    }

    /// The connection idle longest.
    private(set) var first: HTTPConnection?
    private var last: HTTPConnection?

    /// Adds `connection` as the one idle shortest (it must not be in the list).
    mutating func append(_ connection: HTTPConnection) {
        precondition(!connection.idleLinks.linked, "connection already in the idle list")
        connection.idleLinks = Links(previous: last, next: nil, linked: true)
        if let last { last.idleLinks.next = connection } else { first = connection }
        last = connection
    }

    /// Takes `connection` out of the list (nothing when it is not in it).
    mutating func remove(_ connection: HTTPConnection) {
        let links = connection.idleLinks
        guard links.linked else { return }
        if let previous = links.previous { previous.idleLinks.next = links.next } else { first = links.next }
        if let next = links.next { next.idleLinks.previous = links.previous } else { last = links.previous }
        connection.idleLinks = Links()
    }

    /// The connection idle next longest after `connection`.
    static func after(_ connection: HTTPConnection) -> HTTPConnection? {
        connection.idleLinks.next
    }
}
