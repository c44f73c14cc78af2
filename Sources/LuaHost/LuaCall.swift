import CLua

/// Lua's type tags, as Swift sees them.
public enum LuaType: Int32, Sendable {
    case none = -1, `nil` = 0, boolean, lightUserdata, number, string, table, function, userdata, thread

    public var name: String {
        switch self {
        case .none: return "no value"
        case .nil: return "nil"
        case .boolean: return "boolean"
        case .lightUserdata, .userdata: return "userdata"
        case .number: return "number"
        case .string: return "string"
        case .table: return "table"
        case .function: return "function"
        case .thread: return "thread"
        }
    }
}

/// The view a bound Swift function has of its call: argument readers that throw
/// lua-style messages, and result pushers. Valid only during the call.
public struct LuaCall {
    public let L: OpaquePointer
    let function: Unmanaged<LuaFunctionBox>?

    init(_ L: OpaquePointer, function: Unmanaged<LuaFunctionBox>?) {
        self.L = L
        self.function = function
    }

    /// A view of `L` outside any bound function (tests, host code).
    public init(state L: OpaquePointer) {
        self.L = L
        self.function = nil
    }

    /// Number of arguments.
    @inlinable public var count: Int32 { lua_gettop(L) }

    public func type(at index: Int32) -> LuaType {
        LuaType(rawValue: lua_type(L, index)) ?? .none
    }

    // MARK: Argument readers

    public func number(_ i: Int32) throws -> Double {
        var ok: Int32 = 0
        let v = gwlua_tonumber(L, i, &ok)
        if ok == 0 { throw typeError(i, expected: "number") }
        return v
    }

    public func integer(_ i: Int32) throws -> Int64 {
        var ok: Int32 = 0
        let v = gwlua_tointeger(L, i, &ok)
        if ok == 0 {
            if lua_isnumber(L, i) != 0 {
                throw argumentError(i, "number has no integer representation")
            }
            throw typeError(i, expected: "number")
        }
        return v
    }

    public func boolean(_ i: Int32) -> Bool { lua_toboolean(L, i) != 0 }

    /// A string argument (numbers are not coerced: a spec field must be text).
    public func string(_ i: Int32) throws -> String {
        guard lua_type(L, i) == LUA_TSTRING else { throw typeError(i, expected: "string") }
        return LuaCall.string(at: i, in: L)
    }

    public func bytes(_ i: Int32) throws -> [UInt8] {
        guard lua_type(L, i) == LUA_TSTRING else { throw typeError(i, expected: "string") }
        var len = 0
        guard let p = gwlua_tolstring(L, i, &len) else { return [] }
        return Array(UnsafeRawBufferPointer(start: p, count: len).bindMemory(to: UInt8.self))
    }

    public func optionalString(_ i: Int32) throws -> String? {
        gwlua_isnoneornil(L, i) != 0 ? nil : try string(i)
    }

    public func optionalInteger(_ i: Int32) throws -> Int64? {
        gwlua_isnoneornil(L, i) != 0 ? nil : try integer(i)
    }

    public func optionalNumber(_ i: Int32) throws -> Double? {
        gwlua_isnoneornil(L, i) != 0 ? nil : try number(i)
    }

    /// Requires a table at `i`.
    public func checkTable(_ i: Int32) throws {
        if lua_type(L, i) != LUA_TTABLE { throw typeError(i, expected: "table") }
    }

    /// Requires a string at `i` (a number is not one), without reading it into Swift.
    public func checkString(_ i: Int32) throws {
        if lua_type(L, i) != LUA_TSTRING { throw typeError(i, expected: "string") }
    }

    /// Requires a string or nothing (none or nil) at `i`, without reading it into
    /// Swift: whether a string is there.
    public func checkOptionalString(_ i: Int32) throws -> Bool {
        if gwlua_isnoneornil(L, i) != 0 { return false }
        try checkString(i)
        return true
    }

    /// Requires any value (not none) at `i`.
    public func checkAny(_ i: Int32) throws {
        if lua_type(L, i) == LUA_TNONE { throw argumentError(i, "value expected") }
    }

    /// Pops `n` values (what `pushRawField` pushed, once read). Stack effect: -n.
    public func pop(_ n: Int32) { gwlua_pop(L, n) }

    /// Pushes `table[name]` for the table at `index`, read raw: an options table's
    /// metatable must not run from a Swift frame. Returns the value's type.
    @discardableResult
    public func pushRawField(_ index: Int32, _ name: String) -> Int32 {
        let table = lua_absindex(L, index)
        push(name)
        return lua_rawget(L, table)
    }

