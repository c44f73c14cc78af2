import GatewayKit
import LuaHost

/// Spec tables: `gateway.new`, `gateway.validate`, `gateway.to_json`; the spec
/// table's metatable (a readable, redacted tostring) and the validation error.
enum SpecsAPI {
    static let specMetatable = LuaMetatable("gateway.spec", tostring: { call in describe(call.readJSON(1)) })

    static let newOptions = LuaOptions("gateway.new", [.strings("zones", "the zones to accept (from c:parameters())")])
    static let validateOptions = LuaOptions("gateway.validate", [.strings("zones", "the zones to accept")])
    static let toJSONOptions = LuaOptions("gateway.to_json", [.boolean("pretty", "indent the JSON")])

    static func context(_ options: LuaOptionValues) -> ValidationContext { ValidationContext(zones: options.strings("zones")) }

    /// gateway.new(t [, {zones = …}]) -> spec table, or raises the validation error.
    /// A table in the expected shape is read field by field and validated typed; any
    /// other (an unknown key, a wrong type, an invalid spec) goes the general way,
    /// through `readJSON` and document validation, whose issues name every path.
    static func new(_ call: LuaCall) throws -> Int32 {
        try call.checkTable(1)
        let context = context(try newOptions.read(call, at: 2))
        if let typed = readSpec(call.tableView(1)), let spec = SpecValidator.validate(typed, context: context).spec {
            push(spec, in: call)
            return 1
        }
        let result = SpecValidator.validate(call.readJSON(1), context: context)
        guard let spec = result.spec else { throw SpecValidationError(issues: result.issues) }
        push(spec, in: call)
        return 1
    }

    /// The spec a table holds when every field is of the expected type and nothing
    /// else is there; nil sends the caller the general way.
    static func readSpec(_ t: LuaTableView) -> GatewaySpec? {
        var top = ExactFields(t)
        /// A table whose one field is the string `field`.
        func single(_ key: StaticString, _ field: StaticString) -> String?? {
            top.table(key) { r in
                var inner = ExactFields(r)
                guard case let value?? = inner.read(r.string(field)), inner.complete else { return nil }
                return value
            }
        }
        guard case let name?? = top.read(t.string("name")),
              let zones = top.read(t.strings("zones")), let id = top.read(t.string("id")),
              let coreWeave = top.table("coreWeaveAuth", { $0.keyCount == 0 ? CoreWeaveAuth() : nil }),
              let path = top.table("pathBasedRouting", { $0.keyCount == 0 ? PathBasedRouting() : nil }),
              let apiType = single("bodyBasedRouting", "apiType"), let header = single("headerBasedRouting", "headerName"),
              let endpoint = top.table("endpointConfiguration", { e -> EndpointConfiguration? in
                  var fields = ExactFields(e)
                  guard let dns = fields.read(e.strings("additionalDns")),
                        let ranges = fields.read(e.strings("allowedSourceIpRanges")), fields.complete else { return nil }
                  return EndpointConfiguration(additionalDns: dns ?? [], allowedSourceIpRanges: ranges ?? [])
              }),
              let wandb = top.table("weightsAndBiasesAuth", { w -> WeightsAndBiasesAuth? in
                  var fields = ExactFields(w)
                  guard let key = fields.read(w.string("apiKey")), let url = fields.read(w.string("serverUrl")),
                        let usage = fields.read(w.bool("enableUsageReports")), let limits = fields.read(w.bool("enableRateLimiting")),
                        fields.complete else { return nil }
                  return WeightsAndBiasesAuth(apiKey: key, serverUrl: url, enableUsageReports: usage, enableRateLimiting: limits)
              }),
              top.complete else { return nil }
        return GatewaySpec(id: id, name: name, zones: zones ?? [], coreWeaveAuth: coreWeave, weightsAndBiasesAuth: wandb,
                           endpointConfiguration: endpoint, bodyBasedRouting: apiType.map { BodyBasedRouting(apiType: APIType(rawValue: $0)) },
                           headerBasedRouting: header.map { HeaderBasedRouting(headerName: $0) }, pathBasedRouting: path)
    }

