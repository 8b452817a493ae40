import Foundation

/// Polls `condition` every 20 ms until it holds; after `timeout` seconds throws a `TimeoutFailure` naming `what`,
/// followed by `log` (a daemon's log, say) when one is given. The one way the end-to-end tests wait for anything.
/// The default is generous: what is waited for usually involves a child process or an fsync, and CI runs about eight
/// test cases at once on two cores. A wait returns as soon as its condition holds, so only a failure pays for it.
public func waitUntil(
    _ what: String,
    timeout: Double = 15,
    log: @autoclosure () -> String = "",
    _ condition: () throws -> Bool
) throws {
    guard try !eventually(timeout, every: 0.02, condition) else { return }
    let context = log()
    throw TimeoutFailure(
        description: "timed out after \(timeout) s: \(what)" + (context.isEmpty ? "" : "\nlog:\n\(context)")
    )
}

/// Polls `condition` every `interval` seconds (10 ms by default) for at most `seconds`; whether it came true. The
/// default is generous for a loaded machine (see ``waitUntil(_:timeout:log:_:)``); never use it to show that something
/// does not happen.
public func eventually(
    _ seconds: Double = 10,
    every interval: Double = 0.01,
    _ condition: () throws -> Bool
) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try condition() { return true }
        usleep(UInt32(interval * 1_000_000))
    }
    return try condition()
}

/// Polls `condition` every `interval` seconds (10 ms by default) for at most `seconds`, sleeping the task (not the
/// thread) in between; whether it came true. For async tests; sync code uses ``eventually(_:every:_:)``.
public func eventually(
    within seconds: Double,
    every interval: Double = 0.01,
    _ condition: () async throws -> Bool
) async rethrows -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .seconds(interval))
    }
    return try await condition()
}

/// A condition did not come true in time.
public struct TimeoutFailure: Error, CustomStringConvertible {
    /// What did not happen in time.
    public var description: String

    /// Creates a failure saying `description`.
    public init(description: String) { self.description = description }
}
