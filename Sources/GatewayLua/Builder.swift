import GatewayKit
import LuaHost

/// The fluent builder behind `gateway.builder(name)`. Its strings and lists stay
/// Lua values in its userdata (`Slot`), so a chain converts nothing to Swift and
/// :build checks their bytes and copies them into the spec table as they are;
/// the Swift object keeps only which parts are set and by which call.
final class SpecBuilder {
    /// Which call set auth and routing, for the "second call" error.
    var authSetBy: Claim?
    var routingSetBy: Claim?
    var coreWeaveAuth = false, endpoint = false, wandb = false
    /// Whether the slots that are often empty hold anything (so :build does not look).
    var hasID = false, hasSourceRanges = false, hasEdgeProxyMode = false
    /// The one routing set (its strings are in `Slot.apiType` or `Slot.headerName`).
    var routing: Routing?
    enum Routing { case body, header, path }
    var enableUsageReports: Bool?, enableRateLimiting: Bool?

    /// A method call that set a one-of group, and the line it was at; the calling
    /// function is kept in the builder (`Slot.authCaller`, `Slot.routingCaller`),
    /// and the chunk is named only if a second call needs the message.
    struct Claim {
        let method: String
        let line: Int?
    }

    /// Where the builder keeps its Lua values: its strings and lists of strings, and
    /// the functions whose calls made its claims.
    enum Slot {
        static let name: Int32 = 1, id: Int32 = 2, zones: Int32 = 3, apiType: Int32 = 4, headerName: Int32 = 5
        static let additionalDns: Int32 = 6, sourceRanges: Int32 = 7, apiKey: Int32 = 8, serverURL: Int32 = 9
        static let authCaller: Int32 = 10, routingCaller: Int32 = 11, edgeProxyMode: Int32 = 12
        static let count: Int32 = 12
    }

    static let buildOptions = LuaOptions(":build", [.strings("zones", "the zones to accept (from c:parameters())")])
    static let wandbKeys: Set<String> = ["apiKey", "serverUrl", "enableUsageReports", "enableRateLimiting"]

    static let luaClass = LuaClass<SpecBuilder>("gateway.builder", valueSlots: Slot.count)
        .method("zone") { _, call in
            try call.checkString(2)
            call.objectValues(1).append(Slot.zones, argument: 2)
            return chain(call)
        }
        .method("zones") { _, call in
            try call.checkTable(2)
            let items: [JSONValue]
            switch call.readJSON(2) {
            case .array(let list): items = list
            case .object(let o) where o.isEmpty: items = []
            default: throw call.argumentError(1, "a list of zone names expected")
            }
            var zones: [String] = []
            for (i, item) in items.enumerated() {
                guard case .string(let z) = item else {
                    throw call.argumentError(1, "zone #\(i + 1) is a \(item.kindName), a string expected")
                }
                zones.append(z)
            }
            let values = call.objectValues(1)
            for zone in zones { values.append(Slot.zones, zone) }
            return chain(call)
        }
        .method("id") { b, call in
            try call.checkString(2)
            call.objectValues(1).set(Slot.id, argument: 2)
            b.hasID = true
            return chain(call)
        }
        .method("coreweave_auth") { b, call in
            try b.setAuth("coreweave_auth", call)
            b.coreWeaveAuth = true
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
            let (apiKey, serverURL) = (try string("apiKey"), try string("serverUrl"))
            let (usage, rateLimiting) = (try bool("enableUsageReports"), try bool("enableRateLimiting"))
            try b.setAuth("wandb_auth", call)
            let values = call.objectValues(1)
            if let apiKey { values.set(Slot.apiKey, apiKey) }
            if let serverURL { values.set(Slot.serverURL, serverURL) }
            (b.wandb, b.enableUsageReports, b.enableRateLimiting) = (true, usage, rateLimiting)
            return chain(call)
        }
        .method("body_routing") { b, call in
            let given = try call.checkOptionalString(2)
            try b.setRouting("body_routing", call)
            b.routing = .body
            if given {
                call.objectValues(1).set(Slot.apiType, argument: 2)
            } else {
                call.objectValues(1).set(Slot.apiType, APIType.openAI.rawValue)
            }
            return chain(call)
        }
        .method("header_routing") { b, call in
            try call.checkString(2)
            try b.setRouting("header_routing", call)
            b.routing = .header
            call.objectValues(1).set(Slot.headerName, argument: 2)
            return chain(call)
        }
        .method("path_routing") { b, call in
            try b.setRouting("path_routing", call)
            b.routing = .path
            return chain(call)
        }
        .method("additional_dns") { b, call in
            try appendStrings(call, to: Slot.additionalDns, "DNS name")
            b.endpoint = true
            return chain(call)
        }
        .method("allowed_source_ip_ranges") { b, call in
            try appendStrings(call, to: Slot.sourceRanges, "CIDR range")
            (b.endpoint, b.hasSourceRanges) = (true, true)
            return chain(call)
        }
        .method("edge_proxy_mode") { b, call in
            try call.checkString(2)
            call.objectValues(1).set(Slot.edgeProxyMode, argument: 2)
            (b.endpoint, b.hasEdgeProxyMode) = (true, true)
            return chain(call)
        }
        .method("build") { b, call in
            let context = SpecsAPI.context(try buildOptions.read(call, at: 2))
            let values = call.objectValues(1)
            if try b.buildCopying(values, context: context, in: call) { return 1 }
            // A string that is not UTF-8: built from Strings (repaired), as gateway.new does.
            var spec = b.spec(values)
            let issues = SpecValidator.check(&spec, context: context)
            if issues.contains(where: { $0.severity == .error }) { throw SpecValidationError(issues: issues) }
            SpecsAPI.push(spec, in: call)
            return 1
        }
        .meta("__tostring") { _, call in
            call.push("gateway.builder(\(SpecsAPI.quote(call.objectValues(1).string(Slot.name) ?? "")))")
            return 1
        }

