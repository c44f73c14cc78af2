import CLua

/// The keys a binding expects in a table, declared once as an enum whose raw
/// values are the key names. `LuaTableView.readFields` matches each key it meets
/// against them by length and bytes: no key string is pushed or hashed.
public struct LuaKeys<Key: RawRepresentable & CaseIterable & Sendable>: Sendable where Key.RawValue == String {
    @usableFromInline let keys: [Key]
    /// Every name's UTF-8, back to back; `ends[i]` is where name i ends.
    @usableFromInline let bytes: [UInt8]
    @usableFromInline let ends: [Int]

    public init() {
        keys = Array(Key.allCases)
        var bytes: [UInt8] = [], ends: [Int] = []
        for key in keys {
            bytes += key.rawValue.utf8
            ends.append(bytes.count)
        }
        self.bytes = bytes
        self.ends = ends
    }

    /// The key spelled by these `count` bytes, if it is one of them.
    @inlinable func key(_ p: UnsafeRawPointer, count: Int) -> Key? {
        bytes.withUnsafeBufferPointer { all in
            guard let base = all.baseAddress else { return nil }
            var start = 0
            for (i, end) in ends.enumerated() {
                if end - start == count, memcmp(base + start, p, count) == 0 { return keys[i] }
                start = end
            }
            return nil
        }
    }
}

/// A Lua table read in one pass for bindings that know the shape they expect and
/// want it without converting the whole table (the fast path of gateway.new;
/// anything unexpected sends the caller to `readJSON`). Reads are raw.
public struct LuaTableView {
    @usableFromInline let L: OpaquePointer
    /// Absolute stack index of the table.
    public let index: Int32

    @inlinable init(L: OpaquePointer, index: Int32) {
        self.L = L
        self.index = index
    }

    /// Whether the table has no keys at all. Stack effect: 0.
    @inlinable public var isEmpty: Bool {
        lua_pushnil(L)
        guard lua_next(L, index) != 0 else { return true }
        gwlua_pop(L, 2)
        return false
    }

    /// Visits every field while each key is one of `keys`: `visit` gets the key and
    /// the value and answers whether the value is as expected. False as soon as a
    /// key is not a string, not one of `keys`, or `visit` answers false. Stack effect: 0.
    @inlinable public func readFields<Key>(_ keys: LuaKeys<Key>, _ visit: (Key, LuaFieldValue) -> Bool) -> Bool {
        _ = lua_checkstack(L, 4)
        lua_pushnil(L)
        while lua_next(L, index) != 0 {
            var count = 0
            // Only a string key is converted: lua_tolstring on a number key would break lua_next.
            guard lua_type(L, -2) == LUA_TSTRING, let p = lua_tolstring(L, -2, &count),
                  let key = keys.key(p, count: count), visit(key, LuaFieldValue(L: L)) else {
                gwlua_pop(L, 2)
                return false
            }
            gwlua_pop(L, 1)
        }
        return true
    }
}

/// The value of the field `readFields` is visiting (on top of the stack), read as
/// the type the binding expects: nil when it is of another type.
public struct LuaFieldValue {
    @usableFromInline let L: OpaquePointer

    @inlinable init(L: OpaquePointer) { self.L = L }

    @inlinable public var string: String? {
        lua_type(L, -1) == LUA_TSTRING ? LuaCall.string(at: -1, in: L) : nil
    }

    @inlinable public var bool: Bool? {
        lua_type(L, -1) == LUA_TBOOLEAN ? lua_toboolean(L, -1) != 0 : nil
    }

    /// A list of strings and nothing else (an empty table is an empty list).
    @inlinable public var strings: [String]? {
        guard lua_type(L, -1) == LUA_TTABLE else { return nil }
        let list = lua_gettop(L)
        let n = Int(lua_rawlen(L, list))
        var out: [String] = []
        out.reserveCapacity(n)
        for i in 0..<n {
            guard lua_rawgeti(L, list, lua_Integer(i + 1)) == LUA_TSTRING else {
                gwlua_pop(L, 1)
                return nil
            }
            out.append(LuaCall.string(at: -1, in: L))
            gwlua_pop(L, 1)
        }
        // Nothing but the list: exactly n keys.
        var keys = 0
        lua_pushnil(L)
        while lua_next(L, list) != 0 {
            gwlua_pop(L, 1)
            keys += 1
        }
        return keys == n ? out : nil
    }

    /// A table, read by `body` (nil when it is not one).
    @inlinable public func table<T>(_ body: (LuaTableView) -> T?) -> T? {
        lua_type(L, -1) == LUA_TTABLE ? body(LuaTableView(L: L, index: lua_gettop(L))) : nil
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
