import CLua

/// The one converter between Lua values and the JSON-like values bindings deal in
/// (Neovim's converter.c is the model): `readJSON` (Lua -> Swift) and `push(_:)`
/// for `JSONValue` and `LuaData` (Swift -> Lua), with json.encode's writer and
/// json.decode's builder beside them in JSONModule. Every walk over a Lua table
/// reads raw (no metamethod runs from a Swift frame), detects cycles and stops at
/// `maxDepth`; arrays pushed to Lua are always marked, so `[]` stays `[]`.
public enum LuaConverter {
    /// One nesting cap for every conversion of Lua tables (json.encode, specs, options, values).
    public static let maxDepth = 128
}

/// What a binding pushes: JSON-like data, and tables that carry a metatable (spec
/// tables, plans, error values). Each binding result is declared as one of these.
public indirect enum LuaData {
    case json(JSONValue)
    /// A JSON object or array with a metatable.
    case tagged(JSONValue, LuaMetatable)
    /// A table of fields, some of which may be tagged themselves.
    case table([(String, LuaData)], LuaMetatable? = nil)
    case list([LuaData])
    case function(LuaFunction)
    /// Pushed by the closure (exactly one value): a result built with `pushTable`.
    case pushed((LuaCall) -> Void)

    public static func string(_ s: String) -> LuaData { .json(.string(s)) }
}

/// Metatables registered under a pointer key (a `LuaMetatable`'s or a `LuaClass`'s
/// address, json.array's marker), so they are found without hashing a name.
@usableFromInline enum LuaRegistryKey {
    /// Whether the value at `index` has the metatable registered under `key`. Stack effect: 0.
    @inlinable static func hasMetatable(at index: Int32, in L: OpaquePointer, key: UnsafeRawPointer) -> Bool {
        guard lua_getmetatable(L, index) != 0 else { return false }
        lua_rawgetp(L, gwlua_registryindex(), key)
        defer { gwlua_pop(L, 2) }
        return lua_rawequal(L, -1, -2) != 0
    }
}

/// A metatable for plain tables, declared once per kind: `__name`, methods reached
/// through `__index`, and `__tostring`. Built in each state on first use.
public final class LuaMetatable: @unchecked Sendable {
    // Immutable after init; the functions run on a state's thread only.
    public let name: String
    let methods: [LuaFunction]
    let tostring: LuaFunction?
    /// The field whose string the REPL's printer shows for such a table instead of
    /// its fields (a plan shows its listing), kept as `__display` in the metatable.
    let display: String?

    /// `tostring` gets the call with the table at index 1.
    public init(_ name: String, methods: [LuaFunction] = [], display: String? = nil,
                tostring: ((LuaCall) throws -> String)? = nil) {
        self.name = name
        self.methods = methods
        self.display = display
        self.tostring = tostring.map { body in
            LuaFunction("__tostring") { call in
                call.push(try body(call))
                return 1
            }
        }
    }

    /// Sets this metatable on the table on top. Stack effect: 0. Found again by this
    /// object's address (a pointer key), not its name: no string is hashed per table.
    @usableFromInline func set(on L: OpaquePointer) {
        let key = UnsafeRawPointer(Unmanaged.passUnretained(self).toOpaque())
        if lua_rawgetp(L, gwlua_registryindex(), key) == LUA_TTABLE {
            lua_setmetatable(L, -2)
            return
        }
        gwlua_pop(L, 1)
        if luaL_newmetatable(L, name) != 0 {
            let call = LuaCall(state: L)
            if !methods.isEmpty {
                LuaState.pushFunctionTable(methods, in: call)
                lua_setfield(L, -2, "__index")
            }
            if let tostring {
                call.push(tostring)
                lua_setfield(L, -2, "__tostring")
            }
            if let display {
                call.push(display)
                lua_setfield(L, -2, PrettyPrinter.displayKey)
            }
        }
        lua_pushvalue(L, -1)
        lua_rawsetp(L, gwlua_registryindex(), key)
        lua_setmetatable(L, -2)
    }
}

extension LuaCall {
    // MARK: Lua -> Swift

    /// The value at `index` as JSON, read raw. Stack effect: 0.
    /// nil and `json.null` read as null; a table with keys 1...n as an array (an
    /// empty one marked by `json.array` too), one with string keys as an object, an
    /// empty unmarked one as an empty object. What JSON cannot hold (functions,
    /// userdata, cycles, nesting past `LuaConverter.maxDepth`, sparse or mixed
    /// tables) reads as `.unsupported` with a description, for the caller to report.
    public func readJSON(_ index: Int32) -> JSONValue {
        var visiting: [UnsafeRawPointer] = []
        return readJSON(lua_absindex(L, index), depth: 0, visiting: &visiting)
    }

