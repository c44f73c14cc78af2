import CLua
import GatewayKit
import LuaHost

/// Lua tables <-> GatewayKit values, read raw from the stack (no metamethods).
enum LuaSpecs {
    static let specClassName = "gateway.spec"
    static let maxDepth = 32

    /// The value at `index` as an untyped document for validation.
    static func document(at index: Int32, in L: OpaquePointer) -> JSONValue {
        var visiting: [UnsafeRawPointer] = []
        return document(at: lua_absindex(L, index), in: L, depth: 0, visiting: &visiting)
    }

    private static func document(at index: Int32, in L: OpaquePointer, depth: Int,
                                 visiting: inout [UnsafeRawPointer]) -> JSONValue {
        switch lua_type(L, index) {
        case LUA_TNIL, LUA_TNONE: return .null
        case LUA_TBOOLEAN: return .bool(lua_toboolean(L, index) != 0)
        case LUA_TNUMBER:
            return lua_isinteger(L, index) != 0 ? .integer(lua_tointegerx(L, index, nil)) : .double(lua_tonumberx(L, index, nil))
        case LUA_TSTRING: return .string(LuaCall.string(at: index, in: L))
        case LUA_TTABLE:
            // The path from the root is short (capped): a list beats a set here.
            guard depth < maxDepth, lua_checkstack(L, 3) != 0, let identity = lua_topointer(L, index),
                  !visiting.contains(identity) else {
                return .unsupported("table that contains itself (or nests too deeply)")
            }
            visiting.append(identity)
            defer { visiting.removeLast() }
            // Sized for a spec's top level (up to 9 fields) and its small nested tables.
            var object = [String: JSONValue](minimumCapacity: depth == 0 ? 10 : 2)
            var array: [JSONValue] = []
            var integerKeys = 0
            var other = false
            lua_pushnil(L)
            while lua_next(L, index) != 0 {
                let top = lua_gettop(L)
                if lua_type(L, top - 1) == LUA_TSTRING {
                    object[LuaCall.string(at: top - 1, in: L)] = document(at: top, in: L, depth: depth + 1, visiting: &visiting)
                } else if lua_isinteger(L, top - 1) != 0 {
                    integerKeys += 1
                } else {
                    other = true
                }
                gwlua_pop(L, 1)
            }
            if integerKeys > 0 {
                let n = Int(lua_rawlen(L, index))
                if n == integerKeys && object.isEmpty && !other {
                    array.reserveCapacity(n)
                    for i in 1...n {
                        lua_rawgeti(L, index, lua_Integer(i))
                        array.append(document(at: lua_gettop(L), in: L, depth: depth + 1, visiting: &visiting))
                        gwlua_pop(L, 1)
                    }
                    return .array(array)
                }
                return .unsupported(object.isEmpty ? "sparse list" : "table mixing list items and fields")
            }
            if other { return .unsupported("table with non-string keys") }
            return .object(object)
        case LUA_TUSERDATA where JSONModule.isNull(L, index):
            return .null
        default:
            return .unsupported(LuaCall(state: L).typeName(at: index))
        }
    }

    // MARK: Swift -> Lua

    /// Pushes `spec` as a spec table (API field names, the spec metatable).
    static func push(_ spec: GatewaySpec, in call: LuaCall) {
        let L = call.L
        lua_createtable(L, 0, 6)
        if let id = spec.id { setField(L, "id", id) }
        setField(L, "name", spec.name)
        pushStrings(spec.zones, L)
        lua_setfield(L, -2, "zones")
        if let org = spec.organizationId { setField(L, "organizationId", org) }
        if spec.coreWeaveAuth != nil {
            lua_createtable(L, 0, 0)
            lua_setfield(L, -2, "coreWeaveAuth")
        }
        if let w = spec.weightsAndBiasesAuth {
            lua_createtable(L, 0, 4)
            if let k = w.apiKey { setField(L, "apiKey", k) }
            if let u = w.serverUrl { setField(L, "serverUrl", u) }
            if let b = w.enableUsageReports { lua_pushboolean(L, b ? 1 : 0); lua_setfield(L, -2, "enableUsageReports") }
            if let b = w.enableRateLimiting { lua_pushboolean(L, b ? 1 : 0); lua_setfield(L, -2, "enableRateLimiting") }
            lua_setfield(L, -2, "weightsAndBiasesAuth")
        }
        if let e = spec.endpointConfiguration {
            lua_createtable(L, 0, 2)
            pushStrings(e.additionalDns, L)
            lua_setfield(L, -2, "additionalDns")
            if !e.allowedSourceIpRanges.isEmpty {
                pushStrings(e.allowedSourceIpRanges, L)
                lua_setfield(L, -2, "allowedSourceIpRanges")
            }
            lua_setfield(L, -2, "endpointConfiguration")
        }
        if let b = spec.bodyBasedRouting {
            lua_createtable(L, 0, 1)
            setField(L, "apiType", b.apiType.rawValue)
            lua_setfield(L, -2, "bodyBasedRouting")
        }
        if let h = spec.headerBasedRouting {
            lua_createtable(L, 0, 1)
            setField(L, "headerName", h.headerName)
            lua_setfield(L, -2, "headerBasedRouting")
        }
        if spec.pathBasedRouting != nil {
            lua_createtable(L, 0, 0)
            lua_setfield(L, -2, "pathBasedRouting")
        }
        setSpecMetatable(L)
    }

    static func setField(_ L: OpaquePointer, _ key: String, _ value: String) {
        LuaCall(state: L).push(value)
        lua_setfield(L, -2, key)
    }

    /// A list of strings, marked as a JSON array so `{}` stays `[]`.
    static func pushStrings(_ items: [String], _ L: OpaquePointer) {
        lua_createtable(L, Int32(items.count), 0)
        for (i, s) in items.enumerated() {
            LuaCall(state: L).push(s)
            lua_rawseti(L, -2, lua_Integer(i + 1))
        }
        JSONModule.pushArrayMarker(L)
        lua_setmetatable(L, -2)
    }

    static func setSpecMetatable(_ L: OpaquePointer) {
        if luaL_newmetatable(L, specClassName) != 0 {
            LuaCall(state: L).push(LuaFunction("__tostring") { call in
                call.push(describe(document(at: 1, in: call.L)))
                return 1
            })
            lua_setfield(L, -2, "__tostring")
        }
        lua_setmetatable(L, -2)
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

    // MARK: Issues

    static func pushIssues(_ issues: [ValidationIssue], in call: LuaCall) {
        let L = call.L
        lua_createtable(L, Int32(issues.count), 0)
        for (i, issue) in issues.enumerated() {
            lua_createtable(L, 0, 3)
            setField(L, "path", issue.path)
            setField(L, "message", issue.message)
            setField(L, "severity", issue.severity.rawValue)
            lua_rawseti(L, -2, lua_Integer(i + 1))
        }
    }
}

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
        let L = call.L
        let position = call.callerPosition
        lua_createtable(L, 0, 4)
        LuaSpecs.setField(L, "code", "VALIDATION")
        LuaSpecs.setField(L, "message", position + description)
        LuaSpecs.pushIssues(issues, in: call)
        lua_setfield(L, -2, "issues")
        LuaErrorMetatable.set(L)
    }
}