    /// Checks the spec the builder holds by the rules, on the bytes of its Lua
    /// strings, and pushes it as a spec table made of those strings (stack effect
    /// +1): true; raises the validation error when it is invalid; false (nothing
    /// pushed) when a string is not UTF-8.
    func buildCopying(_ values: LuaObjectValues, context: ValidationContext, in call: LuaCall) throws -> Bool {
        var capacity = 16  // list items, on the stack; a bigger spec tries again with room for all
        while true {
            let needed: Int? = try withUnsafeTemporaryAllocation(of: BorrowedSpec.Text.self, capacity: capacity) { room in
                var spec = BorrowedSpec(listStorage: room)
                guard read(values, into: &spec) else { return nil }
                guard spec.fits else { return spec.needed }
                let issues = SpecValidator.check(&spec, context: context)
                if issues.contains(where: { $0.severity == .error }) { throw SpecValidationError(issues: issues) }
                push(values, respelling: spec.respelledZones, in: call)
                return 0
            }
            guard let needed else { return false }
            if needed == 0 { return true }
            capacity = needed
        }
    }

    /// The builder's spec with its strings borrowed; false when one is not UTF-8.
    func read(_ values: LuaObjectValues, into spec: inout BorrowedSpec) -> Bool {
        guard values.texts(Slot.name, { spec.name = $0 }) else { return false }
        if hasID { guard values.texts(Slot.id, { spec.id = $0 }) else { return false } }
        switch routing {
        case .body?: guard values.texts(Slot.apiType, { spec.apiType = $0 }) else { return false }
        case .header?: guard values.texts(Slot.headerName, { spec.headerName = $0 }) else { return false }
        case .path?: spec.hasPathRouting = true
        case nil: break
        }
        spec.start(.zones)
        guard values.texts(Slot.zones, { spec.append($0) }) else { return false }
        if endpoint {
            spec.start(.additionalDns)
            guard values.texts(Slot.additionalDns, { spec.append($0) }) else { return false }
        }
        if hasSourceRanges {
            spec.start(.allowedSourceIpRanges)
            guard values.texts(Slot.sourceRanges, { spec.append($0) }) else { return false }
        }
        if hasEdgeProxyMode { guard values.texts(Slot.edgeProxyMode, { spec.edgeProxyMode = $0 }) else { return false } }
        if wandb {
            spec.hasWandbAuth = true
            guard values.texts(Slot.apiKey, { spec.wandbAPIKey = $0 }),
                  values.texts(Slot.serverURL, { spec.wandbServerURL = $0 }) else { return false }
        }
        spec.hasCoreWeaveAuth = coreWeaveAuth
        return true
    }

    /// The builder's spec as Swift values (invalid UTF-8 repaired).
    func spec(_ values: LuaObjectValues) -> GatewaySpec {
        var spec = GatewaySpec(name: values.string(Slot.name) ?? "", zones: values.strings(Slot.zones))
        spec.id = values.string(Slot.id)
        if coreWeaveAuth { spec.coreWeaveAuth = CoreWeaveAuth() }
        if wandb {
            spec.weightsAndBiasesAuth = WeightsAndBiasesAuth(
                apiKey: values.string(Slot.apiKey), serverUrl: values.string(Slot.serverURL),
                enableUsageReports: enableUsageReports, enableRateLimiting: enableRateLimiting)
        }
        spec.bodyBasedRouting = values.string(Slot.apiType).map { BodyBasedRouting(apiType: APIType(rawValue: $0)) }
        spec.headerBasedRouting = values.string(Slot.headerName).map(HeaderBasedRouting.init)
        if routing == .path { spec.pathBasedRouting = PathBasedRouting() }
        if endpoint {
            spec.endpointConfiguration = EndpointConfiguration(additionalDns: values.strings(Slot.additionalDns),
                                                               allowedSourceIpRanges: hasSourceRanges ? values.strings(Slot.sourceRanges) : nil)
            if hasEdgeProxyMode, let mode = values.string(Slot.edgeProxyMode) {
                spec[path: "endpointConfiguration.edgeProxyMode"] = .string(mode)
            }
        }
        return spec
    }

