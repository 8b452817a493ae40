/// One field an event type can have, as a dotted path from the body's top level (`amount.value`).
public struct EventField: Sendable, Equatable, Hashable {
    /// Dotted path, e.g. `reference` or `amount.currency`.
    public var path: String
    /// Whether the vendor documents the field as always present (its absence is a finding).
    public var required: Bool
    /// Whether the field holds an object; an object whose members the decoder does not read (`userDetails`) may be
    /// entered by any deeper path (`userDetails.email`).
    public var isObject: Bool

    /// Creates a field.
    public init(path: String, required: Bool, isObject: Bool = false) {
        self.path = path
        self.required = required
        self.isObject = isObject
    }
}

/// The fields each known event type can have, derived from the decoders themselves rather than written down a second
/// time: every sample body of ``SampleEvents`` is decoded while the decoders' field reads are recorded, and the
/// sample's own top-level keys (`name`, `eventType`, which decide the type) are added. A field the decoder learns to
/// read is in the catalogue with no further change.
///
/// Events of type `unknown` have no catalogue: their fields are not known.
public enum EventFieldCatalogue {
    /// The fields of `type`, sorted by path; empty for `unknown` and any type not in ``SampleEvents/knownTypes``.
    public static func fields(of type: String) -> [EventField] {
        catalogue[type] ?? []
    }

    /// Whether an event of `type` can have a value at `path`: a field of the type, a member of an object field the
    /// decoder reads no further (`userDetails.email`), or an object field that holds catalogued fields (`amount`).
    public static func canHave(_ path: String, type: String) -> Bool {
        let fields = fields(of: type)
        for field in fields {
            if field.path == path { return true }
            if field.isObject, path.hasPrefix(field.path + "."),
                !fields.contains(where: { $0.path.hasPrefix(field.path + ".") })
            {
                return true
            }
        }
        return false
    }

    private static let catalogue: [String: [EventField]] = {
        var result: [String: [EventField]] = [:]
        for type in SampleEvents.knownTypes {
            guard let body = SampleEvents.body(for: type, now: 0, randomBytes: { [UInt8](repeating: 0x41, count: $0) })
            else { continue }
            let log = FieldReadLog()
            let decoded = FieldReadLog.$current.withValue(log) { DecodedEvent.decode(body: body) }
            var byPath: [String: EventField] = [:]
            for field in log.fields {
                var merged = byPath[field.path] ?? field
                merged.required = merged.required || field.required
                merged.isObject = merged.isObject || field.isObject
                byPath[field.path] = merged
            }
            for member in decoded.json?.objectMembers ?? [] where byPath[member.key] == nil {
                byPath[member.key] = EventField(
                    path: member.key,
                    required: true,
                    isObject: member.value.objectMembers != nil
                )
            }
            result[type] = byPath.values.sorted { $0.path < $1.path }
        }
        return result
    }()
}

/// The field reads of decoders running inside `FieldReadLog.$current.withValue(…)`.
final class FieldReadLog: @unchecked Sendable {
    /// The log the decoders of the current task write to; nil outside a catalogue build.
    @TaskLocal static var current: FieldReadLog?

    /// Fields in the order read; written by one thread only (the one building the catalogue).
    private(set) var fields: [EventField] = []

    func append(_ field: EventField) {
        fields.append(field)
    }
}
