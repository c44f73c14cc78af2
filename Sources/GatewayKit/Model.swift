/// The CreateGateway request (and the `spec` of a Gateway answer): its fields by
/// the API's names, as `GatewayShape.spec` declares them, with the fields gwlua
/// does not know kept verbatim (as protobuf keeps unknown fields), so a spec read
/// from an answer and sent back loses nothing. The typed properties read and write
/// `fields`; the reader, the writer, comparison and merge walk the declaration.
public struct GatewaySpec: JSONRepresentable, Sendable, Hashable {
    /// The fields, normalised (enums by name); absent optionals are absent.
    public var fields: [String: JSONValue]

    public init(fields: [String: JSONValue]) { self.fields = fields }

    public init(id: String? = nil, name: String, zones: [String] = [], organizationId: String? = nil,
                coreWeaveAuth: CoreWeaveAuth? = nil, weightsAndBiasesAuth: WeightsAndBiasesAuth? = nil,
                endpointConfiguration: EndpointConfiguration? = nil, bodyBasedRouting: BodyBasedRouting? = nil,
                headerBasedRouting: HeaderBasedRouting? = nil, pathBasedRouting: PathBasedRouting? = nil) {
        fields = ["name": .string(name), "zones": .array(zones.map(JSONValue.string))]
        self.id = id
        self.organizationId = organizationId
        self.coreWeaveAuth = coreWeaveAuth
        self.weightsAndBiasesAuth = weightsAndBiasesAuth
        self.endpointConfiguration = endpointConfiguration
        self.bodyBasedRouting = bodyBasedRouting
        self.headerBasedRouting = headerBasedRouting
        self.pathBasedRouting = pathBasedRouting
    }

    public var id: String? {
        get { fields["id"]?.stringValue }
        set { fields["id"] = newValue.map(JSONValue.string) }
    }

    public var name: String {
        get { fields["name"]?.stringValue ?? "" }
        set { fields["name"] = .string(newValue) }
    }

    public var zones: [String] {
        get { fields["zones"]?.stringList ?? [] }
        set { fields["zones"] = .array(newValue.map(JSONValue.string)) }
    }

    public var organizationId: String? {
        get { fields["organizationId"]?.stringValue }
        set { fields["organizationId"] = newValue.map(JSONValue.string) }
    }

    public var coreWeaveAuth: CoreWeaveAuth? {
        get { record("coreWeaveAuth") }
        set { setRecord("coreWeaveAuth", newValue) }
    }

    public var weightsAndBiasesAuth: WeightsAndBiasesAuth? {
        get { record("weightsAndBiasesAuth") }
        set { setRecord("weightsAndBiasesAuth", newValue) }
    }

    public var endpointConfiguration: EndpointConfiguration? {
        get { record("endpointConfiguration") }
        set { setRecord("endpointConfiguration", newValue) }
    }

    public var bodyBasedRouting: BodyBasedRouting? {
        get { record("bodyBasedRouting") }
        set { setRecord("bodyBasedRouting", newValue) }
    }

    public var headerBasedRouting: HeaderBasedRouting? {
        get { record("headerBasedRouting") }
        set { setRecord("headerBasedRouting", newValue) }
    }

    public var pathBasedRouting: PathBasedRouting? {
        get { record("pathBasedRouting") }
        set { setRecord("pathBasedRouting", newValue) }
    }

    private func record<T: JSONRepresentable>(_ key: String) -> T? {
        guard let value = fields[key], value != .null else { return nil }
        return try? T(json: value, at: key)
    }

    private mutating func setRecord<T: JSONRepresentable>(_ key: String, _ value: T?) { fields[key] = value?.json }

    /// Which member of a one-of group the spec sets (the first, when it sets several).
    public func member(of group: ShapeField.OneOf) -> String? {
        GatewayShape.spec.members(of: group).first { fields[$0.name].map { $0 != .null } ?? false }?.name
    }

    /// Which auth the spec uses, by its API field name.
    public var authKind: String? { member(of: .auth) }

    /// Which routing the spec uses, by its API field name.
    public var routingKind: String? { member(of: .routing) }

    /// The paths of the fields gwlua does not know (kept as the API sent them).
    public var unknownFieldPaths: [String] { GatewayShape.unknownPaths(in: fields) }

