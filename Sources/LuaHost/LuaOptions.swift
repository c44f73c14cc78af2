import CLua

/// An options table's shape, declared once per function (WezTerm's option structs
/// are the model): each option's name and type, and for numbers their range. Every
/// options table in the Lua API is read through one of these, so an unknown key, a
/// wrong type or an out-of-range value is an error in one wording everywhere,
/// at the caller's line:
///
///     bad option 'timeout' to 'gateway.client' (number expected, got string)
///     unknown option 'bogus' to 'c:wait' (known: interval, on_status, timeout)
///
///     static let waitOptions = LuaOptions("c:wait", [.number("timeout", in: 0...86_400), .function("on_status")])
public struct LuaOptions: Sendable {
    public enum Kind: Sendable {
        case number(ClosedRange<Double>?)
        /// A whole number (a float with an integer value counts, as in Lua).
        case integer(ClosedRange<Int64>)
        case boolean
        case string
        case function
        /// A list of strings.
        case strings
        /// true, false, or a list of strings.
        case flagOrStrings
        /// A table of strings under these keys (each may be absent).
        case stringRecord([String])
        /// A string, or false (to turn off what the option would set).
        case stringOrFalse
        /// Any table, read as JSON (a parameters answer handed back).
        case table
    }

    public struct Option: Sendable {
        public let name: String
        public let kind: Kind
        public let help: String
    }

    public let function: String
    public let options: [Option]

    public init(_ function: String, _ options: [Option]) {
        self.function = function
        self.options = options
    }

    /// The option names, sorted (for messages and help).
    public var names: [String] { options.map(\.name).sorted() }

    /// Reads the options table at `index` (absent or nil: every option absent). Stack effect: 0.
    public func read(_ call: LuaCall, at index: Int32) throws -> LuaOptionValues {
        guard call.count >= index, call.type(at: index) != .nil else { return LuaOptionValues(values: [:], table: nil) }
        try call.checkTable(index)
        let L = call.L
        let table = lua_absindex(L, index)
        // Unknown keys first, so a misspelling is reported as such, not as its absence.
        lua_pushnil(L)
        while lua_next(L, table) != 0 {
            gwlua_pop(L, 1)
            let key = lua_type(L, -1) == LUA_TSTRING ? LuaCall.string(at: -1, in: L) : nil
            if key == nil || !options.contains(where: { $0.name == key }) {
                let shown = key.map { "'\($0)'" } ?? "a \(call.typeName(at: -1)) key"
                gwlua_pop(L, 1)
                throw LuaError.runtime("unknown option \(shown) to '\(function)' (known: \(names.joined(separator: ", ")))")
            }
        }
        var values: [String: JSONValue] = [:]
        for option in options {
            call.pushRawField(table, option.name)
            defer { gwlua_pop(L, 1) }
            let type = lua_type(L, -1)
            if type == LUA_TNIL { continue }
            func bad(_ expected: String) -> LuaError {
                .runtime("bad option '\(option.name)' to '\(function)' (\(expected) expected, got \(call.typeName(at: -1)))")
            }
            switch option.kind {
            case .number(let range):
                guard type == LUA_TNUMBER else { throw bad("number") }
                let n = lua_tonumberx(L, -1, nil)
                if let range, !range.contains(n) || n.isNaN {
                    throw LuaError.runtime("bad option '\(option.name)' to '\(function)' (a number from \(Self.text(range.lowerBound)) to \(Self.text(range.upperBound)) expected, got \(Self.text(n)))")
                }
                values[option.name] = .double(n)
            case .integer(let range):
                guard type == LUA_TNUMBER else { throw bad("number") }
                var exact: Int32 = 0
                let n = lua_tointegerx(L, -1, &exact)
                guard exact != 0, range.contains(n) else {
                    throw LuaError.runtime("bad option '\(option.name)' to '\(function)' (a whole number from \(range.lowerBound) to \(range.upperBound) expected, got \(Self.text(lua_tonumberx(L, -1, nil))))")
                }
                values[option.name] = .integer(n)
            case .boolean:
                guard type == LUA_TBOOLEAN else { throw bad("boolean") }
                values[option.name] = .bool(lua_toboolean(L, -1) != 0)
            case .string:
                guard type == LUA_TSTRING else { throw bad("string") }
                values[option.name] = .string(LuaCall.string(at: -1, in: L))
            case .stringOrFalse:
                if type == LUA_TBOOLEAN, lua_toboolean(L, -1) == 0 {
                    values[option.name] = .bool(false)
                    continue
                }
                guard type == LUA_TSTRING else { throw bad("string or false") }
                values[option.name] = .string(LuaCall.string(at: -1, in: L))
            case .function:
                guard type == LUA_TFUNCTION else { throw bad("function") }
                values[option.name] = .bool(true)  // called through `LuaOptionValues.call`
            case .table:
                guard type == LUA_TTABLE else { throw bad("table") }
                values[option.name] = call.readJSON(-1)
            case .stringRecord(let keys):
                let expected = "a table of strings (\(keys.joined(separator: ", ")))"
                guard type == LUA_TTABLE else { throw bad(expected) }
                guard case .object(let fields) = call.readJSON(-1),
                      fields.allSatisfy({ keys.contains($0.key) && { if case .string = $0 { return true } else { return false } }($0.value) })
                else { throw LuaError.runtime("bad option '\(option.name)' to '\(function)' (\(expected) expected, got a table of other things)") }
                values[option.name] = .object(fields)
            case .strings, .flagOrStrings:
                if case .flagOrStrings = option.kind, type == LUA_TBOOLEAN {
                    values[option.name] = .bool(lua_toboolean(L, -1) != 0)
                    continue
                }
                let expected = { if case .flagOrStrings = option.kind { return "true, false or a list of strings" } else { return "a list of strings" } }()
                guard type == LUA_TTABLE else { throw bad(expected) }
                switch call.readJSON(-1) {
                case .array(let items) where items.allSatisfy({ if case .string = $0 { return true } else { return false } }):
                    values[option.name] = .array(items)
                case .object(let o) where o.isEmpty:
                    values[option.name] = .array([])
                default:
                    throw LuaError.runtime("bad option '\(option.name)' to '\(function)' (\(expected) expected, got a table of other things)")
                }
            }
        }
        return LuaOptionValues(values: values, table: table)
    }

