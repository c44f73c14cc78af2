#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A model type mapped to and from JSONValue by hand. WireJSON uses the mapping on
/// the API path (the client's requests and answers, the emulator's), and the
/// type's Codable conformance goes through it too, so the two can never disagree.
public protocol JSONRepresentable: Codable {
    /// Reads the value; `path` names where it sits, for errors ("gateway.spec").
    init(json: JSONValue, at path: String) throws
    var json: JSONValue { get }
}

extension JSONRepresentable {
    public init(json: JSONValue) throws { try self.init(json: json, at: "") }

    /// Codable's decoding, through the mapping.
    public init(from decoder: Decoder) throws {
        let path = decoder.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
        try self.init(json: JSONValue(from: decoder), at: path.hasPrefix(".") ? String(path.dropFirst()) : path)
    }

    /// Codable's encoding, through the mapping.
    public func encode(to encoder: Encoder) throws { try json.encode(to: encoder) }
}

extension JSONValue: JSONRepresentable {
    public init(json: JSONValue, at path: String) { self = json }
    public var json: JSONValue { self }
}

/// One JSON object's fields as a model type reads them: absent and null are nil,
/// a wrong type is a DecodingError that names the field's path.
struct JSONFields {
    let fields: [String: JSONValue]
    let path: String

    init(_ value: JSONValue, at path: String) throws {
        guard case .object(let fields) = value else { throw Self.mismatch("an object", value, at: path) }
        self.fields = fields
        self.path = path
    }

    static func mismatch(_ expected: String, _ got: JSONValue, at path: String) -> DecodingError {
        .typeMismatch(JSONValue.self, .init(codingPath: [], debugDescription:
            "expected \(expected) at \(path.isEmpty ? "the top level" : path), got \(got.kindName)"))
    }

    func child(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    func present(_ key: String) -> JSONValue? {
        guard let value = fields[key], value != .null else { return nil }
        return value
    }

    func string(_ key: String) throws -> String? {
        guard let value = present(key) else { return nil }
        guard case .string(let s) = value else { throw Self.mismatch("a string", value, at: child(key)) }
        return s
    }

    func bool(_ key: String) throws -> Bool? {
        guard let value = present(key) else { return nil }
        guard case .bool(let b) = value else { throw Self.mismatch("a boolean", value, at: child(key)) }
        return b
    }

    func strings(_ key: String) throws -> [String]? {
        try list(key) { item, path in
            guard case .string(let s) = item else { throw Self.mismatch("a string", item, at: path) }
            return s
        }
    }

    /// The error for a required field that is absent.
    func missing(_ key: String) -> DecodingError {
        .keyNotFound(AnyKey(key), .init(codingPath: [], debugDescription: "\(child(key)) is missing"))
    }

    func value<T: JSONRepresentable>(_ key: String, as type: T.Type = T.self) throws -> T? {
        try present(key).map { try T(json: $0, at: child(key)) }
    }

    func values<T: JSONRepresentable>(_ key: String, as type: T.Type = T.self) throws -> [T]? {
        try list(key) { item, path in try T(json: item, at: path) }
    }

    private func list<T>(_ key: String, _ read: (JSONValue, String) throws -> T) throws -> [T]? {
        guard let value = present(key) else { return nil }
        guard case .array(let items) = value else { throw Self.mismatch("a list", value, at: child(key)) }
        return try items.enumerated().map { n, item in try read(item, "\(child(key))[\(n)]") }
    }
}

/// Builds a JSON object, leaving out absent optionals (as Codable's synthesized encoding does).
struct JSONFieldsWriter {
    var fields: [String: JSONValue] = [:]
    mutating func set(_ key: String, _ value: String?) { if let value { fields[key] = .string(value) } }
    mutating func set(_ key: String, _ value: Bool?) { if let value { fields[key] = .bool(value) } }
    mutating func set(_ key: String, _ values: [String]) { fields[key] = .array(values.map { .string($0) }) }
    mutating func set<T: JSONRepresentable>(_ key: String, _ value: T?) { if let value { fields[key] = value.json } }
    mutating func set<T: JSONRepresentable>(_ key: String, _ values: [T]) { fields[key] = .array(values.map(\.json)) }
    var json: JSONValue { .object(fields) }
}

extension GatewaySpec {
    /// Reads an answer's (or a stored) spec by the declaration: declared fields are
    /// type-checked and enums named (older servers send numbers); fields gwlua does
    /// not know are kept verbatim.
    public init(json: JSONValue, at path: String) throws {
        self.init(fields: try ShapeCoding.read(json, as: GatewayShape.spec, at: path))
    }

