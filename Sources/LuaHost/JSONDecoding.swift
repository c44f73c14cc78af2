import CLua

/// Builds decoded JSON on the Lua stack: each value is pushed; arrays are marked
/// (so `[]` encodes back as `[]`); `null` is `json.null`. Stops at the memory cap.
struct LuaStackBuilder: JSONBuilder {
    let L: OpaquePointer

    @inline(__always) func room() throws {
        if gwlua_overlimit(L, 0) != 0 { throw LuaError.message("not enough memory") }
    }

    func null() throws { JSONModule.pushNull(L) }
    func bool(_ value: Bool) throws { lua_pushboolean(L, value ? 1 : 0) }
    func integer(_ value: Int64) throws { lua_pushinteger(L, value) }
    func double(_ value: Double) throws { lua_pushnumber(L, value) }
    func string(_ bytes: UnsafeBufferPointer<UInt8>, ascii: Bool) throws {
        try room()
        _ = bytes.withMemoryRebound(to: CChar.self) { lua_pushlstring(L, $0.baseAddress, $0.count) }
    }
    func beginArray() throws -> lua_Integer {
        try room()
        if lua_checkstack(L, 4) == 0 { throw LuaError.message("stack overflow decoding JSON") }
        lua_createtable(L, 4, 0)
        JSONModule.markArray(L, at: -1)
        return 0
    }
    func append(_ value: Void, to array: inout lua_Integer) throws {
        array += 1
        lua_rawseti(L, -2, array)
    }
    func endArray(_ array: lua_Integer) throws {}
    func beginObject() throws {
        try room()
        if lua_checkstack(L, 4) == 0 { throw LuaError.message("stack overflow decoding JSON") }
        lua_createtable(L, 0, 4)
    }
    func key(_ bytes: UnsafeBufferPointer<UInt8>, ascii: Bool, in object: inout Void) throws { try string(bytes, ascii: ascii) }
    func set(_ value: Void, in object: inout Void) throws { lua_rawset(L, -3) }
    func endObject(_ object: Void) throws {}
}
