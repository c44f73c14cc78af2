import GatewayKit
import LuaHost

/// Spec tables: `gateway.new`, `gateway.validate`, `gateway.to_json`; the spec
/// table's metatable (a readable, redacted tostring) and the validation error.
enum SpecsAPI {
    static let specMetatable = LuaMetatable("gateway.spec", tostring: { call in describe(call.readJSON(1)) })

    static let newOptions = LuaOptions("gateway.new", [.strings("zones", "the zones to accept (from c:parameters())")])
    static let validateOptions = LuaOptions("gateway.validate", [.strings("zones", "the zones to accept")])
    static let toJSONOptions = LuaOptions("gateway.to_json", [.boolean("pretty", "indent the JSON")])

    /// Specs in Lua may be ones the API returned (`c:get(id).spec`), so its
    /// `organizationId` is accepted and left out, and the fields gwlua does not know
    /// that such a spec carries (noted on its table) are kept.
    static func context(_ options: LuaOptionValues, kept: Set<String> = []) -> ValidationContext {
        ValidationContext(zones: options.strings("zones"), acceptsAnswerFields: true, keptUnknownPaths: kept)
    }

    /// The note on a spec table read from the API: the paths of the fields gwlua does not know.
    static let keptNote = LuaTableNote("gateway.spec.kept")

    static func keptPaths(at index: Int32, in call: LuaCall) -> Set<String> { paths(keptNote.value(ofTableAt: index, in: call)) }

    /// The kept paths of each of the first `count` specs of the list at `index` (c:plan, c:apply).
    static func keptPaths(ofItemsAt index: Int32, count: Int, in call: LuaCall) -> [Set<String>] {
        keptNote.values(ofItemsOfListAt: index, count: count, in: call).map(paths)
    }

    private static func paths(_ note: JSONValue?) -> Set<String> {
        guard case .array(let items)? = note else { return [] }
        return Set(items.compactMap(\.stringValue))
    }

    /// gateway.new(t [, {zones = …}]) -> spec table, or raises the validation error.
    /// A valid table in the expected shape is copied and checked where it lies; any
    /// other (an unknown key, a wrong type, an invalid spec) goes the general way,
    /// through `readJSON` and document validation, whose issues name every path.
    static func new(_ call: LuaCall) throws -> Int32 {
        try call.checkTable(1)
        var context = context(try newOptions.read(call, at: 2))
        if pushCopy(ofSpecAt: 1, in: call, context: context) { return 1 }
        // Fields gwlua does not know send a table the general way: only there can the note matter.
        context.keptUnknownPaths = keptPaths(at: 1, in: call)
        let result = SpecValidator.validate(call.readJSON(1), context: context)
        guard let spec = result.spec else { throw SpecValidationError(issues: result.issues) }
        push(spec, in: call)
        return 1
    }

    /// Pushes a spec table copied from the table at `index` when that is a valid spec
    /// in the expected shape (stack effect +1); else pushes nothing and answers false.
    /// The copy keeps the table's own strings and the rules read their bytes: no
    /// Swift value is made of a valid spec.
    static func pushCopy(ofSpecAt index: Int32, in call: LuaCall, context: ValidationContext) -> Bool {
        let source = call.tableView(index)
        var capacity = 16  // list items, on the stack; a bigger spec tries again with room for all
        while true {
            let (copied, needed) = withUnsafeTemporaryAllocation(of: BorrowedSpec.Text.self, capacity: capacity) { room in
                var spec = BorrowedSpec(listStorage: room)
                let copied = call.pushTableCopy(records: 6) { out in
                    guard readSpec(source, into: &spec, copyingTo: out), spec.fits,
                          !SpecValidator.check(&spec, context: context).contains(where: { $0.severity == .error })
                    else { return false }
                    for zone in spec.respelledZones { out.setItem(of: "zones", at: zone.index + 1, to: zone.spelling) }
                    out.setMetatable(specMetatable)
                    return true
                }
                return (copied, spec.needed)
            }
            if copied || needed <= capacity { return copied }
            capacity = needed
        }
    }

    /// The keys of a spec table and of its records, as the fast path reads them.
    enum SpecKey: String, CaseIterable, Sendable {
        case id, name, zones, coreWeaveAuth, weightsAndBiasesAuth, endpointConfiguration
        case bodyBasedRouting, headerBasedRouting, pathBasedRouting
        /// Set by the API in its answers: read past (a string), never kept.
        case organizationId
    }
    enum EndpointKey: String, CaseIterable, Sendable { case additionalDns, allowedSourceIpRanges, edgeProxyMode }
    enum WandbKey: String, CaseIterable, Sendable { case apiKey, serverUrl, enableUsageReports, enableRateLimiting }
    enum BodyRoutingKey: String, CaseIterable, Sendable { case apiType }
    enum HeaderRoutingKey: String, CaseIterable, Sendable { case headerName }
    static let specKeys = LuaKeys<SpecKey>(), endpointKeys = LuaKeys<EndpointKey>(), wandbKeys = LuaKeys<WandbKey>()
    static let bodyRoutingKeys = LuaKeys<BodyRoutingKey>(), headerRoutingKeys = LuaKeys<HeaderRoutingKey>()

