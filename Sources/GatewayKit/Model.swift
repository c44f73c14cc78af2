/// The CreateGateway request (and the `spec` of a Gateway answer), field for
/// field as the API names them. Optional objects are absent when nil.
public struct GatewaySpec: JSONRepresentable, Sendable, Hashable {
    public var id: String?
    public var name: String
    public var zones: [String]
    public var organizationId: String?
    public var coreWeaveAuth: CoreWeaveAuth?
    public var weightsAndBiasesAuth: WeightsAndBiasesAuth?
    public var endpointConfiguration: EndpointConfiguration?
    public var bodyBasedRouting: BodyBasedRouting?
    public var headerBasedRouting: HeaderBasedRouting?
    public var pathBasedRouting: PathBasedRouting?

    @inlinable public init(id: String? = nil, name: String, zones: [String] = [], organizationId: String? = nil,
                coreWeaveAuth: CoreWeaveAuth? = nil, weightsAndBiasesAuth: WeightsAndBiasesAuth? = nil,
                endpointConfiguration: EndpointConfiguration? = nil, bodyBasedRouting: BodyBasedRouting? = nil,
                headerBasedRouting: HeaderBasedRouting? = nil, pathBasedRouting: PathBasedRouting? = nil) {
        self.id = id
        self.name = name
        self.zones = zones
        self.organizationId = organizationId
        self.coreWeaveAuth = coreWeaveAuth
        self.weightsAndBiasesAuth = weightsAndBiasesAuth
        self.endpointConfiguration = endpointConfiguration
        self.bodyBasedRouting = bodyBasedRouting
        self.headerBasedRouting = headerBasedRouting
        self.pathBasedRouting = pathBasedRouting
    }


    /// Which auth the spec uses, by its API field name.
    public var authKind: String? {
        coreWeaveAuth != nil ? "coreWeaveAuth" : weightsAndBiasesAuth != nil ? "weightsAndBiasesAuth" : nil
    }

    /// Which routing the spec uses, by its API field name.
    public var routingKind: String? {
        bodyBasedRouting != nil ? "bodyBasedRouting"
            : headerBasedRouting != nil ? "headerBasedRouting" : pathBasedRouting != nil ? "pathBasedRouting" : nil
    }
}

public struct CoreWeaveAuth: JSONRepresentable, Sendable, Hashable {
    public init() {}
}

public struct WeightsAndBiasesAuth: JSONRepresentable, Sendable, Hashable, CustomStringConvertible,
    CustomDebugStringConvertible, CustomReflectable {
    /// A secret: never printed (see `description`), never returned by the API.
    public var apiKey: String?
    public var serverUrl: String?
    public var enableUsageReports: Bool?
    public var enableRateLimiting: Bool?

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
    /// CIDR ranges (IPv4 or IPv6) allowed to reach the gateway; empty allows any (a newer field).
    public var allowedSourceIpRanges: [String]
    public init(additionalDns: [String] = [], allowedSourceIpRanges: [String] = []) {
        self.additionalDns = additionalDns
        self.allowedSourceIpRanges = allowedSourceIpRanges
    }
}

public struct BodyBasedRouting: JSONRepresentable, Sendable, Hashable {
    public var apiType: APIType
    public init(apiType: APIType = .openAI) { self.apiType = apiType }
}

public struct HeaderBasedRouting: JSONRepresentable, Sendable, Hashable {
    public var headerName: String
    public init(headerName: String) { self.headerName = headerName }
}

public struct PathBasedRouting: JSONRepresentable, Sendable, Hashable {
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
    public static let ordered = ["API_TYPE_UNSPECIFIED", "API_TYPE_OPENAI"]
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
