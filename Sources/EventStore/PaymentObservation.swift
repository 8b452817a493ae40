import HTTP1
import VippsWebhooks

/// One ePayment event the daemon holds (by webhook or reconciliation), as the payment ledger keeps it: a line of
/// `payments.log`.
public struct PaymentObservation: Sendable, Equatable {
    /// `msn`.
    public var msn: String
    /// `reference`.
    public var reference: String
    /// `pspReference`.
    public var pspReference: String
    /// `name` (`CREATED`, `CAPTURED`, …).
    public var name: String
    /// `amount.value` in minor units, when the event had one.
    public var amount: Int64?
    /// `success`.
    public var success: Bool
    /// The endpoint whose routes select the event's sinks.
    public var endpoint: String
    /// When the daemon stored the event (milliseconds since 1970).
    public var atMillis: Int64

    /// Creates an observation.
    public init(
        msn: String,
        reference: String,
        pspReference: String,
        name: String,
        amount: Int64?,
        success: Bool,
        endpoint: String,
        atMillis: Int64
    ) {
        self.msn = msn
        self.reference = reference
        self.pspReference = pspReference
        self.name = name
        self.amount = amount
        self.success = success
        self.endpoint = endpoint
        self.atMillis = atMillis
    }

    /// The observation of a decoded ePayment event with a complete business key, or nil for any other event.
    public init?(_ decoded: DecodedEvent, endpoint: String, atMillis: Int64) {
        guard let key = EPaymentBusinessKey(decoded) else { return nil }
        self.init(key, of: decoded, endpoint: endpoint, atMillis: atMillis)
    }

    /// The observation of the ePayment event `decoded` whose business key is `key` (`EPaymentBusinessKey(decoded)`,
    /// for a caller that derived it already).
    public init(_ key: EPaymentBusinessKey, of decoded: DecodedEvent, endpoint: String, atMillis: Int64) {
        self.init(
            msn: key.msn,
            reference: key.reference,
            pspReference: key.pspReference,
            name: key.name,
            amount: decoded.json?["amount"]?["value"]?.numberValue?.int64Value,
            success: decoded.json?["success"]?.boolValue ?? false,
            endpoint: endpoint,
            atMillis: atMillis
        )
    }

    /// The line written to `payments.log` (compact JSON ending with its checksum, ``PaymentLineChecksum``, and a
    /// newline), as bytes.
    var line: [UInt8] {
        var bytes: [UInt8] = []
        appendLine(to: &bytes)
        return bytes
    }

    /// Appends ``line`` to `bytes` (the ledger's pending lines, on its queue: no line of its own is built). Member
    /// names are written as literal bytes; the texts are escaped by `JSONValue.writeString`.
    func appendLine(to bytes: inout [UInt8]) {
        let texts = msn.utf8.count + reference.utf8.count + pspReference.utf8.count + name.utf8.count
        let needed = bytes.count + 160 + texts + endpoint.utf8.count
        // Doubling, as appends would: reserving the exact size line after line would copy the buffer each time.
        if bytes.capacity < needed { bytes.reserveCapacity(max(needed, 2 * bytes.capacity)) }
        let lineStart = bytes.count
        ASCII.append(#"{"msn":"#, to: &bytes)
        JSONValue.writeString(msn, into: &bytes)
        ASCII.append(#","reference":"#, to: &bytes)
        JSONValue.writeString(reference, into: &bytes)
        ASCII.append(#","pspReference":"#, to: &bytes)
        JSONValue.writeString(pspReference, into: &bytes)
        ASCII.append(#","name":"#, to: &bytes)
        JSONValue.writeString(name, into: &bytes)
        ASCII.append(success ? #","success":true,"endpoint":"# : #","success":false,"endpoint":"#, to: &bytes)
        JSONValue.writeString(endpoint, into: &bytes)
        ASCII.append(#","at":"#, to: &bytes)
        ASCII.appendDecimal(atMillis, to: &bytes)
        if let amount {
            ASCII.append(#","amount":"#, to: &bytes)
            ASCII.appendDecimal(amount, to: &bytes)
        }
        PaymentLineChecksum.close(&bytes, lineStart: lineStart)
        bytes.append(0x0A)
    }

    /// The members a ledger line may have (every version wrote these, `crc` since the checksum).
    static let memberNames: Set<String> = [
        "msn", "reference", "pspReference", "name", "success", "endpoint", "at", "amount", "crc",
    ]

    /// Parses a line of `payments.log`; nil when it is damaged. A line in the shape this version writes is read
    /// without a JSON tree (``PaymentLineReader``); any other is parsed as JSON. `earlierVersion`: a line without a
    /// checksum is read too, as in a file an earlier version wrote (see ``PaymentLineChecksum``); else it is damage.
    init?(line: ArraySlice<UInt8>, earlierVersion: Bool = false) {
        if let written = PaymentLineReader.observation(line, earlierVersion: earlierVersion) {
            self = written
        } else {
            self.init(parsingJSON: line, earlierVersion: earlierVersion)
        }
    }

    /// Parses a line of `payments.log` as JSON (any member order, escapes, whitespace); nil when it is damaged: not
    /// JSON, a member missing or of another type, a member the ledger never writes, or a checksum member that is
    /// not the line's last or does not match (``PaymentLineChecksum``), or none (unless `earlierVersion`).
    init?(parsingJSON line: ArraySlice<UInt8>, earlierVersion: Bool = false) {
        let checksum = line.withUnsafeBufferPointer { PaymentLineChecksum.status($0) }
        guard checksum != .mismatch, earlierVersion || checksum != .absent,
            let json = try? JSONParser.parse(Array(line)),
            case .object(let members) = json,
            members.allSatisfy({ Self.memberNames.contains($0.key) }),
            (json["crc"] == nil) == (checksum == .absent),
            let msn = json["msn"]?.stringValue, let reference = json["reference"]?.stringValue,
            let pspReference = json["pspReference"]?.stringValue, let name = json["name"]?.stringValue,
            let success = json["success"]?.boolValue, let endpoint = json["endpoint"]?.stringValue,
            let at = json["at"]?.numberValue?.int64Value
        else { return nil }
        let amount = json["amount"]?.numberValue?.int64Value
        guard json["amount"] == nil || amount != nil else { return nil }
        guard members.count == Set(members.map(\.key)).count else { return nil }  // each member once
        self.init(
            msn: msn,
            reference: reference,
            pspReference: pspReference,
            name: name,
            amount: amount,
            success: success,
            endpoint: endpoint,
            atMillis: at
        )
    }
}
