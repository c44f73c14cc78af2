import CLua
import Foundation
import GatewayKit
import LuaHost
import Synchronization

/// What the host (the command line) decides for clients: the endpoint and token
/// from flags and environment, or an in-process emulator's.
public struct GatewaySettings: Sendable {
    public var endpoint: String
    /// nil when no token was found; `tokenSource` says where it was looked for.
    public var token: String?
    public var tokenSource: String
    public var maxAttempts: Int
    public var timeout: Duration
    /// `--dry-run`: apply plans and prints, and changes nothing.
    public var dryRun = false
    /// `--json`: apply writes JSON Lines events on stdout.
    public var jsonEvents = false
    /// `--journal FILE`: the journal apply uses when its options name none.
    public var journalPath: String?
    /// `--safe`: scripts may not point clients (and so the token) at another
    /// endpoint, nor write journals where they like.
    public var safe = false
    /// Draw a progress bar on stderr (it is a terminal).
    public var progress = false
    /// What apply runs did, for the process's exit status.
    public let report = RunReport()

    public init(endpoint: String = ClientConfiguration.defaultEndpoint, token: String? = nil,
                tokenSource: String = "COREWEAVE_API_TOKEN", maxAttempts: Int = 5, timeout: Duration = .seconds(30)) {
        self.endpoint = endpoint
        self.token = token
        self.tokenSource = tokenSource
        self.maxAttempts = maxAttempts
        self.timeout = timeout
    }
}

/// Failures across every apply of a run, so a script that ends normally
/// still exits 2 (or 69/77 when every failure is of that kind).
public final class RunReport: Sendable {
    private let state = Mutex<(failed: Int, succeeded: Int, codes: Set<String>, items: [ItemKey: Int])>((0, 0, [], [:]))

    /// An item tally's key: the plan's action and what became of it ("ok", "failed", "skipped").
    public struct ItemKey: Hashable, Sendable {
        public var action: String
        public var result: String
        public init(action: String, result: String) {
            self.action = action
            self.result = result
        }
    }

    public init() {}

    public func add(failed: Int, succeeded: Int, codes: Set<String>, items: [ItemKey: Int] = [:]) {
        state.withLock {
            $0.failed += failed
            $0.succeeded += succeeded
            $0.codes.formUnion(codes)
            $0.items.merge(items, uniquingKeysWith: +)
        }
    }

    /// Items of every apply of the run, by action and result.
    public var items: [ItemKey: Int] { state.withLock { $0.items } }

    public var failedItems: Int { state.withLock { $0.failed } }

    /// nil when nothing failed; else DESIGN.md's status for the failures.
    public var exitStatus: Int32? {
        state.withLock { s -> Int32? in
            guard s.failed > 0 else { return nil }
            if !s.codes.isEmpty, s.codes.isSubset(of: ["UNAUTHENTICATED", "PERMISSION_DENIED"]) { return 77 }
            if s.succeeded == 0, !s.codes.isEmpty, s.codes.isSubset(of: ["UNAVAILABLE", "TRANSPORT", "DEADLINE_EXCEEDED"]) { return 69 }
            return 2
        }
    }
}

/// A client as Lua holds it.
final class LuaGatewayClient: Sendable {
    let client: GatewayClient
    let settings: GatewaySettings
    init(_ client: GatewayClient, settings: GatewaySettings) {
        self.client = client
        self.settings = settings
    }
}

/// An API failure raised into Lua: `{code =, http_status =, message =, details =}`
/// whose tostring is one readable line with the script position.
struct LuaAPIError: LuaErrorValue {
    let error: APIError
    /// Prefix `text` with the script position (not for errors kept in result tables).
    var positioned = true