    /// Copies a record whose one field is the string `keys` declares (`{apiType = "…"}`)
    /// and returns that string; nil for any other shape, an empty record included.
    static func copyOneString<Key>(_ value: LuaFieldValue, _ keys: LuaKeys<Key>, to out: LuaTableCopy) -> BorrowedSpec.Text? {
        var text: BorrowedSpec.Text?
        let copied = out.copyTable(value, records: 1) { record, copy in
            record.readFields(keys) { _, v in
                text = v.text
                copy.copy(v)
                return text != nil
            }
        }
        return copied ? text : nil
    }

    /// Reads the spec a table holds into `spec`, copying it into `out` as it goes:
    /// true when it has a name, every field is of the expected type and nothing
    /// else is there; false sends the caller the general way. One pass over each table.
    static func readSpec(_ t: LuaTableView, into spec: inout BorrowedSpec, copyingTo out: LuaTableCopy) -> Bool {
        var named = false, zoned = false
        let read = t.readFields(specKeys) { key, value in
            switch key {
            case .id:
                spec.id = value.text
                guard spec.id != nil else { return false }
                out.copy(value)
            case .organizationId:
                return value.text != nil
            case .name:
                guard let name = value.text else { return false }
                spec.name = name
                named = true
                out.copy(value)
            case .zones:
                spec.start(.zones)
                guard out.copyStrings(value, { spec.append($0) }) else { return false }
                zoned = true
            case .coreWeaveAuth:
                guard out.copyTable(value, records: 0, { record, _ in record.isEmpty }) else { return false }
                spec.hasCoreWeaveAuth = true
            case .pathBasedRouting:
                guard out.copyTable(value, records: 0, { record, _ in record.isEmpty }) else { return false }
                spec.hasPathRouting = true
            case .bodyBasedRouting:
                spec.apiType = copyOneString(value, bodyRoutingKeys, to: out)
                return spec.apiType != nil
            case .headerBasedRouting:
                spec.headerName = copyOneString(value, headerRoutingKeys, to: out)
                return spec.headerName != nil
            case .endpointConfiguration:
                return out.copyTable(value, records: 3) { record, copy in
                    var listed = false
                    let read = record.readFields(endpointKeys) { key, v in
                        switch key {
                        case .additionalDns:
                            listed = true
                            spec.start(.additionalDns)
                            return copy.copyStrings(v) { spec.append($0) }
                        case .allowedSourceIpRanges:
                            spec.start(.allowedSourceIpRanges)
                            return copy.copyStrings(v) { spec.append($0) }
                        case .edgeProxyMode:
                            spec.edgeProxyMode = v.text
                            copy.copy(v)
                            return spec.edgeProxyMode != nil
                        }
                    }
                    if read && !listed { copy.setEmptyList("additionalDns") }
                    return read
                }
            case .weightsAndBiasesAuth:
                guard out.copyTable(value, records: 4, { record, copy in record.readFields(wandbKeys) { key, v in
                    switch key {
                    case .apiKey:
                        spec.wandbAPIKey = v.text
                        guard spec.wandbAPIKey != nil else { return false }
                    case .serverUrl:
                        spec.wandbServerURL = v.text
                        guard spec.wandbServerURL != nil else { return false }
                    case .enableUsageReports, .enableRateLimiting:
                        guard v.bool != nil else { return false }
                    }
                    copy.copy(v)
                    return true
                } }) else { return false }
                spec.hasWandbAuth = true
            }
            return true
        }
        if read && named && !zoned { out.setEmptyList("zones") }
        return read && named
    }

    /// Pushes `spec` as a spec table (API field names, arrays marked, the spec
    /// metatable), by the declaration; fields gwlua does not know go in as they came
    /// and are noted on the table, so they go back unchanged. Stack effect: +1.
    static func push(_ spec: GatewaySpec, in call: LuaCall) {
        call.push(LuaData.table(entries(spec.fields, GatewayShape.spec), specMetatable))
        let kept = spec.unknownFieldPaths
        if !kept.isEmpty { keptNote.set(.array(kept.map(JSONValue.string)), onTableAt: -1, in: call) }
    }

