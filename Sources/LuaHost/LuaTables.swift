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

    @inlinable public var bool: Bool? {
        lua_type(L, -1) == LUA_TBOOLEAN ? lua_toboolean(L, -1) != 0 : nil
    }

    /// A string's UTF-8, borrowed from Lua: valid while the table being read stays
    /// on the stack and no Lua code runs. Nil for another type, or for bytes that
    /// are not UTF-8 (which the general way repairs).
    @inlinable public var text: UnsafeBufferPointer<UInt8>? { LuaFieldValue.text(at: -1, in: L) }

    @inlinable static func text(at index: Int32, in L: OpaquePointer) -> UnsafeBufferPointer<UInt8>? {
        guard lua_type(L, index) == LUA_TSTRING else { return nil }
        var count = 0
        guard let p = lua_tolstring(L, index, &count) else { return nil }
        let bytes = UnsafeRawBufferPointer(start: p, count: count).assumingMemoryBound(to: UInt8.self)
        return isUTF8(bytes) ? bytes : nil
    }

    /// ASCII (eight bytes at a time), or else valid UTF-8.
    @inlinable static func isUTF8(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = bytes.baseAddress else { return true }
        let raw = UnsafeRawPointer(base)
        var high: UInt64 = 0, i = 0
        while i + 8 <= bytes.count {
            high |= raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            i += 8
        }
        while i < bytes.count {
            high |= UInt64(bytes[i])
            i += 1
        }
        return high & 0x8080_8080_8080_8080 == 0 || String(validating: bytes, as: UTF8.self) != nil
    }
}

/// A new table a binding fills from the one `readFields` visits, at a fixed stack
/// slot: strings are copied as the same Lua values under the same key strings, so
/// nothing is converted to Swift and back, and no string is hashed again.
public struct LuaTableCopy {
    @usableFromInline let L: OpaquePointer
    /// Absolute stack index of the table being filled.
    @usableFromInline let index: Int32

    @inlinable init(L: OpaquePointer, index: Int32) {
        self.L = L
        self.index = index
    }

    /// Sets the visited field's key to its value, as it is. Stack effect: 0.
    @inlinable public func copy(_ field: LuaFieldValue) {
        lua_pushvalue(L, -2)
        lua_pushvalue(L, -2)
        lua_rawset(L, index)
    }

    /// Sets the visited field's key to a new table that `fill` fills from the field's
    /// table. False, with nothing set, when the field is not a table or `fill` says
    /// so. Stack effect: 0.
    @inlinable public func copyTable(_ field: LuaFieldValue, records: Int32,
                                     _ fill: (LuaTableView, LuaTableCopy) -> Bool) -> Bool {
        let value = lua_gettop(L)
        guard lua_type(L, value) == LUA_TTABLE, lua_checkstack(L, 8) != 0 else { return false }
        lua_createtable(L, 0, records)
        guard fill(LuaTableView(L: L, index: value), LuaTableCopy(L: L, index: value + 1)) else {
            lua_settop(L, value)
            return false
        }
        lua_pushvalue(L, value - 1)
        lua_pushvalue(L, value + 1)
        lua_rawset(L, index)
        lua_settop(L, value)
        return true
    }

    /// Sets the visited field's key to a copy of its list of strings, marked as an
    /// array; `item` sees each string's UTF-8 (borrowed, as `LuaFieldValue.text`).
    /// False, with nothing set, unless the field is a list of UTF-8 strings and
    /// nothing else (an empty table is an empty list). An empty list is left out
    /// unless `keepsEmpty`. Stack effect: 0.
    @inlinable public func copyStrings(_ field: LuaFieldValue, keepsEmpty: Bool = true,
                                       _ item: (UnsafeBufferPointer<UInt8>) -> Void) -> Bool {
        let list = lua_gettop(L)
        guard lua_type(L, list) == LUA_TTABLE, lua_checkstack(L, 6) != 0 else { return false }
        let n = lua_rawlen(L, list)
        lua_createtable(L, Int32(clamping: n), 0)
        let copy = list + 1
        var i: lua_Integer = 1
        while i <= n {
            lua_rawgeti(L, list, i)
            guard let text = LuaFieldValue.text(at: -1, in: L) else {
                lua_settop(L, list)
                return false
            }
            item(text)
            lua_rawseti(L, copy, i)
            i += 1
        }
        // Nothing but the list: exactly n keys.
        var keys: lua_Unsigned = 0
        lua_pushnil(L)
        while lua_next(L, list) != 0 {
            gwlua_pop(L, 1)
            keys += 1
        }
        guard keys == n else {
            lua_settop(L, list)
            return false
        }
        if n > 0 || keepsEmpty {
            JSONModule.markArray(L, at: copy)
            lua_pushvalue(L, list - 1)
            lua_pushvalue(L, copy)
            lua_rawset(L, index)
        }
        lua_settop(L, list)
        return true
    }

    /// Sets `name` to an empty list (marked as an array). Stack effect: 0.
    @inlinable public func setEmptyList(_ name: StaticString) {
        LuaCall(state: L).push(strings: [])
        lua_setfield(L, index, name.cString)
    }

    /// Replaces item `position` (from 1) of the list under `name` by `text`. Stack effect: 0.
    @inlinable public func setItem(of name: StaticString, at position: Int, to text: String) {
        guard lua_getfield(L, index, name.cString) == LUA_TTABLE else {
            gwlua_pop(L, 1)
            return
        }
        LuaCall(state: L).push(text)
        lua_rawseti(L, -2, lua_Integer(position))
        gwlua_pop(L, 1)
    }

    /// Gives the table `metatable`. Stack effect: 0.
    @inlinable public func setMetatable(_ metatable: LuaMetatable) {
        lua_pushvalue(L, index)
        metatable.set(on: L)
        gwlua_pop(L, 1)
    }
}

extension StaticString {
    @inlinable var cString: UnsafePointer<CChar> {
        utf8Start.withMemoryRebound(to: CChar.self, capacity: utf8CodeUnitCount + 1) { $0 }
    }
}

/// Fills the table being pushed, field by field: results whose shape a binding
/// knows are built straight into Lua, without a `JSONValue` in between.
public struct LuaTableWriter {
    @usableFromInline let L: OpaquePointer

    @inlinable init(L: OpaquePointer) { self.L = L }

    @inlinable func key(_ key: StaticString) { lua_setfield(L, -2, key.cString) }

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

    /// Pushes a new table that `fill` fills (from a table it reads) when it answers
    /// true: stack effect +1. When it answers false, the table is dropped: 0.
    @inlinable public func pushTableCopy(records: Int32, _ fill: (LuaTableCopy) -> Bool) -> Bool {
        _ = lua_checkstack(L, 8)
        lua_createtable(L, 0, records)
        let top = lua_gettop(L)
        guard fill(LuaTableCopy(L: L, index: top)) else {
            lua_settop(L, top - 1)
            return false
        }
        lua_settop(L, top)
        return true
    }

    /// Pushes a table with `records` fields filled by `build`, and `metatable`. Stack effect: +1.
    @inlinable public func pushTable(records: Int32, metatable: LuaMetatable? = nil, _ build: (LuaTableWriter) -> Void) {
        _ = lua_checkstack(L, 6)
        lua_createtable(L, 0, records)
        build(LuaTableWriter(L: L))
        metatable?.set(on: L)
    }
}
