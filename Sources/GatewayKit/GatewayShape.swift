/// A resource's shape, declared once: every consumer (the document reader and
/// writer, validation's structure, the planner's comparison, the update merge,
/// export's field order, help and completion, the generated editor, JSON Schema and
/// OpenAPI files) reads it from here, as protobuf's descriptors or Neovim's keysets.
/// A new API field is one `ShapeField` here (plus, where gwlua has a fast path or a
/// builder method for it, that path's case, which a test holds to this list).
public struct ShapeRecord: Sendable {
    /// The record's type name in the generated files (`gateway.EndpointConfiguration`).
    public let typeName: String
    public let doc: String
    public let fields: [ShapeField]
    /// Rules between the record's fields (autoscaling's max >= min).
    public let checks: [RecordCheck]

    public init(_ typeName: String, doc: String, checks: [RecordCheck] = [], _ fields: [ShapeField]) {
        self.typeName = typeName
        self.doc = doc
        self.checks = checks
        self.fields = fields
    }

    public func field(_ name: String) -> ShapeField? { fields.first { $0.name == name } }

    /// Fields a request may carry (not those only the API sets).
    public var requestFields: [ShapeField] { fields.filter { $0.access != .answerOnly } }

    /// The members of each one-of group, in declared order.
    public func members(of group: ShapeField.OneOf) -> [ShapeField] { fields.filter { $0.oneOf == group } }
}

/// One field of a declared shape.
public struct ShapeField: Sendable {
    public enum Kind: Sendable {
        case string
        case boolean
        case enumeration(ShapeEnum)
        /// A list of strings.
        case strings
        case record(ShapeRecord)
        /// An empty object whose presence is the value (`coreWeaveAuth = {}`).
        case marker
        /// A whole number (a Lua integer; JSON numbers without a fraction).
        case integer
        /// A map of strings to strings (`engineConfig`).
        case stringMap
        /// An ordered list of an enum's values, each at most once (`capacityClasses`).
        case enumerations(ShapeEnum)
    }

    /// Exactly one member of each group is set.
    public enum OneOf: String, Sendable, CaseIterable {
        case auth, routing
        public var members: String { self == .auth ? "coreWeaveAuth or weightsAndBiasesAuth" : "bodyBasedRouting, headerBasedRouting or pathBasedRouting" }
    }

    /// Who writes the field.
    public enum Access: Sendable {
        case readWrite
        /// Set by the API in its answers (organizationId): accepted in a spec read back, never sent.
        case answerOnly
        /// Sent, never returned (the W&B apiKey): never compared, never shown.
        case writeOnly
    }

    /// How plans compare the field's values.
    public enum Comparison: Sendable {
        case exact
        /// Strings without ASCII case.
        case caseless
        /// A set of strings without case: order and repeats carry no meaning.
        case caselessSet
        /// A set of CIDR ranges compared as the networks they name.
        case networkSet
        /// Not compared (ids).
        case ignored
    }

    /// What a spec that leaves the field out means.
    public enum WhenUnset: Sendable {
        /// Not managed: the plan does not compare it and an update sends back what the gateway holds.
        case serverKeeps
        /// The empty value: the spec manages it (additionalDns: no names).
        case empty
    }

    /// The rules (docs/lua-api.md, "Issues") beyond type and limits, by name; validation runs them.
    public enum Rule: String, Sendable {
        case gatewayName, uuid, zone, dnsName, cidr, httpsURL, headerToken
        /// A DNS label of at most 63 characters (deployment and claim names).
        case label
        /// A gateway's id (a UUID), or in a fleet file the name of one of its gateways.
        case gatewayReference
        /// A semantic version (`0.8.5`, `1.2.3-rc.1`).
        case semver
        /// Checked against the parameters when they are known (engines, instance types, zones, env names).
        case engine, instanceType, claimInstanceType, claimZone, engineEnvName
    }

    public let name: String
    public let kind: Kind
    public let required: Bool
    public let oneOf: OneOf?
    /// Text limits, in Characters.
    public let minLength: Int?
    public let maxLength: Int?
    /// Why `maxLength` is what it is, for the message.
    public let limitReason: String?
    public let maxItems: Int?
    /// The fewest items a list (or entries a map) must have.
    public let minItems: Int?
    /// Inclusive bounds of an integer.
    public let minimum: Int64?
    public let maximum: Int64?
    /// The only integers allowed (gpuCount: 1, 2, 4, 8, 16).
    public let allowedIntegers: [Int64]?
    /// What the API takes an unset field to be (edgeProxyMode: MANAGED).
    public let serverDefault: JSONValue?
    public let comparison: Comparison
    public let whenUnset: WhenUnset
    /// An update merges the API's list with the one sent (DNS names): removing an item needs a replace.
    public let mergedOnUpdate: Bool
    /// Changing it replaces the resource (delete, then create), as CoreWeave's provider does: plans show `-/+`.
    public let replaces: Bool
    /// The builder method that sets it, when there is one.
    public let builder: String?
    public let doc: String
    public let rules: [Rule]
    public let access: Access
    /// What a missing required field's message adds.
    public let requiredHint: String?