    /// The value at a field path (`trafficPolicy`, `endpointConfiguration.originShield`);
    /// setting nil removes it, setting a value makes the records on the way.
    public subscript(path path: String) -> JSONValue? {
        get { Self.value(at: path, in: fields) }
        set { fields = Self.setting(newValue, at: path.split(separator: ".").map(String.init)[...], in: fields) }
    }

    /// The value at a dotted path in a record's fields (nil when any part is missing).
    static func value(at path: String, in fields: [String: JSONValue]) -> JSONValue? {
        var value: JSONValue? = .object(fields)
        for part in path.split(separator: ".") { value = value?[String(part)] }
        return value
    }

    static func setting(_ value: JSONValue?, at path: ArraySlice<String>, in fields: [String: JSONValue]) -> [String: JSONValue] {
        guard let key = path.first else { return fields }
        var fields = fields
        if path.count == 1 {
            fields[key] = value
        } else if value != nil || fields[key] != nil {
            fields[key] = .object(setting(value, at: path.dropFirst(), in: fields[key]?.objectFields ?? [:]))
        }
        return fields
    }
}

public struct CoreWeaveAuth: JSONRepresentable, Sendable, Hashable {
    /// Fields this struct has no property for (a newer API's), kept as they came.
    public var otherFields: [String: JSONValue] = [:]
    public init() {}
}

public struct WeightsAndBiasesAuth: JSONRepresentable, Sendable, Hashable, CustomStringConvertible,
    CustomDebugStringConvertible, CustomReflectable {
    /// A secret: never printed (see `description`), never returned by the API.
    public var apiKey: String?
    public var serverUrl: String?
    public var enableUsageReports: Bool?
    public var enableRateLimiting: Bool?
    public var otherFields: [String: JSONValue] = [:]

    public init(apiKey: String? = nil, serverUrl: String? = nil, enableUsageReports: Bool? = nil,
                enableRateLimiting: Bool? = nil) {
        self.apiKey = apiKey
        self.serverUrl = serverUrl
        self.enableUsageReports = enableUsageReports
        self.enableRateLimiting = enableRateLimiting
    }

    public var description: String {
        var parts: [String] = []
        if apiKey != nil { parts.append("apiKey: <redacted>") }
        if let serverUrl { parts.append("serverUrl: \(serverUrl)") }
        if let enableUsageReports { parts.append("enableUsageReports: \(enableUsageReports)") }
        if let enableRateLimiting { parts.append("enableRateLimiting: \(enableRateLimiting)") }
        return "WeightsAndBiasesAuth(\(parts.joined(separator: ", ")))"
    }

    public var debugDescription: String { description }

    /// Mirrors (dump, default printing of enclosing values) show the key redacted.
    public var customMirror: Mirror {
        Mirror(self, children: [
            "apiKey": apiKey.map { _ in "<redacted>" } as Any,
            "serverUrl": serverUrl as Any,
            "enableUsageReports": enableUsageReports as Any,
            "enableRateLimiting": enableRateLimiting as Any,
        ])
    }
}

public struct EndpointConfiguration: JSONRepresentable, Sendable, Hashable {
    public var additionalDns: [String]
    /// CIDR ranges (IPv4 or IPv6) allowed to reach the gateway; empty allows any, nil leaves them as they are.
    public var allowedSourceIpRanges: [String]?
    public var otherFields: [String: JSONValue] = [:]
    public init(additionalDns: [String] = [], allowedSourceIpRanges: [String]? = nil) {
        self.additionalDns = additionalDns
        self.allowedSourceIpRanges = allowedSourceIpRanges
    }
}

public struct BodyBasedRouting: JSONRepresentable, Sendable, Hashable {
    public var apiType: APIType
    public var otherFields: [String: JSONValue] = [:]
    public init(apiType: APIType = .openAI) { self.apiType = apiType }
}

public struct HeaderBasedRouting: JSONRepresentable, Sendable, Hashable {
    public var headerName: String
    public var otherFields: [String: JSONValue] = [:]
    public init(headerName: String) { self.headerName = headerName }
}

public struct PathBasedRouting: JSONRepresentable, Sendable, Hashable {
    public var otherFields: [String: JSONValue] = [:]
    public init() {}
}