    static func text(_ n: Double) -> String { n == n.rounded() && abs(n) < 1e15 ? String(Int64(n)) : String(n) }
}

/// An options table as read: typed getters for what was given.
public struct LuaOptionValues {
    let values: [String: JSONValue]
    /// The options table's stack index (for function options).
    let table: Int32?

    public func number(_ name: String) -> Double? {
        if case .double(let n)? = values[name] { return n }
        return nil
    }
    public func integer(_ name: String) -> Int64? {
        if case .integer(let n)? = values[name] { return n }
        return nil
    }
    public func bool(_ name: String) -> Bool? {
        if case .bool(let b)? = values[name] { return b }
        return nil
    }
    public func string(_ name: String) -> String? {
        if case .string(let s)? = values[name] { return s }
        return nil
    }
    public func strings(_ name: String) -> [String]? {
        guard case .array(let items)? = values[name] else { return nil }
        return items.compactMap { if case .string(let s) = $0 { return s } else { return nil } }
    }
    public func record(_ name: String) -> [String: String]? {
        guard case .object(let fields)? = values[name] else { return nil }
        return fields.compactMapValues { if case .string(let s) = $0 { return s } else { return nil } }
    }
    public func has(_ name: String) -> Bool { values[name] != nil }
    /// A `.table` option as JSON.
    public func json(_ name: String) -> JSONValue? { values[name] }

    /// Calls the function option `name` with what `arguments` pushes. Stack effect: 0.
    public func call(_ name: String, in call: LuaCall, arguments: () throws -> Int32) throws {
        guard let table, values[name] != nil else { return }
        call.pushRawField(table, name)
        defer { gwlua_pop(call.L, 1) }
        try call.callFunction(at: -1, arguments: arguments)
    }
}

extension LuaOptions.Option {
    public static func number(_ name: String, in range: ClosedRange<Double>? = nil, _ help: String = "") -> LuaOptions.Option {
        LuaOptions.Option(name: name, kind: LuaOptions.Kind.number(range), help: help)
    }
    public static func integer(_ name: String, in range: ClosedRange<Int64>, _ help: String = "") -> LuaOptions.Option {
        LuaOptions.Option(name: name, kind: LuaOptions.Kind.integer(range), help: help)
    }
    public static func boolean(_ name: String, _ help: String = "") -> LuaOptions.Option { LuaOptions.Option(name: name, kind: LuaOptions.Kind.boolean, help: help) }
    public static func string(_ name: String, _ help: String = "") -> LuaOptions.Option { LuaOptions.Option(name: name, kind: LuaOptions.Kind.string, help: help) }
    public static func stringOrFalse(_ name: String, _ help: String = "") -> LuaOptions.Option {
        LuaOptions.Option(name: name, kind: LuaOptions.Kind.stringOrFalse, help: help)
    }
    public static func function(_ name: String, _ help: String = "") -> LuaOptions.Option { LuaOptions.Option(name: name, kind: LuaOptions.Kind.function, help: help) }
    public static func strings(_ name: String, _ help: String = "") -> LuaOptions.Option { LuaOptions.Option(name: name, kind: LuaOptions.Kind.strings, help: help) }
    public static func stringRecord(_ name: String, keys: [String], _ help: String = "") -> LuaOptions.Option {
        LuaOptions.Option(name: name, kind: LuaOptions.Kind.stringRecord(keys), help: help)
    }
    public static func flagOrStrings(_ name: String, _ help: String = "") -> LuaOptions.Option {
        LuaOptions.Option(name: name, kind: LuaOptions.Kind.flagOrStrings, help: help)
    }
    public static func table(_ name: String, _ help: String = "") -> LuaOptions.Option { LuaOptions.Option(name: name, kind: LuaOptions.Kind.table, help: help) }
}