    func pushErrorValue(in call: LuaCall) {
        let L = call.L
        let position = positioned ? call.callerPosition : ""
        lua_createtable(L, 0, 5)
        LuaSpecs.setField(L, "code", error.code)
        if let status = error.httpStatus {
            lua_pushinteger(L, lua_Integer(status))
            lua_setfield(L, -2, "http_status")
        }
        LuaSpecs.setField(L, "message", error.message)
        // One shape whichever style the server spoke: {type = "google.rpc.BadRequest", fieldViolations = {…}}.
        PlanApply.pushJSON(.array(error.details.map(\.json)), L)
        lua_setfield(L, -2, "details")
        if let gateway = error.gateway {
            ClientModule.pushGateway(gateway, call)
            lua_setfield(L, -2, "gateway")
        }
        LuaSpecs.setField(L, "text", position + error.description)
        LuaErrorMetatable.set(L)
    }
}

/// The shared metatable of gateway error values: tostring gives `text` (or `message`).
enum LuaErrorMetatable {
    static func set(_ L: OpaquePointer) {
        if luaL_newmetatable(L, "gateway.error") != 0 {
            LuaCall(state: L).push(LuaFunction("__tostring") { call in
                if call.pushRawField(1, "text") == LUA_TSTRING { return 1 }
                gwlua_pop(call.L, 1)
                call.pushRawField(1, "message")
                return 1
            })
            lua_setfield(L, -2, "__tostring")
        }
        lua_setmetatable(L, -2)
    }
}

enum ClientModule {
    static let luaClass = LuaClass<LuaGatewayClient>("gateway.client")
        .method("parameters") { c, call in
            let p = try run(call) { try await c.client.parameters() }
            lua_createtable(call.L, 0, 1)
            LuaSpecs.pushStrings(p.zones, call.L)
            lua_setfield(call.L, -2, "zones")
            return 1
        }
        .method("create") { c, call in
            let spec = try specArgument(call, 2)
            pushGateway(try run(call) { try await c.client.create(spec) }, call)
            return 1
        }
        .method("get") { c, call in
            let id = try call.string(2)
            pushGateway(try run(call) { try await c.client.get(id) }, call)
            return 1
        }
        .method("list") { c, call in
            var after: String?
            if call.count >= 2, call.type(at: 2) != .nil {
                try call.checkTable(2)
                call.pushRawField(2, "updated_after")
                if lua_type(call.L, -1) == LUA_TSTRING { after = LuaCall.string(at: -1, in: call.L) }
                gwlua_pop(call.L, 1)
            }
            let since = after
            let items = try run(call) { try await c.client.list(updatedAfter: since) }
            lua_createtable(call.L, Int32(items.count), 0)
            for (i, g) in items.enumerated() {
                pushGateway(g, call)
                lua_rawseti(call.L, -2, lua_Integer(i + 1))
            }
            return 1
        }
        .method("update") { c, call in
            let id = try call.string(2)
            let spec = try specArgument(call, 3)
            pushGateway(try run(call) { try await c.client.update(id, spec) }, call)
            return 1
        }
        .method("delete") { c, call in
            let id = try call.string(2)
            let wait = try flagOption(call, 3, "wait", function: "delete", known: ["interval", "timeout", "wait"]) ?? false
            let timeout = try numberOption(call, 3, "timeout", function: "delete") ?? 1200
            let interval = try numberOption(call, 3, "interval", function: "delete") ?? 5
            let client = c.client
            pushGateway(try run(call) {
                let deleting = try await client.delete(id)
                if wait { try await client.waitUntilGone(id, timeout: timeout, interval: interval) }
                return deleting
            }, call)
            return 1
        }
        .method("wait") { c, call in
            let id = try call.string(2)
            let known: Set<String> = ["interval", "on_status", "timeout"]
            let timeout = try numberOption(call, 3, "timeout", function: "wait", known: known) ?? 2700
            let interval = try numberOption(call, 3, "interval", function: "wait") ?? 5
            let onStatus = try functionOption(call, 3, "on_status", function: "wait")
            let client = c.client
            guard let state = LuaState.owner(of: call.L) else { throw LuaError.runtime("no Lua state") }
            let ready: Gateway
            do {
                ready = try state.wait(for: { (sink: LuaEventSink<Gateway>) in
                    try await client.waitUntilReady(id, timeout: timeout, interval: interval) { sink.send($0) }
                }, onEvent: { gateway in
                    guard let onStatus else { return }
                    lua_pushvalue(call.L, onStatus)
                    pushGateway(gateway, call)
                    try state.call(arguments: 1, results: 0)
                })
            } catch let error as APIError {
                throw LuaAPIError(error: error)
            }
            pushGateway(ready, call)
            return 1
        }
        .method("plan", PlanApply.plan)
        .method("apply", PlanApply.apply)
        .meta("__tostring") { c, call in
            call.push("gateway.client(\(c.client.configuration.endpoint))")
            return 1
        }

