import HTTP1

/// Reads typed fields from a body object and records a finding for every field that is missing or malformed.
struct FieldReader {
    /// Currencies the vendor documents for amounts (six Strings compared cost less than one hashed).
    static let currencies: [String] = ["NOK", "DKK", "EUR", "SEK", "USD", "GBP"]

    /// Prefix for finding paths (`amount.` inside the ePayment amount object).
    var pathPrefix = ""
    private(set) var findings: [EventFinding] = []
    /// Where the fields this reader is asked for are written down, when a catalogue is being built
    /// (``EventFieldCatalogue``); nil while decoding webhooks.
    let reads: FieldReadLog?
    /// The members of the object read (none when it is not an object), looked up by ``value(_:)``.
    private let members: [JSONMember]
    /// Where the next lookup starts: just after the member found last. Decoders read fields mostly in the order the
    /// vendor sends them, so a lookup usually compares one key.
    private var nextPosition = 0

    /// A reader of `object` writing its reads to `reads`: a reader of an object nested in another passes the outer
    /// reader's log, so an event costs one task-local read.
    init(_ object: JSONValue, pathPrefix: String = "", reads: FieldReadLog? = FieldReadLog.current) {
        self.pathPrefix = pathPrefix
        self.reads = reads
        self.members = object.objectMembers ?? []
    }

    /// The value of member `key`, as the object's `[key]` subscript gives it. The parser refuses objects with two keys
    /// equal as Strings, so at most one member matches and the position the search starts at does not change the
    /// result.
    private mutating func value(_ key: String) -> JSONValue? {
        let count = members.count
        var position = nextPosition
        for _ in 0..<count {
            if position == count { position = 0 }
            if members[position].key == key {
                nextPosition = position + 1
                return members[position].value
            }
            position += 1
        }
        return nil
    }

    mutating func note(_ key: String, _ problem: EventFinding.Problem) {
        findings.append(EventFinding(field: pathPrefix + key, problem: problem))
    }

    /// Writes down that the decoder reads `key` (only while a catalogue is being built).
    private func record(_ key: String, required: Bool, object: Bool = false) {
        reads?.append(EventField(path: pathPrefix + key, required: required, isObject: object))
    }

    /// Writes down that the event can carry `key`, a field read under another name (an older spelling), so that the
    /// catalogue knows it, optional, though the sample body has the newer one.
    func mayCarry(_ key: String) {
        record(key, required: false)
    }

    /// A string field. Absent or null: `nil`, with a `missing` finding when `required`. Another type: `nil` and a
    /// `wrongType` finding.
    mutating func string(_ key: String, required: Bool = false) -> String? {
        record(key, required: required)
        switch value(key) {
        case .string(let text): return text
        case nil, .null?:
            if required { note(key, .missing) }
            return nil
        case _?:
            note(key, .wrongType(expected: "string"))
            return nil
        }
    }

    /// A boolean field, same rules as ``string(_:required:)``.
    mutating func bool(_ key: String, required: Bool = false) -> Bool? {
        record(key, required: required)
        switch value(key) {
        case .bool(let flag): return flag
        case nil, .null?:
            if required { note(key, .missing) }
            return nil
        case _?:
            note(key, .wrongType(expected: "boolean"))
            return nil
        }
    }

    /// An amount in minor units: an integer ≥ 0 (`invalid` finding otherwise, and `nil`).
    mutating func amount(_ key: String, required: Bool = false) -> Int64? {
        record(key, required: required)
        switch value(key) {
        case .number(let number):
            guard let value = number.int64Value, value >= 0 else {
                note(key, .invalid(rule: "an integer ≥ 0 (minor units)"))
                return nil
            }
            return value
        case nil, .null?:
            if required { note(key, .missing) }
            return nil
        case _?:
            note(key, .wrongType(expected: "number"))
            return nil
        }
    }

    /// An object field, kept as JSON.
    mutating func object(_ key: String, required: Bool = false) -> JSONValue? {
        record(key, required: required, object: true)
        switch value(key) {
        case let value? where value.objectMembers != nil: return value
        case nil, .null?: return nil
        case _?:
            note(key, .wrongType(expected: "object"))
            return nil
        }
    }

    /// A code that arrives either as a string or as a number (`"50006"` or `50006`), as text.
    mutating func code(_ key: String) -> String? {
        record(key, required: false)
        switch value(key) {
        case .string(let text): return text
        case .number(let number): return number.text
        case nil, .null?: return nil
        case _?:
            note(key, .wrongType(expected: "string or number"))
            return nil
        }
    }

    /// A merchant serial number: 4–10 ASCII digits.
    mutating func msn(_ key: String, required: Bool = false) -> String? {
        guard let text = string(key, required: required) else { return nil }
        let digits = Self.everyByte(of: text) { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
        if !digits || !(4...10).contains(text.utf8.count) { note(key, .invalid(rule: "4 to 10 digits")) }
        return text
    }

    /// An ePayment reference: `^[a-zA-Z0-9-]{8,64}$`.
    mutating func reference(_ key: String, required: Bool = false) -> String? {
        guard let text = string(key, required: required) else { return nil }
        let allowed = Self.everyByte(of: text) { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"):
                true
            default: false
            }
        }
        if !allowed || !(8...64).contains(text.utf8.count) { note(key, .invalid(rule: "8 to 64 of [a-zA-Z0-9-]")) }
        return text
    }

    /// Whether every UTF-8 byte of `text` satisfies `test`, read in place.
    private static func everyByte(of text: String, satisfy test: (UInt8) -> Bool) -> Bool {
        text.withUTF8Bytes { $0.allSatisfy(test) }
    }

    /// A currency code from ``currencies``.
    mutating func currency(_ key: String, required: Bool = false) -> String? {
        guard let text = string(key, required: required) else { return nil }
        if !FieldReader.currencies.contains(text) { note(key, .invalid(rule: "one of DKK EUR GBP NOK SEK USD")) }
        return text
    }

    /// An RFC 3339 timestamp (kept as text).
    mutating func timestamp(_ key: String, required: Bool = false) -> String? {
        guard let text = string(key, required: required) else { return nil }
        if EventTimestamp.millisecondsSinceEpoch(text) == nil { note(key, .invalid(rule: "an RFC 3339 timestamp")) }
        return text
    }
}