    private func readJSON(_ index: Int32, depth: Int, visiting: inout [UnsafeRawPointer]) -> JSONValue {
        switch lua_type(L, index) {
        case LUA_TNIL, LUA_TNONE: return .null
        case LUA_TBOOLEAN: return .bool(lua_toboolean(L, index) != 0)
        case LUA_TNUMBER:
            return lua_isinteger(L, index) != 0 ? .integer(lua_tointegerx(L, index, nil)) : .double(lua_tonumberx(L, index, nil))
        case LUA_TSTRING: return .string(LuaCall.string(at: index, in: L))
        case LUA_TTABLE:
            // The path from the root is short (capped): a list beats a set here.
            guard depth < LuaConverter.maxDepth, lua_checkstack(L, 3) != 0, let identity = lua_topointer(L, index),
                  !visiting.contains(identity) else {
                return .unsupported("table that contains itself (or nests too deeply)")
            }
            visiting.append(identity)
            defer { visiting.removeLast() }
            var object = [String: JSONValue](minimumCapacity: depth == 0 ? 10 : 2)
            var integerKeys = 0
            var other = false
            lua_pushnil(L)
            while lua_next(L, index) != 0 {
                let top = lua_gettop(L)
                if lua_type(L, top - 1) == LUA_TSTRING {
                    object[LuaCall.string(at: top - 1, in: L)] = readJSON(top, depth: depth + 1, visiting: &visiting)
                } else if lua_isinteger(L, top - 1) != 0 {
                    integerKeys += 1
                } else {
                    other = true
                }
                gwlua_pop(L, 1)
            }
            if integerKeys > 0 {
                let n = Int(lua_rawlen(L, index))
                guard n == integerKeys, object.isEmpty, !other else {
                    return .unsupported(object.isEmpty ? "sparse list" : "table mixing list items and fields")
                }
                var array: [JSONValue] = []
                array.reserveCapacity(n)
                for i in 1...n {
                    lua_rawgeti(L, index, lua_Integer(i))
                    array.append(readJSON(lua_gettop(L), depth: depth + 1, visiting: &visiting))
                    gwlua_pop(L, 1)
                }
                return .array(array)
            }
            if other { return .unsupported("table with non-string keys") }
            if object.isEmpty, JSONModule.isArrayMarked(L, index) { return .array([]) }
            return .object(object)
        case LUA_TUSERDATA where JSONModule.isNull(L, index):
            return .null
        default:
            return .unsupported(typeName(at: index))
        }
    }

    /// `table[key]` of the table at `index`, read raw, as JSON. Stack effect: 0.
    public func field(_ index: Int32, _ key: String) -> JSONValue {
        pushRawField(index, key)
        defer { gwlua_pop(L, 1) }
        return readJSON(-1)
    }

    // MARK: Swift -> Lua

    /// Pushes `value`: objects as tables, arrays as marked tables (so `[]` stays
    /// `[]`), null as `json.null`. Stack effect: +1.
    public func push(_ value: JSONValue) {
        switch value {
        case .null: JSONModule.pushNull(L)
        case .unsupported: lua_pushnil(L)
        case .bool(let b): lua_pushboolean(L, b ? 1 : 0)
        case .integer(let i): lua_pushinteger(L, i)
        case .double(let d): lua_pushnumber(L, d)
        case .string(let s): push(s)
        case .array(let items): pushList(items) { push($0) }
        case .object(let fields): pushFields(fields) { push($0) }
        }
    }

    /// A marked list, each item pushed by `pushItem`. Stack effect: +1.
    private func pushList<Items: Collection>(_ items: Items, _ pushItem: (Items.Element) -> Void) {
        _ = lua_checkstack(L, 3)
        lua_createtable(L, Int32(clamping: items.count), 0)
        for (i, item) in items.enumerated() {
            pushItem(item)
            lua_rawseti(L, -2, lua_Integer(i + 1))
        }
        JSONModule.markArray(L, at: -1)
    }

    /// A table of fields, each value pushed by `pushValue`. Stack effect: +1.
    private func pushFields<Value>(_ fields: some Collection<(key: String, value: Value)>, _ pushValue: (Value) -> Void) {
        _ = lua_checkstack(L, 3)
        lua_createtable(L, 0, Int32(clamping: fields.count))
        for field in fields {
            pushValue(field.value)
            lua_setfield(L, -2, field.key)
        }
    }

