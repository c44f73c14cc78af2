#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A deployment's or capacity claim's spec: its fields by the API's names, read by
/// its kind's declaration, with the fields gwlua does not know kept verbatim so they
/// go back unchanged.
public struct ResourceSpec: Sendable, Hashable, CustomStringConvertible {
    public let kind: ResourceKind
    public var fields: [String: JSONValue]

    public init(kind: ResourceKind, fields: [String: JSONValue]) {
        self.kind = kind
        self.fields = fields
    }

    /// Reads an answer's (or a stored) spec by the declaration (see `ShapeCoding.read`).
    public init(kind: ResourceKind, json: JSONValue, at path: String) throws {
        self.init(kind: kind, fields: try ShapeCoding.read(json, as: kind.shape, at: path))
    }

    public var json: JSONValue { .object(fields) }

    public var name: String {
        get { fields["name"]?.stringValue ?? "" }
        set { fields["name"] = .string(newValue) }
    }

    /// Set by the API; never sent.
    public var id: String? {
        get { fields["id"]?.stringValue }
        set { fields["id"] = newValue.map(JSONValue.string) }
    }

    /// The value at a field path (`runtime.engine`).
    public subscript(path path: String) -> JSONValue? {
        get { GatewaySpec.value(at: path, in: fields) }
        set { fields = GatewaySpec.setting(newValue, at: path.split(separator: ".").map(String.init)[...], in: fields) }
    }

    /// The request body's fields: what only the API sets left out.
    public var requestFields: [String: JSONValue] {
        fields.filter { kind.shape.field($0.key)?.access != .answerOnly }
    }

    /// The create or update request body exactly as sent (sorted keys).
    public func requestJSON() throws -> Data { try JSONValue.object(requestFields).serialized() }

    /// The paths of the fields gwlua does not know.
    public var unknownFieldPaths: [String] { GatewayShape.unknownPaths(in: fields, of: kind.shape) }

    /// What an update of a resource holding `existing` sends for this spec: this
    /// spec's fields over everything the resource holds that the spec does not manage.
    public func merged(over existing: ResourceSpec) -> ResourceSpec {
        ResourceSpec(kind: kind, fields: ShapeCompare.merge(existing.fields, fields, kind.shape))
    }

    /// The fields that differ, as plans compare them.
    public func differences(from current: ResourceSpec) -> [FieldChange] {
        ShapeCompare.differences(current.fields, fields, kind.shape)
    }

    /// Whether `current` holds what this request asked for (a lost create's look-up).
    public func isSatisfied(by current: ResourceSpec) -> Bool {
        current.name == name && differences(from: current).isEmpty
    }

    public var description: String { "\(kind.rawValue)(\(JSONValue.object(ShapeCompare.redacted(fields, kind.shape)).compactText))" }
}

/// A deployment or capacity claim as the API answers it: `{"spec": …, "status": …}`.
/// Statuses and conditions are as for gateways (API.md); the status object is kept
/// whole (a claim's allocatedInstances and pendingInstances, fields of newer APIs).
public struct Resource: Sendable, Hashable {
    public var spec: ResourceSpec
    public var status: [String: JSONValue]

    public init(spec: ResourceSpec, status: [String: JSONValue] = [:]) {
        self.spec = spec
        self.status = status
    }

    public var kind: ResourceKind { spec.kind }

    public init(kind: ResourceKind, json: JSONValue, at path: String) throws {
        let r = try JSONFields(json, at: path)
        guard let specJSON = r.present("spec") else { throw r.missing("spec") }
        let spec = try ResourceSpec(kind: kind, json: specJSON, at: r.child("spec"))
        var status: [String: JSONValue] = [:]
        if let s = r.present("status") { status = try JSONFields(s, at: r.child("status")).fields }
        self.init(spec: spec, status: status)
        // Checked now, so a malformed status is an error here and not a surprise in a wait.
        _ = try GatewayStatus(json: .object(status), at: r.child("status"))
    }

    public var json: JSONValue { .object(["spec": spec.json, "status": .object(status)]) }

    /// The statuses and conditions, read as for gateways.
    public var parsedStatus: GatewayStatus { (try? GatewayStatus(json: .object(status), at: "status")) ?? GatewayStatus() }
    public var statusCode: GatewayStatusCode { parsedStatus.status }

    /// The condition of that type, if the API sends it.
    public func condition(_ type: String) -> GatewayCondition? { parsedStatus.conditions.first { $0.type == type } }

    /// Whether a wait is over: READY, and for a deployment its ResourcesApplied
    /// condition True when the API sends that condition (newer providers wait for it).
    public var isDone: Bool {
        guard statusCode == .ready else { return false }
        if kind == .deployment, let applied = condition(Resource.resourcesApplied) { return applied.status?.rawValue == "True" }
        return true
    }

    public static let resourcesApplied = "ResourcesApplied"

    /// `{"deployment": …}` (or a bare `{"spec", "status"}`, which a server may answer).
    public static func fromEnvelope(_ kind: ResourceKind, _ json: JSONValue) throws -> Resource {
        if let inner = json[kind.envelopeKey] { return try Resource(kind: kind, json: inner, at: kind.envelopeKey) }
        if json["spec"] != nil { return try Resource(kind: kind, json: json, at: "") }
        throw JSONFields.mismatch("{\"\(kind.envelopeKey)\": {…}}", json, at: "")
    }

    /// A list answer's items, under the documented key or `items` (the claims' key is inferred).
    public static func list(_ kind: ResourceKind, _ json: JSONValue) throws -> [Resource] {
        guard case .object(let o) = json else { throw JSONFields.mismatch("a JSON object", json, at: "") }
        guard let key = kind.listKeys.first(where: { o[$0] != nil }) else {
            if o.isEmpty { return [] }  // protobuf JSON leaves an empty list out
            throw JSONFields.mismatch("{\"\(kind.listKeys[0])\": […]}", json, at: "")
        }
        guard case .array(let items)? = o[key] else {
            if o[key] == .null || o[key]?.objectFields?.isEmpty == true { return [] }
            throw JSONFields.mismatch("a list", o[key] ?? .null, at: key)
        }
        return try items.enumerated().map { i, item in try Resource(kind: kind, json: item, at: "\(key)[\(i)]") }
    }

    var ageKey: (Date, String) { (parsedStatus.createdDate ?? .distantFuture, spec.id ?? "") }
}
