import CLua

/// A field of a table read through `LuaTableView`.
public enum LuaField<Value> {
    case absent
    case value(Value)
    /// Present, but not of the type asked for (or not a list of it).
    case other
}

/// A Lua table read field by field (raw), for bindings that know the shape they
/// expect and want it without converting the whole table (the fast path of
/// gateway.new; anything unexpected sends the caller to `readJSON`).
public struct LuaTableView {
    @usableFromInline let L: OpaquePointer
    /// Absolute stack index of the table.
    public let index: Int32
    /// Without a metatable a plain read is a raw one, and `lua_getfield` finds its
    /// key string through Lua's cache by address instead of hashing it again.
    @usableFromInline let plain: Bool

    @inlinable init(L: OpaquePointer, index: Int32) {
        self.L = L
        self.index = index
        if lua_getmetatable(L, index) != 0 {
            gwlua_pop(L, 1)
            plain = false
        } else {
            plain = true
        }
    }

    /// How many keys the table has (every kind). Stack effect: 0.
    @inlinable public var keyCount: Int { LuaTableView.keyCount(L, index) }

    @inlinable static func keyCount(_ L: OpaquePointer, _ index: Int32) -> Int {
        var n = 0
        lua_pushnil(L)
        while lua_next(L, index) != 0 {
            gwlua_pop(L, 1)
            n += 1
        }
        return n
    }

    /// Runs `body` with `key`'s value on top. Stack effect: 0.
    @inlinable func with<T>(_ key: StaticString, _ body: (Int32) -> T) -> T {
        let type: Int32
        if plain {
            // A literal's text ends in NUL, as lua_getfield needs.
            type = lua_getfield(L, index, key.utf8Start.withMemoryRebound(to: CChar.self, capacity: key.utf8CodeUnitCount + 1) { $0 })
        } else {
            _ = key.withUTF8Buffer { b in b.withMemoryRebound(to: CChar.self) { lua_pushlstring(L, $0.baseAddress, $0.count) } }
            type = lua_rawget(L, index)
        }
        defer { gwlua_pop(L, 1) }
        return body(type)
    }

    @inlinable public func string(_ key: StaticString) -> LuaField<String> {
        with(key) { type in
            switch type {
            case LUA_TNIL: return .absent
            case LUA_TSTRING: return .value(LuaCall.string(at: -1, in: L))
            default: return .other
            }
        }
    }

    @inlinable public func bool(_ key: StaticString) -> LuaField<Bool> {
        with(key) { type in
            switch type {
            case LUA_TNIL: return .absent
            case LUA_TBOOLEAN: return .value(lua_toboolean(L, -1) != 0)
            default: return .other
            }
        }
    }

    /// A list of strings (an empty table counts as an empty list).
    @inlinable public func strings(_ key: StaticString) -> LuaField<[String]> {
        with(key) { type in
            switch type {
            case LUA_TNIL: return .absent
            case LUA_TTABLE:
                let list = lua_gettop(L)
                let n = Int(lua_rawlen(L, list))
                var out: [String] = []
                out.reserveCapacity(n)
                for i in 0..<n {
                    guard lua_rawgeti(L, list, lua_Integer(i + 1)) == LUA_TSTRING else {
                        gwlua_pop(L, 1)
                        return .other
                    }
                    out.append(LuaCall.string(at: -1, in: L))
                    gwlua_pop(L, 1)
                }
                return LuaTableView.keyCount(L, list) == n ? .value(out) : .other
            default: return .other
            }
        }
    }

    /// A nested table, read by `body` while it is on the stack.
    @inlinable public func table<T>(_ key: StaticString, _ body: (LuaTableView) -> T) -> LuaField<T> {
        with(key) { type in
            switch type {
            case LUA_TNIL: return .absent
            case LUA_TTABLE: return .value(body(LuaTableView(L: L, index: lua_gettop(L))))
            default: return .other
            }
        }
    }
}

/// Fills the table being pushed, field by field: results whose shape a binding
/// knows are built straight into Lua, without a `JSONValue` in between.
public struct LuaTableWriter {
    @usableFromInline let L: OpaquePointer

    @inlinable init(L: OpaquePointer) { self.L = L }

    @inlinable func key(_ key: StaticString) {
        lua_setfield(L, -2, key.utf8Start.withMemoryRebound(to: CChar.self, capacity: key.utf8CodeUnitCount + 1) { $0 })
    }

    @inlinable public func set(_ name: StaticString, _ value: String) {
        LuaCall(state: L).push(value)
        key(name)
    }

    @inlinable public func set(_ name: StaticString, _ value: Bool) {
        lua_pushboolean(L, value ? 1 : 0)
        key(name)
    }

    /// A marked list of strings.
    @inlinable public func set(_ name: StaticString, strings: [String]) {
        LuaCall(state: L).push(strings: strings)
        key(name)
    }

    /// A nested table with `records` fields, filled by `build`.
    @inlinable public func set(_ name: StaticString, records: Int32 = 0, _ build: (LuaTableWriter) -> Void = { _ in }) {
        lua_createtable(L, 0, records)
        build(self)
        key(name)
    }
}

extension LuaCall {
    /// A view of the table at `index` (which must be a table). Stack effect: 0.
    @inlinable public func tableView(_ index: Int32) -> LuaTableView { LuaTableView(L: L, index: lua_absindex(L, index)) }

    /// Pushes a table with `records` fields filled by `build`, and `metatable`. Stack effect: +1.
    @inlinable public func pushTable(records: Int32, metatable: LuaMetatable? = nil, _ build: (LuaTableWriter) -> Void) {
        _ = lua_checkstack(L, 6)
        lua_createtable(L, 0, records)
        build(LuaTableWriter(L: L))
        metatable?.set(on: L)
    }
}
