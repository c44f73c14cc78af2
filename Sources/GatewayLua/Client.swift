import GatewayKit
import LuaHost

/// A client as Lua holds it.
final class LuaGatewayClient: Sendable {
    let client: GatewayClient
    let settings: GatewaySettings
    init(_ client: GatewayClient, settings: GatewaySettings) {
        self.client = client
        self.settings = settings
    }
}

/// An API failure raised into Lua: `{code =, http_status =, message =, details =, gateway =}`
/// whose tostring is one readable line with the script position.
struct LuaAPIError: LuaErrorValue {
    let error: APIError
    /// Prefix `text` with the script position (not for errors kept in result tables).
    var positioned = true

    var luaData: LuaData { data(position: "") }

    func data(position: String) -> LuaData {
        var fields: [(String, LuaData)] = [("code", .string(error.code.rawValue)), ("message", .string(error.message)),
                                           // One shape whichever style the server spoke: {type = "google.rpc.BadRequest", fieldViolations = {…}}.
                                           ("details", .json(.array(error.details.map(\.json)))),
                                           ("text", .string(position + error.description))]
        if let status = error.httpStatus { fields.append(("http_status", .json(.integer(Int64(status))))) }
        if let gateway = error.gateway { fields.append(("gateway", gateway.luaData)) }
        return .table(fields, errorMetatable)
    }

    func pushErrorValue(in call: LuaCall) { call.push(data(position: positioned ? call.callerPosition : "")) }
}

extension Gateway {
    /// `{spec = <spec table>, status = {status =, endpoints =, conditions =, createdAt =, updatedAt =}}`
    var luaData: LuaData { .table([("spec", spec.luaData), ("status", .json(status.json))]) }
}

/// `gateway.client(...)` and the client's methods (the API calls; plan and apply are in PlanApply).
enum ClientAPI {
    static let clientOptions = LuaOptions("gateway.client", [
        .string("endpoint", "the API's base URL"), .string("token", "the API token (default: the host's)"),
        .number("timeout", in: 0.001...3600, "seconds per request"), .integer("max_attempts", in: 1...100, "attempts per call"),
        .number("retry_delay", in: 0...60, "first backoff, seconds"), .number("retry_max_delay", in: 0...3600, "longest backoff, seconds"),
        .stringOrFalse("proxy", "an http:// proxy URL, or false for none (default: --proxy, else HTTPS_PROXY unless NO_PROXY names the host)"),
        .string("ca_file", "a PEM file of CAs to trust besides the system's"),
    ])
    static let listOptions = LuaOptions("c:list", [.string("updated_after", "an RFC 3339 time")])
    static let deleteOptions = LuaOptions("c:delete", [
        .boolean("wait", "return once get answers 404"), .number("timeout", in: 0...86_400), .number("interval", in: 0.01...3600),
    ])
    static let waitOptions = LuaOptions("c:wait", [
        .number("timeout", in: 0...86_400), .number("interval", in: 0.01...3600), .function("on_status", "called with each new status"),
    ])

    /// Every method: the gateway calls below, then the deployments' and claims' (ResourcesAPI).
    static let luaClass = ResourcesAPI.addMethods(to: gatewayClass)

    static let gatewayClass = LuaClass<LuaGatewayClient>("gateway.client")
        .method("parameters") { c, call in
            let p = try run(call) { try await c.client.parameters() }
            call.push(.json(p.json))
            return 1
        }
        .method("create") { c, call in
            let spec = try SpecsAPI.specArgument(call, 2)
            call.push(try run(call) { try await c.client.create(spec) }.luaData)
            return 1
        }
        .method("get") { c, call in
            let id = try call.string(2)
            call.push(try run(call) { try await c.client.get(id) }.luaData)
            return 1
        }
        .method("list") { c, call in
            let since = try listOptions.read(call, at: 2).string("updated_after")
            let items = try run(call) { try await c.client.list(updatedAfter: since) }
            call.push(.list(items.map(\.luaData)))
            return 1
        }
        .method("update") { c, call in
            let id = try call.string(2)
            let spec = try SpecsAPI.specArgument(call, 3)
            call.push(try run(call) { try await c.client.update(id, spec) }.luaData)
            return 1
        }
        .method("delete") { c, call in
            let id = try call.string(2)
            let options = try deleteOptions.read(call, at: 3)
            let (wait, timeout, interval) = (options.bool("wait") ?? false, options.number("timeout") ?? 1200, options.number("interval") ?? 5)
            let client = c.client
            call.push(try run(call) {
                let deleting = try await client.delete(id)
                if wait { try await client.waitUntilGone(id, timeout: timeout, interval: interval) }
                return deleting
            }.luaData)
            return 1
        }
        .method("wait") { c, call in
            let id = try call.string(2)
            let options = try waitOptions.read(call, at: 3)
            let (timeout, interval) = (options.number("timeout") ?? 2700, options.number("interval") ?? 5)
            let client = c.client
            guard let state = LuaState.owner(of: call.L) else { throw LuaError.runtime("no Lua state") }
            let ready: Gateway
            do {
                ready = try state.wait(for: { (sink: LuaEventSink<Gateway>) in
                    try await client.waitUntilReady(id, timeout: timeout, interval: interval) { sink.send($0) }
                }, onEvent: { gateway in
                    try options.call("on_status", in: call) {
                        call.push(gateway.luaData)
                        return 1
                    }
                })
            } catch let error as APIError {
                throw LuaAPIError(error: error)
            }
            call.push(ready.luaData)
            return 1
        }
        .method("plan", PlanApply.plan)
        .method("apply", PlanApply.apply)
        .meta("__tostring") { c, call in
            call.push("gateway.client(\(c.client.configuration.endpoint))")
            return 1
        }