    /// A record's fields as Lua data: lists marked, records as tables, in declared order.
    static func entries(_ fields: [String: JSONValue], _ record: ShapeRecord) -> [(String, LuaData)] {
        func rank(_ key: String) -> Int { record.fields.firstIndex { $0.name == key } ?? record.fields.count }
        return fields.sorted { (rank($0.key), $0.key) < (rank($1.key), $1.key) }.map { key, value in
            if let sub = record.field(key)?.record, case .object(let o) = value { return (key, .table(entries(o, sub))) }
            return (key, .json(value))
        }
    }

    /// gateway.validate(t [, {zones = …}]) -> ok, issues. Never raises for a bad spec.
    static func validate(_ call: LuaCall) throws -> Int32 {
        try call.checkAny(1)
        let context = context(try validateOptions.read(call, at: 2), kept: keptPaths(at: 1, in: call))
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
        let context = ValidationContext(acceptsAnswerFields: true, keptUnknownPaths: keptPaths(at: index, in: call))
        let result = SpecValidator.validate(call.readJSON(index), context: context)
        guard let spec = result.spec else { throw SpecValidationError(issues: result.issues) }
        return spec
    }

    static func issuesData(_ issues: [ValidationIssue]) -> LuaData {
        .list(issues.map { issue in
            .json(.object(["path": .string(issue.path), "message": .string(issue.message), "severity": .string(issue.severity.rawValue)]))
        })
    }

    // MARK: Readable text

    /// Lua-like text of a spec with every `apiKey` shown as `<redacted>`; `name`
    /// leads it, and top-level keys come in `order`.
    static func describe(_ value: JSONValue, name: String = "gateway.spec", order: [String] = gatewayOrder) -> String {
        var out = name
        render(value, into: &out, key: nil, order: order)
        return out
    }

    static let gatewayOrder = GatewayShape.spec.fields.map(\.name)

    private static func render(_ value: JSONValue, into out: inout String, key: String?, order: [String]) {
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
                render(v, into: &out, key: nil, order: order)
            }
            out += "}"
        case .object(let o):
            out += "{"
            let keys = o.keys.sorted { (order.firstIndex(of: $0) ?? 99, $0) < (order.firstIndex(of: $1) ?? 99, $1) }
            for (i, k) in keys.enumerated() {
                if i > 0 { out += ", " }
                let identifier = k.first.map { $0 == "_" || $0.isLetter } == true && k.allSatisfy { $0.isASCII && ($0 == "_" || $0.isLetter || $0.isNumber) }
                out += identifier ? "\(k) = " : "[\(quote(k))] = "
                render(o[k] ?? .null, into: &out, key: k, order: order)
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

    /// `.help gateway.spec`: every declared field, its type and what it is.
    /// A field's type as help shows it.
    static func typeText(_ field: ShapeField) -> String {
            switch field.kind {
            case .string: return "string"
            case .boolean: return "boolean"
            case .enumeration(let e): return e.sendable.joined(separator: "|")
            case .strings: return "{string, …}"
            case .marker: return "{}"
            case .record: return "table"
            case .integer: return "integer"
            case .stringMap: return "{[string] = string}"
            case .enumerations(let e): return "{" + e.sendable.joined(separator: "|") + ", …}"
            }
    }

    static let fieldsHelp: LuaHelpEntry = {
        let lines = GatewayShape.paths().filter { $0.field.access != .answerOnly }.map { path, field in
            "    \(path)\(field.required ? "" : "?"): \(typeText(field)). \(field.doc)"
        }
        return LuaHelpEntry("gateway.spec", "a spec table's fields (the API's names; ? marks optional ones)",
                            "Exactly one auth and one routing.\n" + lines.joined(separator: "\n"),
                            example: #"gateway.new{name = "llm", zones = {"US-EAST-04A"}, coreWeaveAuth = {}, pathBasedRouting = {}}"#)
    }()

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
    /// What the spec is of: "gateway", "deployment", "capacity claim".
    var noun = "gateway"

    var errors: [ValidationIssue] { issues.filter { $0.severity == .error } }

    var description: String {
        let errors = self.errors
        let lines = errors.map { "  \($0.path.isEmpty ? "(spec)" : $0.path): \($0.message)" }
        return "invalid \(noun) spec (\(errors.count) error\(errors.count == 1 ? "" : "s")):\n" + lines.joined(separator: "\n")
    }

    func pushErrorValue(in call: LuaCall) {
        call.push(.table([("code", .string(APIError.Code.validation.rawValue)), ("message", .string(call.callerPosition + description)),
                          ("issues", SpecsAPI.issuesData(issues))], errorMetatable))
    }
}
