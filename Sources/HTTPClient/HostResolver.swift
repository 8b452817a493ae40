import Dispatch
import Glibc
import Synchronization

/// Resolves a host name with `getaddrinfo(3)` within an exchange's deadline.
///
/// The resolver's own waits (5 s per name server and attempt by default, several of each) could outlast the deadline,
/// and `getaddrinfo` cannot be interrupted: it runs on a Dispatch thread, and a caller whose deadline passes first
/// gets ``HTTPClientError/timedOut(place:doing:seconds:)`` at once; the late answer is freed when it comes.
struct HostResolver: Sendable {
    /// The lookup: `getaddrinfo`'s status and list for a host and service (`freeaddrinfo` frees the list).
    typealias Lookup =
        @Sendable (_ host: String, _ service: String) -> (
            status: Int32, list: UnsafeMutablePointer<addrinfo>?
        )

    let lookup: Lookup

    /// `getaddrinfo` for TCP addresses of any family.
    static let system = HostResolver { host, service in addresses(host, service, flags: 0) }

    /// `getaddrinfo` for TCP addresses of any family, with `flags` (`AI_…`).
    private static func addresses(
        _ host: String,
        _ service: String,
        flags: Int32
    ) -> (status: Int32, list: UnsafeMutablePointer<addrinfo>?) {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = flags
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, service, &hints, &list)
        return (status, list)
    }

    /// A resolver using `lookup` (tests: a slow one).
    init(_ lookup: @escaping Lookup) {
        self.lookup = lookup
    }

    /// The addresses of `host` for `port`; the caller frees the list with `freeaddrinfo`. An address written as
    /// one (`127.0.0.1`, `::1`) is taken at once, without a lookup or a thread.
    func resolve(
        host: String,
        port: UInt16,
        place: String,
        deadline: Deadline
    ) throws(HTTPClientError) -> UnsafeMutablePointer<addrinfo> {
        // No name service is asked for an address: no thread to wait for.
        if let address = Self.addresses(host, String(port), flags: AI_NUMERICHOST | AI_NUMERICSERV).list {
            return address
        }
        let pending = Pending()
        let done = DispatchSemaphore(value: 0)
        DispatchQueue.global().async { [lookup] in
            let (status, list) = lookup(host, String(port))
            if !pending.deliver(Answer(status: status, list: list)), let list { freeaddrinfo(list) }
            done.signal()
        }
        // One wait is at most a minute (``Deadline/remainingMilliseconds``): wait again while time is left.
        while done.wait(timeout: .now() + .milliseconds(Int(deadline.remainingMilliseconds))) == .timedOut,
            deadline.remainingMilliseconds > 0
        {}
        guard let answer = pending.take() else {
            throw .timedOut(place: place, doing: "resolving the host", seconds: deadline.seconds)
        }
        guard answer.status == 0, let list = answer.list else {
            if let list = answer.list { freeaddrinfo(list) }
            throw .hostNotFound(host: host, reason: String(cString: gai_strerror(answer.status)))
        }
        return list
    }

    /// `getaddrinfo`'s status and list, owned by one side at a time (the resolving thread, then the caller).
    private struct Answer: @unchecked Sendable {
        var status: Int32
        var list: UnsafeMutablePointer<addrinfo>?
    }

    /// One lookup's answer, handed from the resolving thread to the caller unless the caller gave up first.
    private final class Pending: Sendable {
        private struct State {
            var answer: Answer?
            var abandoned = false
        }
        private let state = Mutex(State())

        /// Stores the answer; false when the caller has given up (the answer is then the resolver's to free).
        func deliver(_ answer: Answer) -> Bool {
            state.withLock {
                guard !$0.abandoned else { return false }
                $0.answer = answer
                return true
            }
        }

        /// The answer, or nil when none came yet: then the caller gives up, and a later answer is freed.
        func take() -> Answer? {
            state.withLock {
                guard let answer = $0.answer else {
                    $0.abandoned = true
                    return nil
                }
                return answer
            }
        }
    }
}
