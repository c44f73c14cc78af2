import GatewayKit
import LuaHost

/// Deployments and capacity claims in Lua, by their declarations: for each kind a
/// table (`gateway.deployment`, `gateway.capacity_claim`) with new, validate,
/// to_json and builder, as `gateway` has for gateways; and on the client one
/// naming pattern for all three kinds: `c:create_deployment(s)`,
/// `c:get_capacity_claim(id)`, `c:list_deployments()`, `c:update_…`, `c:delete_…`,
/// `c:wait_…`, `c:deployment_parameters()` (and `c:create_gateway` … beside `c:create`).
enum ResourcesAPI {
    static let kinds: [ResourceKind] = [.deployment, .capacityClaim]

    static let deploymentMetatable = LuaMetatable("gateway.deployment.spec", tostring: { call in
        SpecsAPI.describe(call.readJSON(1), name: "gateway.deployment", order: DeploymentShape.spec.fields.map(\.name))
    })
    static let claimMetatable = LuaMetatable("gateway.capacity_claim.spec", tostring: { call in
        SpecsAPI.describe(call.readJSON(1), name: "gateway.capacity_claim", order: CapacityClaimShape.spec.fields.map(\.name))
    })

    static func metatable(_ kind: ResourceKind) -> LuaMetatable { kind == .deployment ? deploymentMetatable : claimMetatable }

    /// `gateway.deployment.new` …: the module name of a kind's functions.
    static func prefix(_ kind: ResourceKind) -> String { "gateway.\(kind.luaName)" }

    static func specOptions(_ kind: ResourceKind, _ function: String) -> LuaOptions {
        var options: [LuaOptions.Option] = [.table("parameters", "c:\(kind.luaName)_parameters()'s answer: check against what the API offers")]
        if kind == .deployment { options.append(.strings("gateways", "names of gateways (in a fleet) that gatewayIds may use instead of ids")) }
        return LuaOptions("\(prefix(kind)).\(function)", options)
    }

    static func context(_ kind: ResourceKind, _ options: LuaOptionValues, kept: Set<String>) -> ValidationContext {
        ValidationContext(acceptsAnswerFields: true, keptUnknownPaths: kept,
                          parameters: options.json("parameters").map { ResourceParameters(kind, answer: $0) },
                          gatewayNames: Set(options.strings("gateways") ?? []))
    }

    /// Pushes `spec` as a spec table of its kind (declared order, lists marked);
    /// fields gwlua does not know are noted on it so they go back. Stack effect: +1.
    static func push(_ spec: ResourceSpec, in call: LuaCall) {
        call.push(LuaData.table(SpecsAPI.entries(spec.fields, spec.kind.shape), metatable(spec.kind)))
        let kept = spec.unknownFieldPaths
        if !kept.isEmpty { SpecsAPI.keptNote.set(.array(kept.map(JSONValue.string)), onTableAt: -1, in: call) }
    }

    /// The spec of `kind` at `index`, validated; raises the validation error when it is invalid.
    static func specArgument(_ kind: ResourceKind, _ call: LuaCall, _ index: Int32, options: LuaOptionValues? = nil) throws -> ResourceSpec {
        try call.checkTable(index)
        let kept = SpecsAPI.keptPaths(at: index, in: call)
        let context = options.map { Self.context(kind, $0, kept: kept) } ?? ValidationContext(acceptsAnswerFields: true, keptUnknownPaths: kept)
        let result = ResourceValidator.validate(call.readJSON(index), kind: kind, context: context)
        guard let spec = result.spec else { throw SpecValidationError(issues: result.issues, noun: kind.noun) }
        return spec
    }

    // MARK: gateway.deployment, gateway.capacity_claim