    /// Pushes `data`. Stack effect: +1.
    public func push(_ data: LuaData) {
        switch data {
        case .json(let value): push(value)
        case .function(let f): push(f)
        case .pushed(let body): body(self)
        case .tagged(let value, let metatable):
            push(value)
            if lua_type(L, -1) == LUA_TTABLE { metatable.set(on: L) }
        case .table(let fields, let metatable):
            pushFields(fields.lazy.map { (key: $0.0, value: $0.1) }) { push($0) }
            metatable?.set(on: L)
        case .list(let items): pushList(items) { push($0) }
        }
    }

    /// Pushes `values` as a marked array of strings. Stack effect: +1.
    public func push(strings values: [String]) { pushList(values) { push($0) } }

    /// Keeps only the bottom `n` values (a function's result is what is left on top). Stack effect: to `n`.
    public func keep(_ n: Int32) { lua_settop(L, n) }

    /// Calls the function at `index` with the values `arguments` pushes (it returns
    /// how many), under protection; its results are dropped. Stack effect: 0.
    public func callFunction(at index: Int32, arguments: () throws -> Int32) throws {
        guard let state = LuaState.owner(of: L) else { throw LuaError.runtime("no Lua state") }
        let function = lua_absindex(L, index)
        try reserve(8)
        lua_pushvalue(L, function)
        let n = try arguments()
        try state.call(arguments: n, results: 0)
    }
}

/// Lines for the user, on the C streams Lua's print uses, so the order of lines holds.
public enum LuaOutput {
    public enum Stream { case output, error }

    public static func write(_ text: String, to stream: Stream) {
        let file = stream == .output ? gwlua_stdout() : gwlua_stderr()
        fputs(text, file)
        fflush(file)
    }
}

/// A note a binding attaches to a table without changing the table: kept in a
/// weak-keyed registry table of its own, so the note goes with that table (and is
/// collected with it) but not with a copy a script makes. gateway.lua notes, on a
/// spec read from the API, the fields gwlua does not know that it carries.
public final class LuaTableNote: @unchecked Sendable {
    // Immutable; its address is the registry key.
    public let name: String

    public init(_ name: String) { self.name = name }

    /// Pushes the weak table of notes. Stack effect: +1.
    private func pushNotes(_ L: OpaquePointer) {
        let key = UnsafeRawPointer(Unmanaged.passUnretained(self).toOpaque())
        if lua_rawgetp(L, gwlua_registryindex(), key) == LUA_TTABLE { return }
        gwlua_pop(L, 1)
        lua_createtable(L, 0, 0)
        lua_createtable(L, 0, 1)
        LuaCall(state: L).push("k")
        lua_setfield(L, -2, "__mode")
        lua_setmetatable(L, -2)
        lua_pushvalue(L, -1)
        lua_rawsetp(L, gwlua_registryindex(), key)
    }

    /// Notes `value` on the table at `index` (nil clears it). Stack effect: 0.
    public func set(_ value: JSONValue?, onTableAt index: Int32, in call: LuaCall) {
        let L = call.L
        let table = lua_absindex(L, index)
        _ = lua_checkstack(L, 4)
        pushNotes(L)
        lua_pushvalue(L, table)
        if let value { call.push(value) } else { lua_pushnil(L) }
        lua_rawset(L, -3)
        gwlua_pop(L, 1)
    }

    /// The notes on items 1…`count` of the list at `index` (nil where an item has none). Stack effect: 0.
    public func values(ofItemsOfListAt index: Int32, count: Int, in call: LuaCall) -> [JSONValue?] {
        let L = call.L
        let list = lua_absindex(L, index)
        _ = lua_checkstack(L, 4)
        return (0..<count).map { i in
            lua_rawgeti(L, list, lua_Integer(i + 1))
            defer { gwlua_pop(L, 1) }
            return value(ofTableAt: -1, in: call)
        }
    }

    /// The note on the table at `index`, if any. Stack effect: 0.
    public func value(ofTableAt index: Int32, in call: LuaCall) -> JSONValue? {
        let L = call.L
        guard lua_type(L, index) == LUA_TTABLE else { return nil }
        let table = lua_absindex(L, index)
        _ = lua_checkstack(L, 3)
        pushNotes(L)
        lua_pushvalue(L, table)
        lua_rawget(L, -2)
        defer { gwlua_pop(L, 2) }
        return lua_type(L, -1) == LUA_TNIL ? nil : call.readJSON(-1)
    }
}