    public init(_ name: String, _ kind: Kind, required: Bool = false, oneOf: OneOf? = nil, minLength: Int? = nil,
                maxLength: Int? = nil, limitReason: String? = nil, maxItems: Int? = nil, minItems: Int? = nil,
                minimum: Int64? = nil, maximum: Int64? = nil, allowedIntegers: [Int64]? = nil, serverDefault: JSONValue? = nil,
                comparison: Comparison = .exact, whenUnset: WhenUnset = .serverKeeps, mergedOnUpdate: Bool = false,
                replaces: Bool = false, builder: String? = nil, rules: [Rule] = [], access: Access = .readWrite, requiredHint: String? = nil,
                doc: String) {
        self.name = name
        self.kind = kind
        self.required = required
        self.oneOf = oneOf
        self.minLength = minLength
        self.maxLength = maxLength
        self.limitReason = limitReason
        self.maxItems = maxItems
        self.minItems = minItems
        self.minimum = minimum
        self.maximum = maximum
        self.allowedIntegers = allowedIntegers
        self.serverDefault = serverDefault
        self.comparison = comparison
        self.whenUnset = whenUnset
        self.mergedOnUpdate = mergedOnUpdate
        self.replaces = replaces
        self.builder = builder
        self.rules = rules
        self.access = access
        self.requiredHint = requiredHint
        self.doc = doc
    }

    public var record: ShapeRecord? {
        if case .record(let r) = kind { return r }
        return nil
    }

    public var enumeration: ShapeEnum? {
        if case .enumeration(let e) = kind { return e }
        return nil
    }

    /// Whether a spec that leaves it out still says what it should be.
    var managedWhenUnset: Bool { required || whenUnset == .empty }

    /// The value an unset field that means empty stands for (`[]` for lists, `{}` for maps), else nil.
    var emptyValue: JSONValue? {
        switch kind {
        case .strings, .enumerations: return .array([])
        case .stringMap: return .object([:])
        default: return nil
        }
    }
}

/// A rule between two fields of one record.
public enum RecordCheck: Sendable {
    /// `field` is at least `other` when both are set (autoscaling: max >= min).
    case atLeast(_ field: String, _ other: String)
}

/// An enum the API sends as a string (older servers: its number, the index here).
public struct ShapeEnum: Sendable {
    public let typeName: String
    /// Every value in protobuf order: index = number.
    public let values: [String]
    /// Values the API refuses in requests, with why (CAPACITY_TYPE_CUSTOMER: deprecated).
    public let refused: [String: String]
    /// The value that means "not set", which is not valid to send.
    public var unspecified: String { values[0] }
    /// The values a request may carry.
    public let sendable: [String]

    public init(_ typeName: String, _ values: [String], refused: [String: String] = [:]) {
        self.typeName = typeName
        self.values = values
        self.refused = refused
        sendable = values.dropFirst().filter { refused[$0] == nil }
    }

    /// The value's name: a string as it is, a number by its index (an unknown number as its digits).
    public func name(of json: JSONValue) -> String? {
        switch json {
        case .string(let s): return s
        case .integer(let i): return i >= 0 && i < values.count ? values[Int(i)] : String(i)
        default: return nil
        }
    }
}

/// The gateway's shape: the CreateGateway request and the `spec` of an answer (CoreWeave's API reference; docs/lua-api.md).
public enum GatewayShape {
    public static let apiType = ShapeEnum("gateway.APIType", ["API_TYPE_UNSPECIFIED", "API_TYPE_OPENAI"])
    public static let edgeProxyMode = ShapeEnum("gateway.EdgeProxyMode",
                                                ["EDGE_PROXY_MODE_UNSPECIFIED", "EDGE_PROXY_MODE_MANAGED", "EDGE_PROXY_MODE_DIRECT"])

    /// The longest name the API takes: the public FQDN derived from it must fit a certificate's 64-character common name.
    public static let maxNameLength = 38
    /// Why the name is capped, for the declaration's doc and validation's message.
    public static let nameLimitReason = "the gateway's public FQDN must fit a certificate's 64-character common name"
    public static let maxSourceRanges = 50

    public static let wandbAuth = ShapeRecord("gateway.WandbAuth", doc: "Weights & Biases auth (SaaS, or a custom instance's https URL).", [
        ShapeField("apiKey", .string, minLength: 1, access: .writeOnly,
                   doc: "Never printed, logged or journalled by gwlua; the API never returns it."),
        ShapeField("serverUrl", .string, rules: [.httpsURL], doc: "https only, such as https://api.wandb.ai."),
        ShapeField("enableUsageReports", .boolean, serverDefault: .bool(false), doc: "Report usage to W&B."),
        ShapeField("enableRateLimiting", .boolean, serverDefault: .bool(false), doc: "Apply W&B rate limits."),
    ])