    static func functions(_ kind: ResourceKind) -> [LuaFunction] {
        let newOptions = specOptions(kind, "new"), validateOptions = specOptions(kind, "validate")
        let toJSONOptions = LuaOptions("\(prefix(kind)).to_json", [.boolean("pretty", "indent the JSON")])
        return [
            LuaFunction("new") { call in
                let options = try newOptions.read(call, at: 2)
                push(try specArgument(kind, call, 1, options: options), in: call)
                return 1
            },
            LuaFunction("validate") { call in
                try call.checkAny(1)
                let context = Self.context(kind, try validateOptions.read(call, at: 2), kept: SpecsAPI.keptPaths(at: 1, in: call))
                let result = ResourceValidator.validate(call.readJSON(1), kind: kind, context: context)
                call.push(result.isValid)
                call.push(SpecsAPI.issuesData(result.issues))
                return 2
            },
            LuaFunction("to_json") { call in
                let pretty = try toJSONOptions.read(call, at: 2).bool("pretty") ?? false
                let spec = try specArgument(kind, call, 1)
                let body = JSONValue.object(spec.requestFields)
                call.push(bytes: pretty ? try WireJSON.encode(body, pretty: true) : try body.serialized())
                return 1
            },
            LuaFunction("builder") { call in
                let name = try call.string(1)
                ResourceBuilder.luaClass(kind).push(ResourceBuilder(kind: kind, name: name), in: call)
                return 1
            },
        ]
    }

    /// `{spec = <spec table>, status = {status =, conditions =, …}}`
    static func data(_ resource: Resource) -> LuaData {
        .table([("spec", .pushed { push(resource.spec, in: $0) }), ("status", .json(.object(resource.status)))])
    }

    // MARK: The client's methods

    static let deleteOptions = ["deployment", "capacity_claim"].reduce(into: [String: LuaOptions]()) { out, name in
        out[name] = LuaOptions("c:delete_\(name)", [
            .boolean("wait", "return once get answers 404"), .number("timeout", in: 0...86_400), .number("interval", in: 0.01...3600),
        ])
    }
    static let waitOptions = ["deployment", "capacity_claim"].reduce(into: [String: LuaOptions]()) { out, name in
        out[name] = LuaOptions("c:wait_\(name)", [
            .number("timeout", in: 0...86_400), .number("interval", in: 0.01...3600), .function("on_status", "called with each new status"),
        ])
    }

    /// The client class with every kind's methods and the gateway aliases added.
    static func addMethods(to base: LuaClass<LuaGatewayClient>) -> LuaClass<LuaGatewayClient> {
        var cls = base
        for kind in kinds {
            let k = kind.luaName
            let deleteOptions = Self.deleteOptions[k] ?? LuaOptions("c:delete_\(k)", [])
            let waitOptions = Self.waitOptions[k] ?? LuaOptions("c:wait_\(k)", [])
            cls = cls
                .method("\(k)_parameters") { c, call in
                    let p = try ClientAPI.run(call) { try await c.client.parameters(of: kind) }
                    call.push(.json(p.raw))
                    return 1
                }
                .method("create_\(k)") { c, call in
                    let spec = try specArgument(kind, call, 2)
                    call.push(data(try ClientAPI.run(call) { try await c.client.create(spec) }))
                    return 1
                }
                .method("get_\(k)") { c, call in
                    let id = try call.string(2)
                    call.push(data(try ClientAPI.run(call) { try await c.client.get(kind, id) }))
                    return 1
                }
                .method("list_\(kind.fleetKey)") { c, call in
                    let items = try ClientAPI.run(call) { try await c.client.list(kind) }
                    call.push(.list(items.map(data)))
                    return 1
                }
                .method("update_\(k)") { c, call in
                    let id = try call.string(2)
                    let spec = try specArgument(kind, call, 3)
                    call.push(data(try ClientAPI.run(call) { try await c.client.update(id, spec) }))
                    return 1
                }
                .method("delete_\(k)") { c, call in
                    let id = try call.string(2)
                    let options = try deleteOptions.read(call, at: 3)
                    let (wait, timeout, interval) = (options.bool("wait") ?? false, options.number("timeout") ?? 1200, options.number("interval") ?? 5)
                    let client = c.client
                    call.push(data(try ClientAPI.run(call) {
                        let deleting = try await client.delete(kind, id)
                        if wait { try await client.waitUntilGone(kind, id, timeout: timeout, interval: interval) }
                        return deleting
                    }))
                    return 1
                }
                .method("wait_\(k)") { c, call in
                    let id = try call.string(2)
                    let options = try waitOptions.read(call, at: 3)
                    let (timeout, interval) = (options.number("timeout") ?? (kind == .deployment ? 2700 : 1200), options.number("interval") ?? 5)
                    let client = c.client
                    guard let state = LuaState.owner(of: call.L) else { throw LuaError.runtime("no Lua state") }
                    let ready: Resource
                    do {
                        ready = try state.wait(for: { (sink: LuaEventSink<Resource>) in
                            try await client.waitUntilReady(kind, id, timeout: timeout, interval: interval) { sink.send($0) }
                        }, onEvent: { resource in
                            try options.call("on_status", in: call) {
                                call.push(data(resource))
                                return 1
                            }
                        })
                    } catch let error as APIError {
                        throw LuaAPIError(error: error)
                    }
                    call.push(data(ready))
                    return 1
                }
        }
        // One pattern for all three kinds: the gateway calls under the same names.
        for (alias, original) in gatewayAliases {
            if let body = base.methods.first(where: { $0.name == original })?.body { cls = cls.method(alias, body) }
        }
        return cls
    }