    public var json: JSONValue { .object(fields) }
}

/// The declaration-driven reader of answers and stored specs.
public enum ShapeCoding {
    /// The object's fields, normalised: enums by name, records read the same way,
    /// null treated as absent, unknown fields as they came. Throws for a declared
    /// field of the wrong type, naming its path.
    public static func read(_ json: JSONValue, as record: ShapeRecord, at path: String) throws -> [String: JSONValue] {
        let r = try JSONFields(json, at: path)
        var out: [String: JSONValue] = [:]
        out.reserveCapacity(r.fields.count)
        for (key, value) in r.fields {
            guard let field = record.field(key) else {
                out[key] = value  // a newer API's field: kept verbatim
                continue
            }
            if value == .null { continue }
            let at = r.child(key)
            switch field.kind {
            case .string:
                guard case .string = value else { throw JSONFields.mismatch("a string", value, at: at) }
                out[key] = value
            case .boolean:
                guard case .bool = value else { throw JSONFields.mismatch("a boolean", value, at: at) }
                out[key] = value
            case .enumeration(let e):
                guard let name = e.name(of: value) else { throw JSONFields.mismatch("a string", value, at: at) }
                out[key] = .string(name)
            case .strings:
                out[key] = .array((try r.strings(key) ?? []).map(JSONValue.string))
            case .marker:
                out[key] = .object(try JSONFields(value, at: at).fields)
            case .record(let sub):
                out[key] = .object(try read(value, as: sub, at: at))
            case .integer:
                guard let n = value.wholeNumber else { throw JSONFields.mismatch("a whole number", value, at: at) }
                out[key] = .integer(n)
            case .stringMap:
                let map = try JSONFields(value, at: at)
                for (name, item) in map.fields {
                    guard case .string = item else { throw JSONFields.mismatch("a string", item, at: map.child(name)) }
                }
                out[key] = .object(map.fields)
            case .enumerations(let e):
                guard case .array(let items) = value else { throw JSONFields.mismatch("a list", value, at: at) }
                out[key] = .array(try items.enumerated().map { i, item in
                    guard let name = e.name(of: item) else { throw JSONFields.mismatch("a string", item, at: "\(at)[\(i)]") }
                    return .string(name)
                })
            }
        }
        return out
    }
}

extension JSONValue {
    /// The integer, when this is one or a float without a fraction (JSON has one number type).
    public var wholeNumber: Int64? {
        switch self {
        case .integer(let i): return i
        case .double(let d) where d.rounded() == d && abs(d) < 9.0e15: return Int64(d)
        default: return nil
        }
    }

    /// The string, when this is one.
    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// The strings of a list (others skipped), when this is a list.
    public var stringList: [String]? {
        switch self {
        case .array(let items): return items.compactMap(\.stringValue)
        case .object(let o) where o.isEmpty: return []
        default: return nil
        }
    }

}

/// The fields of a record that a typed struct has no property for (a newer API's,
/// or declared fields the struct does not spell out, such as edgeProxyMode), kept
/// for its `json`, so a read-modify-write through the struct loses nothing.
private func unknown(_ r: JSONFields, _ properties: Set<String>) -> [String: JSONValue] {
    r.fields.filter { !properties.contains($0.key) && $0.value != .null }
}

private func withUnknown(_ fields: [String: JSONValue], _ unknown: [String: JSONValue]) -> JSONValue {
    .object(unknown.isEmpty ? fields : fields.merging(unknown) { known, _ in known })
}

extension CoreWeaveAuth {
    public init(json: JSONValue, at path: String) throws {
        self.init()
        otherFields = try JSONFields(json, at: path).fields
    }
    public var json: JSONValue { .object(otherFields) }
}

extension PathBasedRouting {
    public init(json: JSONValue, at path: String) throws {
        self.init()
        otherFields = try JSONFields(json, at: path).fields
    }
    public var json: JSONValue { .object(otherFields) }
}

extension WeightsAndBiasesAuth {
    public init(json: JSONValue, at path: String) throws {
        let r = try JSONFields(json, at: path)
        self.init(apiKey: try r.string("apiKey"), serverUrl: try r.string("serverUrl"),
                  enableUsageReports: try r.bool("enableUsageReports"), enableRateLimiting: try r.bool("enableRateLimiting"))
        otherFields = unknown(r, ["apiKey", "serverUrl", "enableUsageReports", "enableRateLimiting"])
    }

