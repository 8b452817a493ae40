/// An ordered list of HTTP header fields with case-insensitive name lookup.
///
/// Order and the original spelling of names are kept, so a response is written exactly as built and a request's
/// fields can be inspected as received. Lookup compares names ASCII-case-insensitively.
///
/// The fields are kept as byte ranges of one buffer (for a request: a copy of its head), so parsing makes no
/// strings: a `String` is made only for a name or value that is asked for.
public struct HTTPHeaders: Sendable, Equatable, Sequence, ExpressibleByDictionaryLiteral {
    /// Where one field's name and value lie in `storage`.
    private struct Field: Sendable {
        var nameStart: Int
        var nameEnd: Int
        var valueStart: Int
        var valueEnd: Int
    }

    private var storage: [UInt8]
    private var ranges: [Field]

    /// An empty header list.
    public init() {
        storage = []
        ranges = []
    }

    /// A header list holding `fields` in order.
    public init(_ fields: [(String, String)]) {
        self.init()
        for (name, value) in fields { add(name: name, value: value) }
    }

    public init(dictionaryLiteral elements: (String, String)...) {
        self.init(elements)
    }

    /// An empty list over the bytes of a parsed head, for `appendParsedField(name:value:)`.
    init(parsedHead storage: [UInt8], fieldCapacity: Int) {
        self.storage = storage
        ranges = []
        ranges.reserveCapacity(fieldCapacity)
    }

    /// Appends a field whose name and value are these ranges of the head's bytes (already checked).
    mutating func appendParsedField(name: Range<Int>, value: Range<Int>) {
        ranges.append(
            Field(
                nameStart: name.lowerBound,
                nameEnd: name.upperBound,
                valueStart: value.lowerBound,
                valueEnd: value.upperBound
            )
        )
    }

    /// The fields in order, as (name, value) pairs (made into strings on each call).
    public var fields: [(name: String, value: String)] {
        ranges.map { (name: string(name(of: $0)), value: string(value(of: $0))) }
    }

    /// Number of fields.
    public var count: Int { ranges.count }

    /// Bytes of memory the list holds.
    public var heldByteCount: Int {
        storage.capacity + ranges.capacity * MemoryLayout<Field>.stride
    }

    /// Appends a field, keeping any existing fields of the same name.
    public mutating func add(name: String, value: String) {
        let nameStart = storage.count
        storage.append(contentsOf: name.utf8)
        let valueStart = storage.count
        storage.append(contentsOf: value.utf8)
        ranges.append(Field(nameStart: nameStart, nameEnd: valueStart, valueStart: valueStart, valueEnd: storage.count))
    }

    /// Replaces every field named `name` (any case) with one field `name: value`.
    public mutating func replaceOrAdd(name: String, value: String) {
        remove(name: name)
        add(name: name, value: value)
    }

    /// Removes every field named `name` (any case). Their bytes stay in the buffer until the list is dropped.
    public mutating func remove(name: String) {
        ranges = withNameLookup(name) { storage, name in ranges.filter { !Self.nameMatches($0, name, in: storage) } }
    }

    /// All values of fields named `name` (any case), in order.
    public func values(for name: String) -> [String] {
        var values: [String] = []
        withNameLookup(name) { storage, name in
            for field in ranges where Self.nameMatches(field, name, in: storage) {
                values.append(Self.string(storage, field.valueStart, field.valueEnd))
            }
        }
        return values
    }

    /// The first value of a field named `name` (any case), or nil.
    public subscript(name: String) -> String? {
        withNameLookup(name) { storage, name in
            for field in ranges where Self.nameMatches(field, name, in: storage) {
                return Self.string(storage, field.valueStart, field.valueEnd)
            }
            return nil
        }
    }

    /// Whether a field named `name` (any case) is present.
    public func contains(name: String) -> Bool {
        withNameLookup(name) { storage, name in
            ranges.contains { Self.nameMatches($0, name, in: storage) }
        }
    }

    /// The comma-separated tokens of every field named `name`, trimmed and lowercased (for Connection, Expect...).
    public func tokens(for name: String) -> [String] {
        var result: [String] = []
        forEachToken(named: name.utf8.map(ASCII.lower)) { token in
            result.append(String(decoding: token.map(ASCII.lower), as: UTF8.self))
        }
        return result
    }

    public func makeIterator() -> IndexingIterator<[(name: String, value: String)]> {
        fields.makeIterator()
    }

    public static func == (lhs: HTTPHeaders, rhs: HTTPHeaders) -> Bool {
        lhs.ranges.count == rhs.ranges.count
            && zip(lhs.ranges, rhs.ranges).allSatisfy {
                lhs.name(of: $0).elementsEqual(rhs.name(of: $1)) && lhs.value(of: $0).elementsEqual(rhs.value(of: $1))
            }
    }

    // MARK: - Bytes

    /// Calls `body` with the name (case as sent) and value bytes of every field, in order, without making strings.
    public func forEachField(_ body: (ArraySlice<UInt8>, ArraySlice<UInt8>) -> Void) {
        for field in ranges { body(name(of: field), value(of: field)) }
    }

    /// Calls `body` with the value bytes of every field named `lowercaseName` (lower-case bytes), in order.
    func forEachValue(named lowercaseName: [UInt8], _ body: (ArraySlice<UInt8>) -> Void) {
        for field in ranges where ASCII.equalsIgnoringCase(name(of: field), lowercaseName) { body(value(of: field)) }
    }

    /// Calls `body` with every non-empty comma-separated token (trimmed, case as sent) of the fields named
    /// `lowercaseName`.
    func forEachToken(named lowercaseName: [UInt8], _ body: (ArraySlice<UInt8>) -> Void) {
        forEachValue(named: lowercaseName) { value in ASCII.forEachListElement(value, body) }
    }

    private func name(of field: Field) -> ArraySlice<UInt8> {
        storage[field.nameStart..<field.nameEnd]
    }

    private func value(of field: Field) -> ArraySlice<UInt8> {
        storage[field.valueStart..<field.valueEnd]
    }

    private func string(_ bytes: ArraySlice<UInt8>) -> String {
        String(decoding: bytes, as: UTF8.self)
    }

    /// Calls `body` with the list's bytes and the UTF-8 bytes of `name`, both as buffers: a lookup compares bytes
    /// in place, without iterators or intermediate strings.
    private func withNameLookup<Result>(
        _ name: String,
        _ body: (UnsafeBufferPointer<UInt8>, UnsafeBufferPointer<UInt8>) -> Result
    ) -> Result {
        var name = name
        return name.withUTF8 { name in storage.withUnsafeBufferPointer { body($0, name) } }
    }

    /// The string of `storage[start..<end]`.
    private static func string(_ storage: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: storage[start..<end]), as: UTF8.self)
    }

    /// Whether `field`'s name equals `name`, ignoring ASCII case on both sides.
    private static func nameMatches(
        _ field: Field,
        _ name: UnsafeBufferPointer<UInt8>,
        in storage: UnsafeBufferPointer<UInt8>
    ) -> Bool {
        guard field.nameEnd - field.nameStart == name.count else { return false }
        var index = 0
        while index < name.count {
            guard ASCII.lower(storage[field.nameStart + index]) == ASCII.lower(name[index]) else { return false }
            index += 1
        }
        return true
    }
}