    /// Pushes the spec table `SpecsAPI.push` makes of the same spec, from the
    /// builder's Lua strings. Stack effect: +1.
    func push(_ values: LuaObjectValues, respelling zones: [(index: Int, spelling: String)], in call: LuaCall) {
        call.pushTable(records: 6, metatable: SpecsAPI.specMetatable) { t in
            if hasID { t.set("id", values, Slot.id) }
            t.set("name", values, Slot.name)
            t.set("zones", list: values, Slot.zones, replacing: zones)
            if coreWeaveAuth { t.set("coreWeaveAuth") }
            if wandb {
                t.set("weightsAndBiasesAuth", records: 4) { a in
                    a.set("apiKey", values, Slot.apiKey)
                    a.set("serverUrl", values, Slot.serverURL)
                    if let v = enableUsageReports { a.set("enableUsageReports", v) }
                    if let v = enableRateLimiting { a.set("enableRateLimiting", v) }
                }
            }
            if endpoint {
                t.set("endpointConfiguration", records: 3) { c in
                    c.set("additionalDns", list: values, Slot.additionalDns)
                    if hasSourceRanges { c.set("allowedSourceIpRanges", list: values, Slot.sourceRanges) }
                    if hasEdgeProxyMode { c.set("edgeProxyMode", values, Slot.edgeProxyMode) }
                }
            }
            switch routing {
            case .body?: t.set("bodyBasedRouting", records: 1) { $0.set("apiType", values, Slot.apiType) }
            case .header?: t.set("headerBasedRouting", records: 1) { $0.set("headerName", values, Slot.headerName) }
            case .path?: t.set("pathBasedRouting")
            case nil: break
            }
        }
    }

    /// gateway.builder(name)
    static func start(_ call: LuaCall) throws -> Int32 {
        try call.checkString(1)
        luaClass.push(SpecBuilder(), in: call)
        call.objectValues(-1).set(Slot.name, argument: 1)
        return 1
    }

    /// Adds a method's string arguments after the builder (at least one) to `slot`.
    static func appendStrings(_ call: LuaCall, to slot: Int32, _ what: String) throws {
        guard call.count >= 2 else { throw call.argumentError(1, "at least one \(what) expected") }
        for i in 2...call.count { try call.checkString(i) }
        let values = call.objectValues(1)
        for i in 2...call.count { values.append(slot, argument: i) }
    }

    /// Methods return the builder itself, for chaining.
    static func chain(_ call: LuaCall) -> Int32 {
        call.keep(1)
        return 1
    }

    func setAuth(_ method: String, _ call: LuaCall) throws {
        try SpecBuilder.claim(&authSetBy, "auth", by: method, caller: Slot.authCaller, call)
    }

    func setRouting(_ method: String, _ call: LuaCall) throws {
        try SpecBuilder.claim(&routingSetBy, "routing", by: method, caller: Slot.routingCaller, call)
    }

    /// Records which call set a one-of group, or raises when one already did.
    private static func claim(_ claim: inout Claim?, _ group: String, by method: String, caller: Int32,
                              _ call: LuaCall) throws {
        let values = call.objectValues(1)
        if let previous = claim {
            let by = previous.line.map { "\(previous.method) at \(values.place(caller, line: $0))" } ?? previous.method
            throw LuaError.runtime("\(method): \(group) is already set by \(by); a gateway has exactly one \(group)")
        }
        claim = Claim(method: method, line: values.setCaller(caller))
    }

    static let help = [
        LuaHelpEntry("gateway.builder", "gateway.builder(name) -> builder",
                     "A fluent builder: zone(z), zones{…}, id(uuid), coreweave_auth(), wandb_auth{apiKey=, serverUrl=, …}, body_routing([apiType]), header_routing(name), path_routing(), additional_dns(name, …), allowed_source_ip_ranges(cidr, …), edge_proxy_mode(mode), build([{zones=}]).",
                     example: #"gateway.builder("llm"):zone("US-EAST-04A"):coreweave_auth():header_routing("X-Model"):build()"#),
    ]

    /// The function this area adds to `gateway`.
    static func register() -> [LuaFunction] {
        LuaHelp.add(help)
        return [LuaFunction("builder", start)]
    }
}
