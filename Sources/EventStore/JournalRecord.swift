import HTTP1

/// One record in a journal segment. Pure value; ``JournalRecord/frame()`` and ``JournalRecord/decode(_:)`` give the
/// on-disk form.
///
/// Frame layout (little-endian): `u32 payload length`, `u32 CRC-32 of payload`, payload. Payload: `u8 kind`, then
/// - kind 1 (event): `u64 sequence`, `i64 receivedAtMillis`, id, type, endpoint (each `u16 length` + UTF-8),
///   `u16 sink count` + sink names, `u32 body length` + body, then optional fields to the end of the payload, each
///   `u8 tag`, `u16 length`, value: tag 1 identity scheme (`u8`, 1 = id derived from the signed body), tag 2 source
///   (UTF-8), tag 3 `webhook-id` header (UTF-8); unknown tags are skipped. A record without tag 1 was written by an
///   earlier version (whose id was the `webhook-id` header): it decodes with its id derived anew from the body (see
///   `StoredEvent.migratingLegacy`). Versions before the optional fields ignore them, so they still read new records.
/// - kind 2 (delivered): `u64 sequence`, sink name, `u8 has position` + optional position (`u64` device, inode,
///   offset);
/// - kind 3 (checkpoint, first record of each segment): `u64 next sequence`, `u16 count` + (sink name, position)
///   pairs, so the sequence counter and the last sink positions survive the deletion of older segments.
enum JournalRecord: Equatable {
    /// An accepted event and the sinks it is routed to.
    case event(StoredEvent, sinks: [String])
    /// The event `sequence` was delivered to `sink` (which stood at `position` afterwards, for file sinks).
    case delivered(sequence: UInt64, sink: String, position: SinkPosition?)
    /// The next sequence number to assign and the latest known position of every sink that reported one.
    case checkpoint(nextSequence: UInt64, positions: [String: SinkPosition])

    /// Tags of the optional fields after an event's body.
    private enum EventField {
        static let identityScheme: UInt8 = 1
        static let source: UInt8 = 2
        static let webhookID: UInt8 = 3
    }

    /// Identity scheme of events whose id is derived from the signed body (tag 1).
    private static let signedIdentityScheme: UInt8 = 1

    /// Bytes of the frame header (length + CRC).
    static let headerSize = 8
    /// Largest payload accepted; a larger length in a header is treated as corruption.
    static let maxPayloadSize = 16 << 20

    /// The framed bytes of this record.
    func frame() throws -> [UInt8] {
        var bytes: [UInt8] = []
        try frame(into: &bytes)
        return bytes
    }

    /// Appends the framed bytes of this record to `output` (no intermediate payload buffer); on error `output` is
    /// left as it was.
    func frame(into output: inout [UInt8]) throws {
        switch self {
        case .event(let event, let sinks):
            try Self.frameEvent(event, sequence: event.sequence, sinks: sinks, into: &output)
        case .delivered(let sequence, let sink, let position):
            try Self.frameDelivered(sequence: sequence, sink: sink, position: position, into: &output)
        case .checkpoint(let nextSequence, let positions):
            try Self.frame(into: &output, estimatedPayload: 16 + positions.keys.reduce(0) { $0 + 27 + $1.utf8.count }) {
                payload in
                payload.u8(3)
                payload.u64(nextSequence)
                payload.u16(UInt16(positions.count))
                for (sink, position) in positions.sorted(by: { $0.key < $1.key }) {
                    try payload.string(sink, field: "sink")
                    payload.position(position)
                }
            }
        }
    }