/// An enum the API sends as a string (older servers: an integer). Unknown
/// values are kept, so a newer server's answer still decodes.
public protocol LenientEnum: JSONRepresentable, Hashable, Sendable, RawRepresentable where RawValue == String {
    static var ordered: [String] { get }
    init(rawValue: String)
}


public struct APIType: LenientEnum, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public static let unspecified = APIType(rawValue: "API_TYPE_UNSPECIFIED")
    public static let openAI = APIType(rawValue: "API_TYPE_OPENAI")
    /// In protobuf order, as the declared shape lists them.
    public static let ordered = GatewayShape.apiType.values
    public var description: String { rawValue }
}

public struct GatewayStatusCode: LenientEnum, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public static let unspecified = Self(rawValue: "STATUS_UNSPECIFIED")
    public static let creating = Self(rawValue: "STATUS_CREATING")
    public static let ready = Self(rawValue: "STATUS_READY")
    public static let updating = Self(rawValue: "STATUS_UPDATING")
    public static let deleting = Self(rawValue: "STATUS_DELETING")
    public static let error = Self(rawValue: "STATUS_ERROR")
    public static let failed = Self(rawValue: "STATUS_FAILED")
    public static let ordered = ["STATUS_UNSPECIFIED", "STATUS_CREATING", "STATUS_READY", "STATUS_UPDATING",
                                 "STATUS_DELETING", "STATUS_ERROR", "STATUS_FAILED"]
    public var description: String { rawValue }
}

/// A condition's status: "True"/"False"/"Unknown" (also seen as STATUS_TRUE…),
/// normalised to the short form.
public struct ConditionStatus: LenientEnum, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) {
        switch rawValue.uppercased() {
        case "TRUE", "STATUS_TRUE": self.rawValue = "True"
        case "FALSE", "STATUS_FALSE": self.rawValue = "False"
        case "UNKNOWN", "STATUS_UNKNOWN", "STATUS_UNSPECIFIED", "": self.rawValue = "Unknown"
        default: self.rawValue = rawValue
        }
    }
    public static let ordered = ["Unknown", "True", "False"]
    public var description: String { rawValue }
}

public struct GatewayCondition: JSONRepresentable, Sendable, Hashable {
    public var type: String?
    public var lastUpdateTime: String?
    public var reason: String?
    public var message: String?
    public var zone: String?
    public var status: ConditionStatus?

    public init(type: String? = nil, lastUpdateTime: String? = nil, reason: String? = nil, message: String? = nil,
                zone: String? = nil, status: ConditionStatus? = nil) {
        self.type = type
        self.lastUpdateTime = lastUpdateTime
        self.reason = reason
        self.message = message
        self.zone = zone
        self.status = status
    }
}

public struct GatewayStatus: JSONRepresentable, Sendable, Hashable {
    public var createdAt: String?
    public var updatedAt: String?
    public var conditions: [GatewayCondition]
    public var endpoints: [String]
    public var status: GatewayStatusCode

    public init(createdAt: String? = nil, updatedAt: String? = nil, conditions: [GatewayCondition] = [],
                endpoints: [String] = [], status: GatewayStatusCode = .unspecified) {
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.conditions = conditions
        self.endpoints = endpoints
        self.status = status
    }
}

/// A gateway as the API answers it.
public struct Gateway: JSONRepresentable, Sendable, Hashable {
    public var spec: GatewaySpec
    public var status: GatewayStatus

    public init(spec: GatewaySpec, status: GatewayStatus = GatewayStatus()) {
        self.spec = spec
        self.status = status
    }
}

/// `{"gateway": Gateway}` — the answer of create, get, update and delete.
public struct GatewayEnvelope: JSONRepresentable, Sendable, Hashable {
    public var gateway: Gateway
    public init(gateway: Gateway) { self.gateway = gateway }
}

/// `{"items": [Gateway]}` — the answer of list.
public struct GatewayList: JSONRepresentable, Sendable, Hashable {
    public var items: [Gateway]
    public init(items: [Gateway]) { self.items = items }
}

/// `{"zones": [...]}` — the answer of parameters.
public struct GatewayParameters: JSONRepresentable, Sendable, Hashable {
    public var zones: [String]
    public init(zones: [String]) { self.zones = zones }
}
