import EventStore
import Foundation
import POSIX

/// Store options for tests: small segments without pre-allocation unless a test says otherwise, and optionally
/// injected syscall faults.
public func testOptions(
    segmentSize: UInt64 = 1 << 20,
    preallocate: Bool = false,
    faults: SyscallFaults? = nil
) -> EventStoreOptions {
    var options = EventStoreOptions()
    options.segmentSize = segmentSize
    options.preallocateSegments = preallocate
    options.faults = faults
    return options
}

extension EventStore {
    /// `accept` awaiting its outcome, with test defaults (a captured payment on /vipps/epayment, received now).
    public func accept(
        id: String,
        body: String = "{\"ok\":true}",
        sinks: [String] = ["file"],
        receivedAtMillis: Int64? = nil
    ) async -> AcceptOutcome {
        let millis = receivedAtMillis ?? Int64(Date().timeIntervalSince1970 * 1000)
        return await withCheckedContinuation { continuation in
            accept(
                id: id,
                type: "epayments.payment.captured.v1",
                endpoint: "/vipps/epayment",
                receivedAtMillis: millis,
                body: Array(body.utf8),
                sinks: sinks
            ) { continuation.resume(returning: $0) }
        }
    }

    /// `markDelivered` awaiting durability.
    public func mark(_ sequence: UInt64, _ sink: String, position: SinkPosition? = nil) async -> StorageError? {
        await withCheckedContinuation { continuation in
            markDelivered(sequence: sequence, sink: sink, position: position) { continuation.resume(returning: $0) }
        }
    }
}

extension AcceptOutcome {
    /// The stored event, if the store took it.
    public var storedEvent: StoredEvent? {
        if case .stored(let event) = self { return event }
        return nil
    }

    /// Why the store failed to take it, if it did.
    public var failure: StorageError? {
        if case .failed(let error) = self { return error }
        return nil
    }
}