    /// Appends the frame of `.event(event, sinks: sinks)`, with `sequence` as the event's, to `output` without
    /// building the record (which would copy the event); on error `output` is left as it was.
    static func frameEvent(
        _ event: StoredEvent,
        sequence: UInt64,
        sinks: [String],
        into output: inout [UInt8]
    ) throws {
        var estimate = 96 + event.id.utf8.count + event.type.utf8.count + event.endpoint.utf8.count + event.body.count
        estimate += event.source.rawValue.utf8.count + (event.webhookID?.utf8.count ?? 0)
        for sink in sinks { estimate += 2 + sink.utf8.count }
        try frame(into: &output, estimatedPayload: estimate) { payload in
            payload.u8(1)
            payload.u64(sequence)
            payload.u64(UInt64(bitPattern: event.receivedAtMillis))
            try payload.string(event.id, field: "id")
            try payload.string(event.type, field: "type")
            try payload.string(event.endpoint, field: "endpoint")
            guard sinks.count <= Int(UInt16.max) else {
                throw StorageError(.invalidArgument, call: "encode", detail: "too many sinks")
            }
            payload.u16(UInt16(sinks.count))
            for sink in sinks { try payload.string(sink, field: "sink") }
            payload.u32(UInt32(event.body.count))
            payload.append(contentsOf: event.body)
            payload.u8(EventField.identityScheme)
            payload.u16(1)
            payload.u8(Self.signedIdentityScheme)
            try payload.field(EventField.source, event.source.rawValue)
            if let webhookID = event.webhookID { try payload.field(EventField.webhookID, webhookID) }
        }
    }

    /// Appends the frame of `.delivered(sequence:sink:position:)` to `output`; on error `output` is left as it was.
    static func frameDelivered(
        sequence: UInt64,
        sink: String,
        position: SinkPosition?,
        into output: inout [UInt8]
    ) throws {
        try frame(into: &output, estimatedPayload: 40 + sink.utf8.count) { payload in
            payload.u8(2)
            payload.u64(sequence)
            try payload.string(sink, field: "sink")
            payload.position(position)
        }
    }

    /// Appends a frame whose payload `appendPayload` appends (about `estimatedPayload` bytes, reserved so that
    /// framing reallocates at most once): header placeholder, payload, then length and CRC filled in.
    private static func frame(
        into output: inout [UInt8],
        estimatedPayload: Int,
        _ appendPayload: (inout [UInt8]) throws -> Void
    ) throws {
        let start = output.count
        let needed = start + Self.headerSize + estimatedPayload
        // Doubling, as appends would: reserving the exact size frame after frame would copy the batch each time.
        if output.capacity < needed { output.reserveCapacity(max(needed, 2 * output.capacity)) }
        output.u64(0)
        do {
            try appendPayload(&output)
        } catch {
            output.removeSubrange(start...)
            throw error
        }
        let payloadCount = output.count - start - Self.headerSize
        // A longer record would be written and synced, and then be unreadable (JournalFrame refuses its length).
        guard payloadCount <= Self.maxPayloadSize else {
            output.removeSubrange(start...)
            throw StorageError(
                .invalidArgument,
                call: "encode",
                detail: "record of \(payloadCount) bytes, over the journal's \(Self.maxPayloadSize)"
            )
        }
        output.withUnsafeMutableBytes { raw in
            let crc = CRC32.checksum(UnsafeRawBufferPointer(rebasing: raw[(start + headerSize)...]))
            raw.storeBytes(of: UInt32(payloadCount).littleEndian, toByteOffset: start, as: UInt32.self)
            raw.storeBytes(of: crc.littleEndian, toByteOffset: start + 4, as: UInt32.self)
        }
    }