    /// gateway.client([{endpoint =, token =, timeout =, max_attempts =}])
    static func make(settings: GatewaySettings) -> LuaFunction {
        LuaFunction("client") { call in
            var endpoint = settings.endpoint
            var token = settings.token
            var timeout = settings.timeout
            var attempts = settings.maxAttempts
            var baseDelay: Duration = .milliseconds(200), maxDelay: Duration = .seconds(5)
            if call.count >= 1, call.type(at: 1) != .nil {
                try call.checkTable(1)
                let known: Set<String> = ["endpoint", "token", "timeout", "max_attempts", "retry_delay", "retry_max_delay"]
                if case .object(let o) = LuaSpecs.document(at: 1, in: call.L) {
                    for key in o.keys.sorted() where !known.contains(key) {
                        throw LuaError.runtime("gateway.client: unknown option '\(key)' (known: \(known.sorted().joined(separator: ", ")))")
                    }
                    if let d = try numberOption(call, 1, "retry_delay", function: "gateway.client") {
                        guard d >= 0, d <= 60 else { throw call.argumentError(1, "retry_delay must be 0 to 60 seconds") }
                        baseDelay = .seconds(d)
                    }
                    if let d = try numberOption(call, 1, "retry_max_delay", function: "gateway.client") {
                        guard d >= 0, d <= 3600 else { throw call.argumentError(1, "retry_max_delay must be 0 to 3600 seconds") }
                        maxDelay = .seconds(d)
                    }
                    if case .string(let e)? = o["endpoint"] {
                        // The host's token must not be sent where the script likes.
                        if settings.safe, e != settings.endpoint, o["token"] == nil {
                            throw LuaError.runtime("gateway.client{endpoint = …} with the host's token is disabled by --safe")
                        }
                        endpoint = e
                    }
                    if case .string(let t)? = o["token"] { token = t }
                    switch o["timeout"] {
                    case .integer(let s)?: timeout = .seconds(s)
                    case .double(let s)?: timeout = .seconds(s)
                    default: break
                    }
                    if case .integer(let n)? = o["max_attempts"] { attempts = Int(max(1, n)) }
                }
            }
            guard let token, !token.isEmpty else {
                throw LuaAPIError(error: APIError(code: "CONFIG",
                    message: "no API token: set \(settings.tokenSource) (or pass token = … to gateway.client)"))
            }
            do {
                let client = try GatewayClient(configuration: ClientConfiguration(
                    endpoint: endpoint, token: token, timeout: timeout, maxAttempts: attempts, baseDelay: baseDelay,
                    maxDelay: maxDelay))
                luaClass.push(LuaGatewayClient(client, settings: settings), in: call)
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
        } catch LuaError.interrupted(let message) {
            throw LuaError.interrupted(message)
        }
    }

    /// An options table's number at `index` (nil when absent or no table); with
    /// `known`, unknown keys are refused first.
    static func numberOption(_ call: LuaCall, _ index: Int32, _ key: String, function: String,
                             known: Set<String>? = nil) throws -> Double? {
        guard try optionsTable(call, index, function: function, known: known) else { return nil }
        defer { gwlua_pop(call.L, 1) }
        switch call.pushRawField(index, key) {
        case LUA_TNIL: return nil
        case LUA_TNUMBER: return lua_tonumberx(call.L, -1, nil)
        default: throw call.argumentError(index, "bad option '\(key)' to '\(function)' (number expected, got \(call.typeName(at: -1)))")
        }
    }

    static func flagOption(_ call: LuaCall, _ index: Int32, _ key: String, function: String,
                           known: Set<String>? = nil) throws -> Bool? {
        guard try optionsTable(call, index, function: function, known: known) else { return nil }
        defer { gwlua_pop(call.L, 1) }
        switch call.pushRawField(index, key) {
        case LUA_TNIL: return nil
        case LUA_TBOOLEAN: return lua_toboolean(call.L, -1) != 0
        default: throw call.argumentError(index, "bad option '\(key)' to '\(function)' (boolean expected, got \(call.typeName(at: -1)))")
        }
    }

    /// A function option: its stack index (it stays pushed for the call's duration), or nil.
    static func functionOption(_ call: LuaCall, _ index: Int32, _ key: String, function: String) throws -> Int32? {
        guard try optionsTable(call, index, function: function, known: nil) else { return nil }
        switch call.pushRawField(index, key) {
        case LUA_TNIL:
            gwlua_pop(call.L, 1)
            return nil
        case LUA_TFUNCTION: return lua_gettop(call.L)
        default:
            let got = call.typeName(at: -1)
            gwlua_pop(call.L, 1)
            throw call.argumentError(index, "bad option '\(key)' to '\(function)' (function expected, got \(got))")
        }
    }

    /// Whether an options table is at `index` (nil or absent: no); anything else is an error.
    private static func optionsTable(_ call: LuaCall, _ index: Int32, function: String, known: Set<String>?) throws -> Bool {
        guard call.count >= index, call.type(at: index) != .nil else { return false }
        try call.checkTable(index)
        if let known, case .object(let o) = LuaSpecs.document(at: index, in: call.L) {
            for key in o.keys.sorted() where !known.contains(key) {
                throw call.argumentError(index, "unknown option '\(key)' to '\(function)' (known: \(known.sorted().joined(separator: ", ")))")
            }
        }
        return true
    }

    static func specArgument(_ call: LuaCall, _ index: Int32) throws -> GatewaySpec {
        try call.checkTable(index)
        let result = SpecValidator.validate(LuaSpecs.document(at: index, in: call.L))
        guard let spec = result.spec else { throw SpecValidationError(issues: result.issues) }
        return spec
    }

    /// `{spec = <spec table>, status = {status =, endpoints =, conditions =, createdAt =, updatedAt =}}`
    static func pushGateway(_ g: Gateway, _ call: LuaCall) {
        let L = call.L
        lua_createtable(L, 0, 2)
        LuaSpecs.push(g.spec, in: call)
        lua_setfield(L, -2, "spec")
        lua_createtable(L, 0, 5)
        LuaSpecs.setField(L, "status", g.status.status.rawValue)
        if let c = g.status.createdAt { LuaSpecs.setField(L, "createdAt", c) }
        if let u = g.status.updatedAt { LuaSpecs.setField(L, "updatedAt", u) }
        LuaSpecs.pushStrings(g.status.endpoints, L)
        lua_setfield(L, -2, "endpoints")
        lua_createtable(L, Int32(g.status.conditions.count), 0)
        for (i, c) in g.status.conditions.enumerated() {
            lua_createtable(L, 0, 6)
            if let v = c.type { LuaSpecs.setField(L, "type", v) }
            if let v = c.status { LuaSpecs.setField(L, "status", v.rawValue) }
            if let v = c.reason { LuaSpecs.setField(L, "reason", v) }
            if let v = c.message { LuaSpecs.setField(L, "message", v) }
            if let v = c.zone { LuaSpecs.setField(L, "zone", v) }
            if let v = c.lastUpdateTime { LuaSpecs.setField(L, "lastUpdateTime", v) }
            lua_rawseti(L, -2, lua_Integer(i + 1))
        }
        lua_setfield(L, -2, "conditions")
        lua_setfield(L, -2, "status")
    }
}