    // MARK: Help and registration

    static func help(_ kind: ResourceKind) -> [LuaHelpEntry] {
        let p = prefix(kind), k = kind.luaName, n = kind.noun
        let example = kind == .deployment
            ? #"gateway.deployment.new{name = "llama-8b", gatewayIds = {g.spec.id}, runtime = {engine = "vllm"}, resources = {instanceType = "H100_80GB_SXM5", gpuCount = 1}, model = {name = "meta-llama/Llama-3.1-8B", bucket = "models"}}"#
            : #"gateway.capacity_claim.new{name = "gb200-east", resources = {instanceId = "gb200-4x", instanceCount = 2, zones = {"US-WEST-04A"}}}"#
        let builderMethods = ShapePaths.all(of: kind.shape).compactMap { $0.field.builder.map { ":\($0)" } }.joined(separator: ", ")
        return [
            LuaHelpEntry("\(p).new", "\(p).new(t [, {parameters = p\(kind == .deployment ? ", gateways = {names}" : "")}]) -> spec",
                         "Validates a table in the API's shape (camelCase fields) and returns a \(n) spec table; raises a VALIDATION error listing every problem. With parameters (from c:\(k)_parameters()), checks against what the API offers.",
                         example: example),
            LuaHelpEntry("\(p).validate", "\(p).validate(t [, {parameters = p}]) -> ok, issues",
                         "Never raises for a bad spec: issues is a list of {path =, message =, severity =}.", example: "local ok, issues = \(p).validate{name = \"x\"}"),
            LuaHelpEntry("\(p).to_json", "\(p).to_json(spec [, {pretty = true}]) -> string",
                         "The exact \(kind.requestName) request body (sorted keys).", example: "print(\(p).to_json(s, {pretty = true}))"),
            LuaHelpEntry("\(p).builder", "\(p).builder(name) -> builder",
                         "A fluent builder: \(builderMethods), :build([{parameters =}]).", example: kind == .deployment
                            ? #"gateway.deployment.builder("llama-8b"):gateway(id):engine("vllm"):instance_type("H100_80GB_SXM5"):gpu_count(1):model("meta-llama/Llama-3.1-8B"):build()"#
                            : #"gateway.capacity_claim.builder("gb200-east"):instance_type("gb200-4x"):count(2):zone("US-WEST-04A"):build()"#),
            fieldsHelp(kind),
            LuaHelpEntry("c:create_\(k)", "c:create_\(k)(spec) -> \(k)",
                         "Creates a \(n) exactly once: its create carries no id, so before re-sending a create whose answer was lost it looks for the first attempt's \(n) by name and spec.",
                         example: "local r = c:create_\(k)(s)"),
            LuaHelpEntry("c:get_\(k)", "c:get_\(k)(id) -> \(k)", "One \(n); raises NOT_FOUND when unknown.", example: "c:get_\(k)(r.spec.id)"),
            LuaHelpEntry("c:list_\(kind.fleetKey)", "c:list_\(kind.fleetKey)() -> {\(k), …}", "Every \(n).", example: "#c:list_\(kind.fleetKey)()"),
            LuaHelpEntry("c:update_\(k)", "c:update_\(k)(id, spec) -> \(k)",
                         "PATCH with the whole spec, merged over what the \(n) holds: fields gwlua does not know and optional fields the spec leaves out go back unchanged."
                            + (kind == .capacityClaim ? " Only resources.instanceCount changes in place; the API may refuse other changes (replace the claim)." : ""),
                         example: "c:update_\(k)(id, s)"),
            LuaHelpEntry("c:delete_\(k)", "c:delete_\(k)(id [, {wait = false, timeout = 1200, interval = 5}]) -> \(k)",
                         "Deletes it; returns it in STATUS_DELETING. With wait, returns once get answers 404.", example: "c:delete_\(k)(id, {wait = true})"),
            LuaHelpEntry("c:wait_\(k)", "c:wait_\(k)(id [, {timeout =, interval = 5, on_status = function(r) end}]) -> \(k)",
                         kind == .deployment
                            ? "Polls until STATUS_READY with the ResourcesApplied condition True (when the API sends it), through STATUS_ERROR; raises on STATUS_FAILED and the timeout (default 2700 s)."
                            : "Polls until STATUS_READY, through STATUS_ERROR; raises on STATUS_FAILED and the timeout (default 1200 s).",
                         example: "c:wait_\(k)(r.spec.id, {timeout = 600})"),
            LuaHelpEntry("c:\(k)_parameters", "c:\(k)_parameters() -> table",
                         kind == .deployment ? "What deployments may use: instanceTypes, runtimeVersions, engineEnvOptions, gatewayIds (as the API answers; pass it to \(p).new as parameters)."
                                             : "zoneInstanceTypes: the instance types claims may name, by zone (pass it to \(p).new as parameters).",
                         example: "local p = c:\(k)_parameters()"),
        ]
    }

    /// `.help gateway.deployment.spec`: every declared field, its type and what it is.
    static func fieldsHelp(_ kind: ResourceKind) -> LuaHelpEntry {
        let lines = ShapePaths.all(of: kind.shape).filter { $0.field.access != .answerOnly }.map { path, field in
            "    \(path)\(field.required ? "" : "?"): \(SpecsAPI.typeText(field)). \(field.doc)"
        }
        return LuaHelpEntry("\(prefix(kind)).spec", "a \(kind.noun) spec table's fields (the API's names; ? marks optional ones)",
                            lines.joined(separator: "\n"), example: "\(prefix(kind)).new{…}")
    }

    /// The gateway calls under the names the other kinds use (c:create_gateway …), and what they stand for.
    static let gatewayAliases = [("create_gateway", "create"), ("get_gateway", "get"), ("list_gateways", "list"),
                                 ("update_gateway", "update"), ("delete_gateway", "delete"), ("wait_gateway", "wait"),
                                 ("gateway_parameters", "parameters")]

    /// The `gateway.deployment` and `gateway.capacity_claim` tables.
    static func register() -> [(String, LuaData)] {
        LuaHelp.add(gatewayAliases.map { alias, original in
            LuaHelpEntry("c:\(alias)", "c:\(alias)(…): the same as c:\(original)",
                         "c:\(original) under the name the deployment and capacity claim calls share (c:create_deployment, c:create_capacity_claim).",
                         example: "c:\(alias)(…)")
        })
        for kind in kinds {
            LuaHelp.add(help(kind))
            Completion.add(words: ShapePaths.all(of: kind.shape).map(\.field.name))
        }
        return kinds.map { kind in (kind.luaName, LuaData.table(functions(kind).map { ($0.name, .function($0)) })) }
    }
}