    /// Decodes a payload whose CRC already matched.
    static func decode(_ payload: ArraySlice<UInt8>) throws -> JournalRecord {
        var reader = ByteReader(bytes: payload)
        switch try reader.u8() {
        case 1:
            let sequence = try reader.u64()
            let received = Int64(bitPattern: try reader.u64())
            let id = try reader.string()
            let type = try reader.string()
            let endpoint = try reader.string()
            var sinks: [String] = []
            for _ in 0..<(try reader.u16()) { sinks.append(try reader.string()) }
            let body = Array(try reader.take(Int(try reader.u32())))
            var scheme: UInt8?
            var source = EventSource.webhook
            var webhookID: String?
            while !reader.bytes.isEmpty {
                let tag = try reader.u8()
                let value = try reader.take(Int(try reader.u16()))
                switch tag {
                case EventField.identityScheme: scheme = value.first
                case EventField.source: source = EventSource(rawValue: String(decoding: value, as: UTF8.self))
                case EventField.webhookID: webhookID = String(decoding: value, as: UTF8.self)
                default: break
                }
            }
            guard scheme != nil else {
                let event = StoredEvent.migratingLegacy(
                    sequence: sequence,
                    legacyID: id,
                    type: type,
                    endpoint: endpoint,
                    receivedAtMillis: received,
                    body: body
                )
                return .event(event, sinks: sinks)
            }
            let event = StoredEvent(
                sequence: sequence,
                id: id,
                type: type,
                endpoint: endpoint,
                receivedAtMillis: received,
                body: body,
                webhookID: webhookID,
                source: source
            )
            return .event(event, sinks: sinks)
        case 2:
            return .delivered(sequence: try reader.u64(), sink: try reader.string(), position: try reader.position())
        case 3:
            let nextSequence = try reader.u64()
            var positions: [String: SinkPosition] = [:]
            for _ in 0..<(try reader.u16()) {
                let sink = try reader.string()
                positions[sink] = try reader.position()
            }
            return .checkpoint(nextSequence: nextSequence, positions: positions)
        default:
            throw StorageError(.corrupt, call: "decode", detail: "unknown record kind")
        }
    }
}

/// Little-endian integers and length-prefixed strings appended in place (no temporary arrays).
extension [UInt8] {
    fileprivate mutating func u8(_ value: UInt8) { append(value) }
    fileprivate mutating func u16(_ value: UInt16) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }
    fileprivate mutating func u32(_ value: UInt32) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }
    fileprivate mutating func u64(_ value: UInt64) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }

    fileprivate mutating func string(_ value: String, field: String) throws {
        let count = value.utf8.count
        guard count <= Int(UInt16.max) else {
            throw StorageError(.invalidArgument, call: "encode", detail: "\(field) longer than 65535 bytes")
        }
        u16(UInt16(count))
        utf8(value)
    }

    /// The UTF-8 of `value`, copied from its contiguous storage (appending a `String.UTF8View` walks it).
    fileprivate mutating func utf8(_ value: String) {
        value.withUTF8Bytes { append(contentsOf: $0) }
    }

    /// An optional UTF-8 field: `u8 tag`, `u16 length`, value; throws when longer than 65535 bytes.
    fileprivate mutating func field(_ tag: UInt8, _ value: String) throws {
        let count = value.utf8.count
        guard count <= Int(UInt16.max) else {
            throw StorageError(.invalidArgument, call: "encode", detail: "field \(tag) longer than 65535 bytes")
        }
        u8(tag)
        u16(UInt16(count))
        utf8(value)
    }

    fileprivate mutating func position(_ value: SinkPosition?) {
        guard let value else { return u8(0) }
        u8(1)
        u64(value.device)
        u64(value.inode)
        u64(value.offset)
    }
}

/// Reads what ``JournalRecord/frame(into:)`` wrote; running past the end is corruption.
private struct ByteReader {
    var bytes: ArraySlice<UInt8>

    mutating func take(_ count: Int) throws -> ArraySlice<UInt8> {
        guard count <= bytes.count else {
            throw StorageError(.corrupt, call: "decode", detail: "record shorter than its fields")
        }
        defer { bytes = bytes.dropFirst(count) }
        return bytes.prefix(count)
    }

    mutating func integer<T: FixedWidthInteger>(_: T.Type) throws -> T {
        let raw = try take(MemoryLayout<T>.size)
        return raw.reversed().reduce(T(0)) { ($0 << 8) | T($1) }
    }

    mutating func u8() throws -> UInt8 { try integer(UInt8.self) }
    mutating func u16() throws -> UInt16 { try integer(UInt16.self) }
    mutating func u32() throws -> UInt32 { try integer(UInt32.self) }
    mutating func u64() throws -> UInt64 { try integer(UInt64.self) }

    mutating func string() throws -> String {
        String(decoding: try take(Int(try u16())), as: UTF8.self)
    }

    mutating func position() throws -> SinkPosition? {
        guard try u8() == 1 else { return nil }
        return SinkPosition(device: try u64(), inode: try u64(), offset: try u64())
    }
}