    /// gateway.client([{endpoint =, token =, timeout =, max_attempts =, retry_delay =, retry_max_delay =}])
    static func make(settings: GatewaySettings) -> LuaFunction {
        LuaFunction("client") { call in
            let options = try clientOptions.read(call, at: 1)
            if settings.safe, let endpoint = options.string("endpoint"), endpoint != settings.endpoint, !options.has("token") {
                // The host's token must not be sent where the script likes.
                throw LuaError.runtime("gateway.client{endpoint = …} with the host's token is disabled by --safe")
            }
            guard let token = options.string("token") ?? settings.token, !token.isEmpty else {
                throw LuaAPIError(error: APIError(code: .config,
                    message: "no API token: set \(settings.tokenSource)"
                        + (settings.scriptIsUsers ? " (or pass token = … to gateway.client)" : "")))
            }
            if settings.safe, options.has("proxy") || options.has("ca_file"), !options.has("token") {
                // A proxy with a CA of the script's choosing could read the host's token.
                throw LuaError.runtime("gateway.client{proxy = …, ca_file = …} with the host's token is disabled by --safe")
            }
            let endpoint = options.string("endpoint") ?? settings.endpoint
            let choice: NetworkSettings.ProxyChoice
            if options.bool("proxy") == false {
                choice = .none
            } else if let url = options.string("proxy") {
                choice = .url(url, source: "gateway.client{proxy}")
            } else if settings.local && endpoint == settings.endpoint {
                choice = .none  // the in-process emulator, on loopback
            } else {
                choice = settings.proxy
            }
            let network: NetworkSettings
            do {
                network = try NetworkSettings.resolve(endpoint: endpoint, environment: settings.environment, proxy: choice,
                                                      caFile: options.string("ca_file") ?? settings.caFile)
            } catch let error as APIError {
                throw LuaAPIError(error: error)
            }
            let configuration = ClientConfiguration(
                endpoint: endpoint, token: token,
                timeout: options.number("timeout").map { .seconds($0) } ?? settings.timeout,
                maxAttempts: options.integer("max_attempts").map { Int($0) } ?? settings.maxAttempts,
                baseDelay: options.number("retry_delay").map { .seconds($0) } ?? .milliseconds(200),
                maxDelay: options.number("retry_max_delay").map { .seconds($0) } ?? .seconds(5), network: network)
            do {
                luaClass.push(LuaGatewayClient(try GatewayClient(configuration: configuration), settings: settings), in: call)
                return 1
            } catch let error as APIError {
                throw LuaAPIError(error: error)
            }
        }
    }

    /// Waits for async work on the Lua thread; API errors become Lua error values.
    static func run<T: Sendable>(_ call: LuaCall, _ body: @escaping @Sendable () async throws -> T) throws -> T {
        guard let state = LuaState.owner(of: call.L) else { throw LuaError.runtime("no Lua state") }
        do {
            return try state.wait(for: body)
        } catch let error as APIError {
            throw LuaAPIError(error: error)
        }
    }

    static let help = [
        LuaHelpEntry("gateway.client",
                     "gateway.client([{endpoint =, token =, timeout =, max_attempts =, retry_delay =, retry_max_delay =}]) -> client",
                     "A client for the API (endpoint and token from the command line and environment by default; --local points it at the emulator).",
                     example: "local c = gateway.client()"),
        LuaHelpEntry("c:parameters", "c:parameters() -> {zones = {…}}", "The zones gateways may use.", example: "c:parameters().zones"),
        LuaHelpEntry("c:create", "c:create(spec) -> gateway",
                     "Creates a gateway exactly once: before re-sending a create whose answer was lost it looks for the first attempt's gateway (by id, then by name and spec).",
                     example: "local g = c:create(s)"),
        LuaHelpEntry("c:get", "c:get(id) -> gateway", "One gateway; raises NOT_FOUND when unknown.", example: "c:get(g.spec.id)"),
        LuaHelpEntry("c:list", "c:list([{updated_after = \"RFC 3339 time\"}]) -> {gateway, …}",
                     "Every gateway (or those updated after a time).", example: "#c:list()"),
        LuaHelpEntry("c:update", "c:update(id, spec) -> gateway",
                     "Changes a gateway in place (PATCH with the whole spec; the API merges DNS names).", example: "c:update(id, s)"),
        LuaHelpEntry("c:delete", "c:delete(id [, {wait = false, timeout = 1200, interval = 5}]) -> gateway",
                     "Deletes a gateway; returns it in STATUS_DELETING. With wait, returns once get answers 404.",
                     example: "c:delete(id, {wait = true})"),
        LuaHelpEntry("c:wait", "c:wait(id [, {timeout = 2700, interval = 5, on_status = function(g) end}]) -> gateway",
                     "Polls until STATUS_READY, through STATUS_ERROR (recoverable); raises on STATUS_FAILED (final) and on the timeout.",
                     example: "c:wait(g.spec.id, {timeout = 60})"),
    ]

    /// The function this area adds to `gateway`.
    static func register(settings: GatewaySettings) -> [LuaFunction] {
        LuaHelp.add(help + PlanApply.help)
        return [make(settings: settings)]
    }
}
