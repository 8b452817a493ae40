import Glibc
import Testing

@testable import WebhookDaemon

@Suite("SocketActivation")
struct SocketActivationTests {
    @Test("finds named sockets from fd 3 on")
    func namedSockets() throws {
        let sockets = try SocketActivation.parse(
            listenFDs: "2",
            listenPID: "42",
            listenFDNames: "http:admin",
            processID: 42
        )
        #expect(sockets == [.init(fd: 3, name: "http"), .init(fd: 4, name: "admin")])
    }

    @Test("names sockets \"unknown\" without LISTEN_FDNAMES")
    func unnamedSockets() throws {
        let sockets = try SocketActivation.parse(listenFDs: "1", listenPID: "42", listenFDNames: nil, processID: 42)
        #expect(sockets == [.init(fd: 3, name: "unknown")])
    }

    @Test("ignores variables meant for another process or incomplete")
    func notActivated() throws {
        #expect(try SocketActivation.parse(listenFDs: "1", listenPID: "43", listenFDNames: nil, processID: 42) == [])
        #expect(try SocketActivation.parse(listenFDs: "1", listenPID: nil, listenFDNames: nil, processID: 42) == [])
        #expect(try SocketActivation.parse(listenFDs: nil, listenPID: "42", listenFDNames: nil, processID: 42) == [])
        #expect(try SocketActivation.parse(listenFDs: "0", listenPID: "42", listenFDNames: "", processID: 42) == [])
        #expect(try SocketActivation.parse(listenFDs: nil, listenPID: nil, listenFDNames: nil, processID: 42) == [])
    }

    @Test(
        "rejects malformed variables",
        arguments: [
            ("x", "42", nil), ("-1", "42", nil), ("1", "pid", nil), ("1", "0", nil), ("65", "42", nil),
            ("2", "42", "http"), ("1", "42", "http:admin"),
        ] as [(String, String, String?)]
    )
    func malformed(fds: String, pid: String, names: String?) {
        #expect(throws: SystemdError.self) {
            try SocketActivation.parse(listenFDs: fds, listenPID: pid, listenFDNames: names, processID: 42)
        }
    }

    @Test("adopting a socket sets FD_CLOEXEC")
    func adoptSetsCloseOnExec() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(fd >= 0)
        defer { close(fd) }
        #expect(fcntl(fd, F_GETFD) & FD_CLOEXEC == 0)

        try SocketActivation.adopt([.init(fd: fd, name: "http")])
        #expect(fcntl(fd, F_GETFD) & FD_CLOEXEC != 0)
    }

    @Test("adopting refuses a descriptor that is not a socket")
    func adoptRefusesPipe() throws {
        var fds: [Int32] = [-1, -1]
        try #require(pipe(&fds) == 0)
        defer {
            close(fds[0])
            close(fds[1])
        }
        let error = try #require(throws: SystemdError.self) {
            try SocketActivation.adopt([.init(fd: fds[0], name: "http")])
        }
        #expect(error.message.contains("is not a socket"))
    }

    @Test("adopting reports a closed descriptor with errno")
    func adoptReportsClosedDescriptor() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(fd >= 0)
        close(fd)
        let error = try #require(throws: SystemdError.self) {
            try SocketActivation.adopt([.init(fd: fd, name: "http")])
        }
        #expect(error.call == "fstat")
        #expect(error.errno == EBADF)
    }

    @Test("taking the sockets unsets the variables even when they belong to another process")
    func takeUnsetsEnvironment() throws {
        setenv("LISTEN_FDS", "1", 1)
        setenv("LISTEN_PID", String(getpid() + 1), 1)
        setenv("LISTEN_FDNAMES", "http", 1)

        #expect(try SocketActivation.takeInheritedSockets() == [])
        #expect(getenv("LISTEN_FDS") == nil)
        #expect(getenv("LISTEN_PID") == nil)
        #expect(getenv("LISTEN_FDNAMES") == nil)
    }
}
