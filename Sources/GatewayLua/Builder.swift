import GatewayKit
import LuaHost

/// The fluent builder behind `gateway.builder(name)`.
final class SpecBuilder {
    var spec: GatewaySpec
    /// Which call set auth and routing, for the "second call" error.
    var authSetBy: Claim?
    var routingSetBy: Claim?

    /// A method call that set a one-of group, and where it was.
    struct Claim: CustomStringConvertible {
        let method: String
        let location: LuaLocation?
        var description: String { location.map { "\(method) at \($0)" } ?? method }
    }

    init(name: String) { spec = GatewaySpec(name: name) }

    static let buildOptions = LuaOptions(":build", [.strings("zones", "the zones to accept (from c:parameters())")])
    static let wandbKeys: Set<String> = ["apiKey", "serverUrl", "enableUsageReports", "enableRateLimiting"]

    static let luaClass = LuaClass<SpecBuilder>("gateway.builder")
        .method("zone") { b, call in
            b.spec.zones.append(try call.string(2))
            return chain(call)
        }
        .method("zones") { b, call in
            try call.checkTable(2)
            let items: [JSONValue]
            switch call.readJSON(2) {
            case .array(let list): items = list
            case .object(let o) where o.isEmpty: items = []
            default: throw call.argumentError(1, "a list of zone names expected")
            }
            for (i, item) in items.enumerated() {
                guard case .string(let z) = item else {
                    throw call.argumentError(1, "zone #\(i + 1) is a \(item.kindName), a string expected")
                }
                b.spec.zones.append(z)
            }
            return chain(call)
        }
        .method("id") { b, call in
            b.spec.id = try call.string(2)
            return chain(call)
        }
        .method("coreweave_auth") { b, call in
            try b.setAuth("coreweave_auth", call)
            b.spec.coreWeaveAuth = CoreWeaveAuth()
            return chain(call)
        }
        .method("wandb_auth") { b, call in
            try call.checkTable(2)
            guard case .object(let o) = call.readJSON(2) else {
                throw call.argumentError(1, "a table {apiKey = …, serverUrl = …} expected")
            }
            for key in o.keys.sorted() where !wandbKeys.contains(key) {
                throw LuaError.runtime("wandb_auth: unknown field '\(key)' (known: apiKey, serverUrl, enableUsageReports, enableRateLimiting)")
            }
            func string(_ k: String) throws -> String? {
                switch o[k] {
                case nil, .null?: return nil
                case .string(let s)?: return s
                case let v?: throw LuaError.runtime("wandb_auth: \(k) must be a string, got \(v.kindName)")
                }
            }
            func bool(_ k: String) throws -> Bool? {
                switch o[k] {
                case nil, .null?: return nil
                case .bool(let b)?: return b
                case let v?: throw LuaError.runtime("wandb_auth: \(k) must be a boolean, got \(v.kindName)")
                }
            }
            let auth = WeightsAndBiasesAuth(apiKey: try string("apiKey"), serverUrl: try string("serverUrl"),
                                            enableUsageReports: try bool("enableUsageReports"),
                                            enableRateLimiting: try bool("enableRateLimiting"))
            try b.setAuth("wandb_auth", call)
            b.spec.weightsAndBiasesAuth = auth
            return chain(call)
        }
        .method("body_routing") { b, call in
            let apiType = try call.optionalString(2).map(APIType.init(rawValue:)) ?? .openAI
            try b.setRouting("body_routing", call)
            b.spec.bodyBasedRouting = BodyBasedRouting(apiType: apiType)
            return chain(call)
        }
        .method("header_routing") { b, call in
            let header = try call.string(2)
            try b.setRouting("header_routing", call)
            b.spec.headerBasedRouting = HeaderBasedRouting(headerName: header)
            return chain(call)
        }
        .method("path_routing") { b, call in
            try b.setRouting("path_routing", call)
            b.spec.pathBasedRouting = PathBasedRouting()
            return chain(call)
        }
        .method("additional_dns") { b, call in
            let names = try strings(call, "DNS name")
            b.spec.endpointConfiguration = b.spec.endpointConfiguration ?? EndpointConfiguration()
            b.spec.endpointConfiguration?.additionalDns += names
            return chain(call)
        }
        .method("allowed_source_ip_ranges") { b, call in
            let ranges = try strings(call, "CIDR range")
            b.spec.endpointConfiguration = b.spec.endpointConfiguration ?? EndpointConfiguration()
            b.spec.endpointConfiguration?.allowedSourceIpRanges += ranges
            return chain(call)
        }
        .method("build") { b, call in
            let context = SpecsAPI.context(try buildOptions.read(call, at: 2))
            // Checked in place (a copy of the spec cost as much as the check). Checking
            // changes only the zones' spelling; the builder keeps the zones it was given.
            let zones = b.spec.zones
            defer { b.spec.zones = zones }
            let issues = SpecValidator.check(&b.spec, context: context)
            if issues.contains(where: { $0.severity == .error }) { throw SpecValidationError(issues: issues) }
            SpecsAPI.push(b.spec, in: call)
            return 1
        }
        .meta("__tostring") { b, call in
            call.push("gateway.builder(\(SpecsAPI.quote(b.spec.name)))")
            return 1
        }

    /// gateway.builder(name)
    static func start(_ call: LuaCall) throws -> Int32 {
        luaClass.push(SpecBuilder(name: try call.string(1)), in: call)
        return 1
    }

    /// A method's string arguments after the builder: at least one.
    static func strings(_ call: LuaCall, _ what: String) throws -> [String] {
        guard call.count >= 2 else { throw call.argumentError(1, "at least one \(what) expected") }
        return try (2...call.count).map { try call.string($0) }
    }

    /// Methods return the builder itself, for chaining.
    static func chain(_ call: LuaCall) -> Int32 {
        call.keep(1)
        return 1
    }

    func setAuth(_ method: String, _ call: LuaCall) throws {
        try SpecBuilder.claim(&authSetBy, "auth", by: method, call)
    }

    func setRouting(_ method: String, _ call: LuaCall) throws {
        try SpecBuilder.claim(&routingSetBy, "routing", by: method, call)
    }

    /// Records which call set a one-of group, or raises when one already did.
    private static func claim(_ slot: inout Claim?, _ group: String, by method: String, _ call: LuaCall) throws {
        if let previous = slot {
            throw LuaError.runtime("\(method): \(group) is already set by \(previous); a gateway has exactly one \(group)")
        }
        slot = Claim(method: method, location: call.callerLocation)
    }

    static let help = [
        LuaHelpEntry("gateway.builder", "gateway.builder(name) -> builder",
                     "A fluent builder: zone(z), zones{…}, id(uuid), coreweave_auth(), wandb_auth{apiKey=, serverUrl=, …}, body_routing([apiType]), header_routing(name), path_routing(), additional_dns(name, …), allowed_source_ip_ranges(cidr, …), build([{zones=}]).",
                     example: #"gateway.builder("llm"):zone("US-EAST-04A"):coreweave_auth():header_routing("X-Model"):build()"#),
    ]

    /// The function this area adds to `gateway`.
    static func register() -> [LuaFunction] {
        LuaHelp.add(help)
        return [LuaFunction("builder", start)]
    }
}
