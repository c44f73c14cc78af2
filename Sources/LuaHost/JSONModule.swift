import CLua
@_exported import JSONCore

/// The `json` Lua module: encode (stable key order, pretty printing, `json.null`,
/// `json.array`) and decode (integers stay integers; errors give a byte offset).
public enum JSONModule {
    static let nullName = "json.null"
    static let arrayMarkerName = "json.array"

    static let help = [
        LuaHelpEntry("json.encode", "json.encode(value [, {pretty = true}]) -> string",
                     "JSON with sorted keys; integers stay integers; json.null and json.array(t) for null and [].",
                     example: "json.encode({a = 1})"),
        LuaHelpEntry("json.decode", "json.decode(string) -> value", "JSON to Lua; null becomes json.null, arrays stay arrays.",
                     example: #"json.decode('{"a": [1, 2]}')"#),
        LuaHelpEntry("json.array", "json.array([t]) -> t", "Marks t (or a new table) as a JSON array, so {} encodes as [].",
                     example: "json.encode(json.array())"),
    ]

    static let encodeOptions = LuaOptions("json.encode", [.boolean("pretty", "indent by two spaces")])

    public static func register(in state: LuaState) throws {
        LuaHelp.add(help)
        try state.registerModule("json") { call in
            LuaState.pushFunctionTable([
                LuaFunction("encode", encode),
                LuaFunction("decode", decode),
                LuaFunction("array", array),
            ], in: call)
            pushNull(call.L)
            lua_setfield(call.L, -2, "null")
        }
    }

    // MARK: Sentinels

    /// `json.null`: one userdata per state, stored in the registry.
    static func pushNull(_ L: OpaquePointer) {
        if lua_getfield(L, gwlua_registryindex(), nullName) == LUA_TUSERDATA { return }
        gwlua_pop(L, 1)
        _ = gwlua_newuserdata(L, 1)
        lua_createtable(L, 0, 2)
        LuaCall(state: L).push(nullName)
        lua_setfield(L, -2, "__name")
        LuaCall(state: L).push(LuaFunction("__tostring") { call in
            call.push("null")
            return 1
        })
        lua_setfield(L, -2, "__tostring")
        lua_setmetatable(L, -2)
        lua_pushvalue(L, -1)
        lua_setfield(L, gwlua_registryindex(), nullName)
    }

    /// Whether the value at `index` is `json.null`.
    public static func isNull(_ L: OpaquePointer, _ index: Int32) -> Bool {
        guard lua_type(L, index) == LUA_TUSERDATA else { return false }
        let i = lua_absindex(L, index)
        lua_getfield(L, gwlua_registryindex(), nullName)
        defer { gwlua_pop(L, 1) }
        return lua_rawequal(L, i, -1) != 0
    }

    /// The registry key of the array marker: a pointer, so finding it hashes no string
    /// (it is looked up for every array pushed and every table encoded).
    nonisolated(unsafe) static let arrayMarkerKey = UnsafeRawPointer(UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 1))

    /// Marks the table at `index` as a JSON array (see `json.array`), so `{}` encodes
    /// as `[]`: every list gwlua makes goes through here. Stack effect: 0.
    public static func markArray(_ L: OpaquePointer, at index: Int32) {
        let table = lua_absindex(L, index)
        pushArrayMarker(L)
        lua_setmetatable(L, table)
    }

    /// Pushes the metatable that marks tables as JSON arrays. Stack effect: +1.
    static func pushArrayMarker(_ L: OpaquePointer) {
        if lua_rawgetp(L, gwlua_registryindex(), arrayMarkerKey) == LUA_TTABLE { return }
        gwlua_pop(L, 1)
        _ = luaL_newmetatable(L, arrayMarkerName)  // __name is all it needs
        lua_pushvalue(L, -1)
        lua_rawsetp(L, gwlua_registryindex(), arrayMarkerKey)
    }

    static func isArrayMarked(_ L: OpaquePointer, _ index: Int32) -> Bool {
        LuaRegistryKey.hasMetatable(at: index, in: L, key: arrayMarkerKey)
    }

    // MARK: Lua functions

    static func array(_ call: LuaCall) throws -> Int32 {
        if call.count == 0 || call.type(at: 1) == .nil {
            lua_createtable(call.L, 0, 0)
        } else {
            try call.checkTable(1)
            if lua_getmetatable(call.L, 1) != 0 && !isArrayMarked(call.L, 1) {
                throw call.argumentError(1, "table already has a metatable")
            }
            lua_settop(call.L, 1)
        }
        markArray(call.L, at: -1)
        return 1
    }

    static func encode(_ call: LuaCall) throws -> Int32 {
        try call.checkAny(1)
        let pretty = try encodeOptions.read(call, at: 2).bool("pretty") ?? false
        lua_settop(call.L, 1)
        let state = LuaState.owner(of: call.L)
        var encoder = LuaJSONEncoder(L: call.L, pretty: pretty, buffers: state?.jsonScratch.take() ?? .init())
        do {
            try encoder.encode(at: 1, depth: 0)
        } catch let failure as LuaJSONEncoder.Failure {
            encoder.handBack(to: state)
            throw failure.error
        } catch {
            encoder.handBack(to: state)
            throw error
        }
        call.push(bytes: encoder.output.elements)
        encoder.handBack(to: state)
        return 1
    }

    /// json.decode(text): the one JSON scanner (JSONCore), building straight onto the stack.
    static func decode(_ call: LuaCall) throws -> Int32 {
        guard call.type(at: 1) == .string else { throw call.typeError(1, expected: "string") }
        var len = 0
        guard let p = gwlua_tolstring(call.L, 1, &len) else { throw call.typeError(1, expected: "string") }
        let buffer = UnsafeRawBufferPointer(start: p, count: len).bindMemory(to: UInt8.self)
        var scanner = JSONScanner(bytes: buffer, builder: LuaStackBuilder(L: call.L))
        do { try scanner.document() } catch let error as JSONSyntaxError {
            throw JSONError(description: "json.decode: \(error)")
        }
        return 1
    }
}

/// Errors from json.encode / json.decode, positioned at the caller's line.
struct JSONError: Error, CustomStringConvertible {
    let description: String
}