    public static let bodyRouting = ShapeRecord("gateway.BodyRouting", doc: "Route by the model named in the request body.", [
        ShapeField("apiType", .enumeration(apiType), required: true, requiredHint: "API_TYPE_OPENAI",
                   doc: "The request format: API_TYPE_OPENAI."),
    ])

    public static let headerRouting = ShapeRecord("gateway.HeaderRouting", doc: "Route by a request header.", [
        ShapeField("headerName", .string, required: true, minLength: 1, maxLength: 100, rules: [.headerToken],
                   requiredHint: "the request header that selects the model",
                   doc: "The header that names the model, 1 to 100 characters."),
    ])

    public static let endpointConfiguration = ShapeRecord("gateway.EndpointConfiguration",
                                                          doc: "How clients reach the gateway.", [
        ShapeField("additionalDns", .strings, comparison: .caselessSet, whenUnset: .empty, mergedOnUpdate: true,
                   builder: "additional_dns", rules: [.dnsName],
                   doc: "More DNS names for the gateway (a set; the API merges them on update)."),
        ShapeField("allowedSourceIpRanges", .strings, maxItems: maxSourceRanges, comparison: .networkSet,
                   builder: "allowed_source_ip_ranges", rules: [.cidr],
                   doc: "CIDR ranges (IPv4 or IPv6) allowed to reach the gateway, at most 50; an empty list allows any."),
        ShapeField("edgeProxyMode", .enumeration(edgeProxyMode), serverDefault: .string("EDGE_PROXY_MODE_MANAGED"),
                   builder: "edge_proxy_mode",
                   doc: "MANAGED: through CoreWeave's edge (DDoS, WAF, TLS at the edge); DIRECT: clients reach the gateway's load balancer. Unset: the platform default, MANAGED."),
    ])

    public static let spec = ShapeRecord("gateway.Spec", doc: "A CreateGateway body, with the API's own (camelCase) field names.", [
        ShapeField("id", .string, comparison: .ignored, builder: "id", rules: [.uuid],
                   doc: "A client-chosen UUID, so a create can be retried safely."),
        ShapeField("name", .string, required: true, maxLength: maxNameLength,
                   limitReason: nameLimitReason,
                   rules: [.gatewayName], doc: "The gateway's name: a DNS label, at most 38 characters."),
        ShapeField("zones", .strings, comparison: .caselessSet, whenUnset: .empty, builder: "zone", rules: [.zone],
                   doc: "Zones from c:parameters() (a set; case does not matter); gateways are limited to one today."),
        ShapeField("organizationId", .string, comparison: .ignored, access: .answerOnly,
                   doc: "Set by the API in its answers; accepted in a spec read back and not sent."),
        ShapeField("coreWeaveAuth", .marker, oneOf: .auth, builder: "coreweave_auth",
                   doc: "Exactly one auth: CoreWeave API tokens, or weightsAndBiasesAuth."),
        ShapeField("weightsAndBiasesAuth", .record(wandbAuth), oneOf: .auth, builder: "wandb_auth",
                   doc: "Exactly one auth: W&B API keys, or coreWeaveAuth."),
        ShapeField("bodyBasedRouting", .record(bodyRouting), oneOf: .routing, builder: "body_routing",
                   doc: "Exactly one routing: by the request body's model."),
        ShapeField("headerBasedRouting", .record(headerRouting), oneOf: .routing, builder: "header_routing",
                   doc: "Exactly one routing: by a request header."),
        ShapeField("pathBasedRouting", .marker, oneOf: .routing, builder: "path_routing",
                   doc: "Exactly one routing: by the request path."),
        ShapeField("endpointConfiguration", .record(endpointConfiguration), doc: "DNS names and source ranges."),
    ])

    /// Every field path (`endpointConfiguration.additionalDns`) with its declaration, records first.
    public static func paths(of record: ShapeRecord = spec, prefix: String = "") -> [(path: String, field: ShapeField)] {
        record.fields.flatMap { field -> [(path: String, field: ShapeField)] in
            let path = prefix + field.name
            return [(path, field)] + (field.record.map { paths(of: $0, prefix: path + ".") } ?? [])
        }
    }

    /// The paths of the fields in `fields` (a spec object) that the shape does not declare.
    public static func unknownPaths(in fields: [String: JSONValue], of record: ShapeRecord = spec, prefix: String = "") -> [String] {
        var out: [String] = []
        for (key, value) in fields {
            guard let field = record.field(key) else {
                out.append(prefix + key)
                continue
            }
            if let sub = field.record, case .object(let o) = value {
                out += unknownPaths(in: o, of: sub, prefix: prefix + key + ".")
            }
        }
        return out.sorted()
    }
}