    /// Pushes `spec` as a spec table (API field names, arrays marked, the spec metatable). Stack effect: +1.
    static func push(_ spec: GatewaySpec, in call: LuaCall) {
        call.pushTable(records: 6, metatable: specMetatable) { t in
            if let id = spec.id { t.set("id", id) }
            t.set("name", spec.name)
            t.set("zones", strings: spec.zones)
            if let org = spec.organizationId { t.set("organizationId", org) }
            if spec.coreWeaveAuth != nil { t.set("coreWeaveAuth") }
            if let w = spec.weightsAndBiasesAuth {
                t.set("weightsAndBiasesAuth", records: 4) { a in
                    if let v = w.apiKey { a.set("apiKey", v) }
                    if let v = w.serverUrl { a.set("serverUrl", v) }
                    if let v = w.enableUsageReports { a.set("enableUsageReports", v) }
                    if let v = w.enableRateLimiting { a.set("enableRateLimiting", v) }
                }
            }
            if let e = spec.endpointConfiguration {
                t.set("endpointConfiguration", records: 2) { c in
                    c.set("additionalDns", strings: e.additionalDns)
                    if !e.allowedSourceIpRanges.isEmpty { c.set("allowedSourceIpRanges", strings: e.allowedSourceIpRanges) }
                }
            }
            if let b = spec.bodyBasedRouting { t.set("bodyBasedRouting", records: 1) { $0.set("apiType", b.apiType.rawValue) } }
            if let h = spec.headerBasedRouting { t.set("headerBasedRouting", records: 1) { $0.set("headerName", h.headerName) } }
            if spec.pathBasedRouting != nil { t.set("pathBasedRouting") }
        }
    }

    /// gateway.validate(t [, {zones = …}]) -> ok, issues. Never raises for a bad spec.
    static func validate(_ call: LuaCall) throws -> Int32 {
        try call.checkAny(1)
        let context = context(try validateOptions.read(call, at: 2))
        let result = SpecValidator.validate(call.readJSON(1), context: context)
        call.push(result.isValid)
        call.push(issuesData(result.issues))
        return 2
    }

    /// gateway.to_json(s [, {pretty = true}]) -> the CreateGateway request body.
    static func toJSON(_ call: LuaCall) throws -> Int32 {
        try call.checkTable(1)
        let pretty = try toJSONOptions.read(call, at: 2).bool("pretty") ?? false
        var spec = try specArgument(call, 1)
        spec.organizationId = nil
        call.push(bytes: try WireJSON.encode(spec, pretty: pretty))
        return 1
    }

    /// The spec at `index`, validated; raises the validation error when it is invalid.
    static func specArgument(_ call: LuaCall, _ index: Int32) throws -> GatewaySpec {
        try call.checkTable(index)
        let result = SpecValidator.validate(call.readJSON(index))
        guard let spec = result.spec else { throw SpecValidationError(issues: result.issues) }
        return spec
    }

    static func issuesData(_ issues: [ValidationIssue]) -> LuaData {
        .list(issues.map { issue in
            .json(.object(["path": .string(issue.path), "message": .string(issue.message), "severity": .string(issue.severity.rawValue)]))
        })
    }

    // MARK: Readable text

    /// Lua-like text of a spec with every `apiKey` shown as `<redacted>`.
    static func describe(_ value: JSONValue) -> String {
        var out = "gateway.spec"
        render(value, into: &out, key: nil)
        return out
    }

    private static let order = ["id", "name", "zones", "coreWeaveAuth", "weightsAndBiasesAuth", "bodyBasedRouting",
                                "headerBasedRouting", "pathBasedRouting", "endpointConfiguration"]

    private static func render(_ value: JSONValue, into out: inout String, key: String?) {
        if key == "apiKey", value != .null {
            out += "\"<redacted>\""
            return
        }
        switch value {
        case .null: out += "nil"
        case .bool(let b): out += b ? "true" : "false"
        case .integer(let i): out += String(i)
        case .double(let d): out += String(d)
        case .string(let s): out += quote(s)
        case .unsupported(let t): out += "<\(t)>"
        case .array(let a):
            out += "{"
            for (i, v) in a.enumerated() {
                if i > 0 { out += ", " }
                render(v, into: &out, key: nil)
            }
            out += "}"
        case .object(let o):
            out += "{"
            let keys = o.keys.sorted { (order.firstIndex(of: $0) ?? 99, $0) < (order.firstIndex(of: $1) ?? 99, $1) }
            for (i, k) in keys.enumerated() {
                if i > 0 { out += ", " }
                out += "\(k) = "
                render(o[k] ?? .null, into: &out, key: k)
            }
            out += "}"
        }
    }