    public var json: JSONValue {
        var w = JSONFieldsWriter()
        w.set("apiKey", apiKey)
        w.set("serverUrl", serverUrl)
        w.set("enableUsageReports", enableUsageReports)
        w.set("enableRateLimiting", enableRateLimiting)
        return withUnknown(w.fields, otherFields)
    }
}

extension EndpointConfiguration {
    public init(json: JSONValue, at path: String) throws {
        let r = try JSONFields(json, at: path)
        self.init(additionalDns: try r.strings("additionalDns") ?? [],
                  allowedSourceIpRanges: try r.strings("allowedSourceIpRanges"))
        otherFields = unknown(r, ["additionalDns", "allowedSourceIpRanges"])
    }
    /// `allowedSourceIpRanges` only when set, so servers that predate it see the request they know.
    public var json: JSONValue {
        var o: [String: JSONValue] = ["additionalDns": .array(additionalDns.map { .string($0) })]
        if let ranges = allowedSourceIpRanges { o["allowedSourceIpRanges"] = .array(ranges.map { .string($0) }) }
        return withUnknown(o, otherFields)
    }
}

extension BodyBasedRouting {
    public init(json: JSONValue, at path: String) throws {
        let r = try JSONFields(json, at: path)
        guard let apiType = try r.value("apiType", as: APIType.self) else {
            throw r.missing("apiType")
        }
        self.init(apiType: apiType)
        otherFields = unknown(r, ["apiType"])
    }
    public var json: JSONValue { withUnknown(["apiType": apiType.json], otherFields) }
}

extension HeaderBasedRouting {
    public init(json: JSONValue, at path: String) throws {
        let r = try JSONFields(json, at: path)
        guard let name = try r.string("headerName") else {
            throw r.missing("headerName")
        }
        self.init(headerName: name)
        otherFields = unknown(r, ["headerName"])
    }
    public var json: JSONValue { withUnknown(["headerName": .string(headerName)], otherFields) }
}

/// A coding key for errors that name a field.
struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ name: String) { stringValue = name }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

extension LenientEnum {
    /// A string, or (older servers) an integer indexing `ordered`.
    public init(json: JSONValue, at path: String) throws {
        switch json {
        case .string(let s): self.init(rawValue: s)
        case .integer(let i): self.init(rawValue: i >= 0 && i < Self.ordered.count ? Self.ordered[Int(i)] : "\(i)")
        default: throw JSONFields.mismatch("a string", json, at: path)
        }
    }
    public var json: JSONValue { .string(rawValue) }
}

extension GatewayCondition {
    public init(json: JSONValue, at path: String) throws {
        let r = try JSONFields(json, at: path)
        self.init(type: try r.string("type"), lastUpdateTime: try r.string("lastUpdateTime"), reason: try r.string("reason"),
                  message: try r.string("message"), zone: try r.string("zone"), status: try r.value("status"))
    }

    public var json: JSONValue {
        var w = JSONFieldsWriter()
        w.set("type", type)
        w.set("lastUpdateTime", lastUpdateTime)
        w.set("reason", reason)
        w.set("message", message)
        w.set("zone", zone)
        w.set("status", status)
        return w.json
    }
}

extension GatewayStatus {
    public init(json: JSONValue, at path: String) throws {
        let r = try JSONFields(json, at: path)
        self.init(createdAt: try r.string("createdAt"), updatedAt: try r.string("updatedAt"),
                  conditions: try r.values("conditions") ?? [], endpoints: try r.strings("endpoints") ?? [],
                  status: try r.value("status") ?? .unspecified)
    }

    public var json: JSONValue {
        var w = JSONFieldsWriter()
        w.set("createdAt", createdAt)
        w.set("updatedAt", updatedAt)
        w.set("conditions", conditions)
        w.set("endpoints", endpoints)
        w.set("status", status)
        return w.json
    }
}

extension Gateway {
    public init(json: JSONValue, at path: String) throws {
        let r = try JSONFields(json, at: path)
        guard let spec = try r.value("spec", as: GatewaySpec.self) else {
            throw r.missing("spec")
        }
        self.init(spec: spec, status: try r.value("status") ?? GatewayStatus())
    }
    public var json: JSONValue { .object(["spec": spec.json, "status": status.json]) }
}

extension GatewayEnvelope {
    public init(json: JSONValue, at path: String) throws {
        let r = try JSONFields(json, at: path)
        guard let gateway = try r.value("gateway", as: Gateway.self) else {
            throw r.missing("gateway")
        }
        self.init(gateway: gateway)
    }
    public var json: JSONValue { .object(["gateway": gateway.json]) }
}

extension GatewayList {
    public init(json: JSONValue, at path: String) throws {
        self.init(items: try JSONFields(json, at: path).values("items") ?? [])
    }
    public var json: JSONValue { .object(["items": .array(items.map(\.json))]) }
}

extension GatewayParameters {
    public init(json: JSONValue, at path: String) throws {
        self.init(zones: try JSONFields(json, at: path).strings("zones") ?? [])
    }
    public var json: JSONValue { .object(["zones": .array(zones.map { .string($0) })]) }
}