    /// Converts the argument at `i` to a Swift value.
    public func value(_ i: Int32, options: LuaConversionOptions = .init()) throws -> LuaValue {
        try LuaValue.read(at: i, in: L, options: options)
    }

    /// The string at `i` (bytes as they are; non-UTF-8 replaced). No coercion.
    public static func string(at i: Int32, in L: OpaquePointer) -> String {
        var len = 0
        guard let p = gwlua_tolstring(L, i, &len) else { return "" }
        // Copied straight into the String's storage (which checks the UTF-8, repairing
        // what is invalid): the generic String(decoding:) paid a runtime cast per string.
        return String(unsafeUninitializedCapacity: len) { buffer in
            _ = buffer.initialize(from: UnsafeRawBufferPointer(start: p, count: len))
            return len
        }
    }

    // MARK: Pushers

    @inlinable public func push(_ v: Double) { lua_pushnumber(L, v) }
    @inlinable public func push(_ v: Int64) { lua_pushinteger(L, v) }
    @inlinable public func push(_ v: Int) { lua_pushinteger(L, lua_Integer(v)) }
    @inlinable public func push(_ v: Bool) { lua_pushboolean(L, v ? 1 : 0) }
    @inlinable public func pushNil() { lua_pushnil(L) }

    public func push(_ s: String) {
        var s = s
        s.withUTF8 { buf in
            _ = buf.withMemoryRebound(to: CChar.self) { lua_pushlstring(L, $0.baseAddress, $0.count) }
        }
    }

    public func push(bytes: some Collection<UInt8>) {
        let done: Void? = bytes.withContiguousStorageIfAvailable { buf in
            _ = buf.withMemoryRebound(to: CChar.self) { lua_pushlstring(L, $0.baseAddress, $0.count) }
        }
        if done == nil { push(bytes: Array(bytes)) }
    }

    public func push(_ v: LuaValue) throws { try v.push(onto: L) }

    public func push(_ f: LuaFunction) { f.push(onto: L) }

    /// Makes sure `n` more stack slots are available.
    public func reserve(_ n: Int32) throws {
        if lua_checkstack(L, n) == 0 { throw LuaError.runtime("stack overflow (cannot grow the Lua stack)") }
    }

    // MARK: Errors, in lauxlib's words

    /// The type name lauxlib would use, honouring a metatable's `__name`.
    public func typeName(at i: Int32) -> String {
        if lua_getmetatable(L, i) != 0 {
            defer { gwlua_pop(L, 2) }
            lua_pushstring(L, "__name")
            if lua_rawget(L, -2) == LUA_TSTRING { return LuaCall.string(at: -1, in: L) }
        }
        return type(at: i).name
    }

    /// "bad argument #i to 'f' (message)", adjusted for method calls as
    /// luaL_argerror does.
    public func argumentError(_ i: Int32, _ message: String) -> LuaError {
        var ar = lua_Debug()
        var position = i
        var name: String?
        if lua_getstack(L, 0, &ar) != 0, lua_getinfo(L, "n", &ar) != 0 {
            if let w = ar.namewhat, String(cString: w) == "method" {
                position -= 1
                if position == 0, let n = ar.name {
                    return .runtime("calling '\(String(cString: n))' on bad self (\(message))")
                }
            }
            if let n = ar.name { name = String(cString: n) }
        }
        let fname = name ?? function?._withUnsafeGuaranteedRef { $0.name } ?? "?"
        return .runtime("bad argument #\(position) to '\(fname)' (\(message))")
    }

    public func typeError(_ i: Int32, expected: String) -> LuaError {
        let actual = lua_type(L, i) == LUA_TLIGHTUSERDATA ? "light userdata" : typeName(at: i)
        return argumentError(i, "\(expected) expected, got \(actual)")
    }

    /// "chunk:line: " of the Lua code that called this function ("" when that
    /// is not Lua code), as luaL_error prefixes messages.
    public var callerPosition: String {
        luaL_where(L, 1)
        defer { gwlua_pop(L, 1) }
        return LuaCall.string(at: -1, in: L)
    }

    /// Pushes the Lua value for `error`: a structured value as is, anything else
    /// as a message positioned at the calling Lua line.
    func pushError(_ error: Error) {
        switch error {
        case let e as LuaErrorValue:
            e.pushErrorValue(in: self)
        case LuaError.message(let m), LuaError.script(let m, _):
            push(m)
        default:
            push(callerPosition + String(describing: error))
        }
    }
}