    static func quote(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 || u.value == 0x7F { out += "\\\(u.value)" } else { out.unicodeScalars.append(u) }
            }
        }
        return out + "\""
    }

    // MARK: Registration

    static let help = [
        LuaHelpEntry("gateway.new", "gateway.new(t [, {zones = {…}}]) -> spec",
                     "Validates a table in the API's shape (camelCase fields) and returns a spec table; raises a VALIDATION error listing every problem.",
                     example: #"gateway.new{name = "llm", zones = {"US-EAST-04A"}, coreWeaveAuth = {}, pathBasedRouting = {}}"#),
        LuaHelpEntry("gateway.validate", "gateway.validate(t [, {zones = {…}}]) -> ok, issues",
                     "Never raises for a bad spec: issues is a list of {path =, message =, severity = \"error\"|\"warning\"}.",
                     example: #"local ok, issues = gateway.validate{name = "x"}"#),
        LuaHelpEntry("gateway.to_json", "gateway.to_json(spec [, {pretty = true}]) -> string",
                     "The exact CreateGateway request body (sorted keys).", example: "print(gateway.to_json(s, {pretty = true}))"),
    ]

    /// The functions this area adds to `gateway`.
    static func register() -> [LuaFunction] {
        LuaHelp.add(help)
        return [LuaFunction("new", new), LuaFunction("validate", validate), LuaFunction("to_json", toJSON)]
    }
}

extension GatewaySpec {
    /// A spec table: the API's field names, the spec metatable.
    var luaData: LuaData { .pushed { SpecsAPI.push(self, in: $0) } }
}

/// The shared metatable of gateway error values: tostring gives `text` (or `message`).
let errorMetatable = LuaMetatable("gateway.error", tostring: { call in
    if case .string(let text) = call.field(1, "text") { return text }
    if case .string(let message) = call.field(1, "message") { return message }
    return "gateway.error"
})

/// The error `gateway.new` and `:build()` raise for an invalid spec: a table
/// `{code = "VALIDATION", message = …, issues = {…}}` whose tostring lists
/// every error, one per line, after the script position.
struct SpecValidationError: LuaErrorValue, CustomStringConvertible {
    let issues: [ValidationIssue]

    var errors: [ValidationIssue] { issues.filter { $0.severity == .error } }

    var description: String {
        let errors = self.errors
        let lines = errors.map { "  \($0.path.isEmpty ? "(spec)" : $0.path): \($0.message)" }
        return "invalid gateway spec (\(errors.count) error\(errors.count == 1 ? "" : "s")):\n" + lines.joined(separator: "\n")
    }

    func pushErrorValue(in call: LuaCall) {
        call.push(.table([("code", .string(APIError.Code.validation.rawValue)), ("message", .string(call.callerPosition + description)),
                          ("issues", SpecsAPI.issuesData(issues))], errorMetatable))
    }
}

/// A table's fields read for the fast path, counting those present, so the caller
/// can tell whether anything else is there. Each read answers `.some(nil)` when the
/// field is absent, `.some(value)` when it is as expected, and nil when it is not:
/// then the table is not in the expected shape.
struct ExactFields {
    let table: LuaTableView
    var present = 0

    init(_ table: LuaTableView) { self.table = table }

    mutating func read<T>(_ field: LuaField<T>) -> T?? {
        switch field {
        case .absent: return .some(nil)
        case .value(let v):
            present += 1
            return .some(v)
        case .other: return nil
        }
    }

    /// A nested table, read by `body`, which answers nil when it is not in shape.
    mutating func table<T>(_ key: StaticString, _ body: (LuaTableView) -> T?) -> T?? {
        switch table.table(key, body) {
        case .absent: return .some(nil)
        case .value(let v?):
            present += 1
            return .some(v)
        default: return nil
        }
    }

    /// Whether the table holds nothing but the fields read.
    var complete: Bool { table.keyCount == present }
}
