import CLua

/// A declaration of how a Swift class appears in Lua as userdata: its methods
/// (reached through `obj:method(...)`) and metamethods. The metatable is built
/// from this once per state; the object is retained by its userdata and
/// released by `__gc`.
///
///     let counter = LuaClass<Counter>("Counter")
///         .method("add") { c, call in c.value += try call.integer(2); return 0 }
///         .meta("__tostring") { c, call in call.push("Counter(\(c.value))"); return 1 }
public struct LuaClass<Object: AnyObject>: Sendable {
    public typealias Method = @Sendable (Object, LuaCall) throws -> Int32

    /// The metatable's registry name and `__name` (shown in error messages).
    public let name: String
    public private(set) var methods: [(name: String, body: Method)] = []
    public private(set) var metamethods: [(name: String, body: Method)] = []
    /// How many Lua values each object keeps beside its Swift part (see `LuaObjectValues`).
    public let valueSlots: Int32

    /// Its address keys the metatable in the registry, so a method call finds its
    /// class by a pointer, not by hashing the class name (copies share it).
    @usableFromInline let identity = Identity()
    @usableFromInline final class Identity: Sendable {
        @usableFromInline init() {}
    }

    /// `valueSlots`: how many Lua values (strings, lists) each object keeps in its
    /// userdata, read and written through `LuaCall.objectValues`.
    public init(_ name: String, valueSlots: Int32 = 0) {
        self.name = name
        self.valueSlots = valueSlots
    }

    public func method(_ name: String, _ body: @escaping Method) -> LuaClass {
        var copy = self
        copy.methods.append((name, body))
        return copy
    }

    /// `__tostring`, `__len`, `__eq`, `__call`, `__concat`, `__close`; or `__index`
    /// for keys that are not methods (called with the object and the key).
    public func meta(_ name: String, _ body: @escaping Method) -> LuaClass {
        var copy = self
        copy.metamethods.append((name, body))
        return copy
    }

    @inlinable var key: UnsafeRawPointer { UnsafeRawPointer(Unmanaged.passUnretained(identity).toOpaque()) }

    /// What is at `index`: an object of this class, one finalized, or something else.
    @usableFromInline enum Slot {
        case object(Object)
        case finalized
        case other
    }

    @inlinable func slot(at index: Int32, in L: OpaquePointer) -> Slot {
        guard let slot = lua_touserdata(L, index), LuaRegistryKey.hasMetatable(at: index, in: L, key: key) else { return .other }
        guard let raw = slot.load(as: UnsafeRawPointer?.self) else { return .finalized }
        // The metatable is this class's, so the object is an `Object`: no dynamic cast.
        return .object(Unmanaged<Object>.fromOpaque(raw).takeUnretainedValue())
    }

    /// The object at `index` when it is one of this class, else nil.
    @inlinable public func object(at index: Int32, in call: LuaCall) -> Object? {
        if case .object(let object) = slot(at: index, in: call.L) { return object }
        return nil
    }

    /// The object at `index`, or lua's "bad argument" error.
    @inlinable public func check(_ index: Int32, in call: LuaCall) throws -> Object {
        switch slot(at: index, in: call.L) {
        case .object(let object): return object
        case .finalized: throw call.argumentError(index, "\(name) has been finalized")
        case .other: throw call.typeError(index, expected: name)
        }
    }

    /// Pushes `object` as a userdata of this class.
    /// Inlinable, as are the metatable's methods, so each class's method calls are
    /// compiled for its own type instead of through generic metadata on every call.
    @inlinable public func push(_ object: Object, in call: LuaCall) {
        let L = call.L
        LuaObjectSlot.pushNew(object, onto: L, valueSlots: valueSlots)
        if lua_rawgetp(L, gwlua_registryindex(), key) != LUA_TTABLE {
            gwlua_pop(L, 1)
            // Also under its name: `LuaValue` finds a class by name when it pushes an object back.
            if luaL_newmetatable(L, name) != 0 { fillMetatable(L) }
            lua_pushvalue(L, -1)
            lua_rawsetp(L, gwlua_registryindex(), key)
        }
        lua_setmetatable(L, -2)
    }

    /// Builds the metatable on top of the stack.
    @inlinable func fillMetatable(_ L: OpaquePointer) {
        let call = LuaCall(state: L)
        lua_pushboolean(L, 1)
        lua_setfield(L, -2, LuaObjectSlot.marker)
        if valueSlots > 0 {
            lua_pushinteger(L, lua_Integer(valueSlots))
            lua_setfield(L, -2, LuaObjectSlot.valueSlotsField)
        }
        lua_pushcclosure(L, luaObjectCollect, 0)
        lua_setfield(L, -2, "__gc")

        lua_createtable(L, 0, Int32(methods.count))
        for (methodName, body) in methods {
            call.push(bind(methodName, body))
            lua_setfield(L, -2, methodName)
        }
        var customIndex: Method?
        for (metaName, body) in metamethods {
            if metaName == "__index" {
                customIndex = body
                continue
            }
            call.push(bind(metaName, body))
            lua_setfield(L, -3, metaName)
        }
        if let customIndex {
            // Methods first, then the class's own lookup; the methods table is upvalue-free
            // because the closure captures the class itself.
            let className = name
            let table = LuaFunction("__index") { call in
                if lua_type(call.L, 2) == LUA_TSTRING, gwlua_getmetatable(call.L, className) == LUA_TTABLE {
                    lua_getfield(call.L, -1, LuaObjectSlot.methodsField)
                    lua_pushvalue(call.L, 2)
                    if lua_rawget(call.L, -2) != LUA_TNIL { return 1 }
                    gwlua_pop(call.L, 3)
                }
                return try customIndex(try self.check(1, in: call), call)
            }
            lua_pushvalue(L, -1)
            lua_setfield(L, -3, LuaObjectSlot.methodsField)
            gwlua_pop(L, 1)
            call.push(table)
            lua_setfield(L, -2, "__index")
        } else {
            lua_pushvalue(L, -1)
            lua_setfield(L, -3, LuaObjectSlot.methodsField)
            lua_setfield(L, -2, "__index")
        }
    }

    @inlinable func bind(_ methodName: String, _ body: @escaping Method) -> LuaFunction {
        LuaFunction(methodName) { call in try body(try self.check(1, in: call), call) }
    }
}

/// The userdata block that holds a retained Swift object.
@usableFromInline enum LuaObjectSlot {
    @usableFromInline static let marker = "__gwlua_object"
    @usableFromInline static let methodsField = "__methods"
    /// Set on the metatable of a class whose objects keep Lua values.
    @usableFromInline static let valueSlotsField = "__gwlua_values"

    @usableFromInline static func pushNew(_ object: AnyObject, onto L: OpaquePointer, valueSlots: Int32 = 0) {
        guard let slot = lua_newuserdatauv(L, MemoryLayout<UnsafeRawPointer?>.size, valueSlots) else {
            lua_pushnil(L)
            return
        }
        slot.storeBytes(of: UnsafeRawPointer(Unmanaged.passRetained(object).toOpaque()), as: UnsafeRawPointer?.self)
    }

    /// Any gwlua-bound object at `index`, with its class name.
    static func userdata(at index: Int32, in L: OpaquePointer) -> LuaUserdata? {
        guard let slot = lua_touserdata(L, index), lua_getmetatable(L, index) != 0 else { return nil }
        defer { gwlua_pop(L, 1) }
        lua_pushstring(L, marker)
        let isOurs = lua_rawget(L, -2) == LUA_TBOOLEAN
        gwlua_pop(L, 1)
        guard isOurs, let raw = slot.load(as: UnsafeRawPointer?.self) else { return nil }
        lua_pushstring(L, "__name")
        lua_rawget(L, -2)
        let typeName = LuaCall.string(at: -1, in: L)
        gwlua_pop(L, 1)
        return LuaUserdata(object: Unmanaged<AnyObject>.fromOpaque(raw).takeUnretainedValue(), typeName: typeName)
    }

    /// Pushes an object that travelled through `LuaValue`; its class must have
    /// been pushed in this state before (that is where the metatable comes from).
    static func push(_ u: LuaUserdata, onto L: OpaquePointer) throws {
        if gwlua_getmetatable(L, u.typeName) != LUA_TTABLE {
            gwlua_pop(L, 1)
            throw LuaError.conversion("no Lua class named '\(u.typeName)' in this state")
        }
        // Its Lua values stayed with the userdata it came from; a new one would lack them.
        let keepsValues = lua_getfield(L, -1, valueSlotsField) != LUA_TNIL
        gwlua_pop(L, 1)
        if keepsValues {
            gwlua_pop(L, 1)
            throw LuaError.conversion("a \(u.typeName) keeps Lua values and cannot travel out of Lua and back")
        }
        pushNew(u.object, onto: L)
        gwlua_insert(L, -2)
        lua_setmetatable(L, -2)
    }
}

@usableFromInline let luaObjectCollect: @convention(c) (OpaquePointer?) -> Int32 = { L in
    guard let L, let slot = lua_touserdata(L, 1) else { return 0 }
    if let raw = slot.load(as: UnsafeRawPointer?.self) {
        slot.storeBytes(of: nil, as: UnsafeRawPointer?.self)
        Unmanaged<AnyObject>.fromOpaque(raw).release()
    }
    return 0
}

/// The Lua values an object of a `LuaClass` keeps beside its Swift part (its
/// userdata's user values, slots numbered from 1): strings, and lists of strings,
/// kept as Lua has them, so a binding neither converts them to Swift nor has
/// Lua hash them again when it hands them back. A slot holds nothing, a string,
/// or a list (a second `append` turns a string into a list).
public struct LuaObjectValues {
    @usableFromInline let L: OpaquePointer
    /// Absolute stack index of the object's userdata.
    @usableFromInline let object: Int32

    @inlinable init(L: OpaquePointer, object: Int32) {
        self.L = L
        self.object = object
    }

    /// Slot `slot` holds the value at stack index `argument`. Stack effect: 0.
    @inlinable public func set(_ slot: Int32, argument: Int32) {
        lua_pushvalue(L, argument)
        lua_setiuservalue(L, object, slot)
    }

    /// Slot `slot` holds `text`. Stack effect: 0.
    @inlinable public func set(_ slot: Int32, _ text: String) {
        LuaCall(state: L).push(text)
        lua_setiuservalue(L, object, slot)
    }

    /// Adds the value at stack index `argument` to the list in `slot`. Stack effect: 0.
    @inlinable public func append(_ slot: Int32, argument: Int32) {
        switch lua_getiuservalue(L, object, slot) {
        case LUA_TSTRING:
            lua_createtable(L, 4, 0)
            lua_rotate(L, -2, 1)  // the list under the first item
            lua_rawseti(L, -2, 1)
            lua_pushvalue(L, argument)
            lua_rawseti(L, -2, 2)
            lua_setiuservalue(L, object, slot)
        case LUA_TTABLE:
            let n = lua_rawlen(L, -1)
            lua_pushvalue(L, argument)
            lua_rawseti(L, -2, lua_Integer(n) + 1)
            gwlua_pop(L, 1)
        default:
            gwlua_pop(L, 1)
            set(slot, argument: argument)
        }
    }

    /// Adds `text` to the list in `slot`. Stack effect: 0.
    @inlinable public func append(_ slot: Int32, _ text: String) {
        LuaCall(state: L).push(text)
        append(slot, argument: lua_gettop(L))
        gwlua_pop(L, 1)
    }

    /// Calls `visit` with each string of `slot` on top of the stack (the string, or
    /// each item of a list; none when the slot is empty) until it answers false;
    /// false then. Stack effect: 0.
    @inlinable func forEachItem(_ slot: Int32, _ visit: () -> Bool) -> Bool {
        defer { gwlua_pop(L, 1) }
        switch lua_getiuservalue(L, object, slot) {
        case LUA_TSTRING: return visit()
        case LUA_TTABLE:
            let n = lua_Integer(lua_rawlen(L, -1))
            var i: lua_Integer = 1
            while i <= n {
                lua_rawgeti(L, -1, i)
                let more = visit()
                gwlua_pop(L, 1)
                guard more else { return false }
                i += 1
            }
            return true
        default: return true
        }
    }

    /// Visits the UTF-8 of each string in `slot` (one for a string, each item of a
    /// list, none when empty), borrowed while the object stays on the stack: false
    /// as soon as one is not UTF-8 (the caller then reads them as Strings, repaired).
    /// Stack effect: 0.
    @inlinable public func texts(_ slot: Int32, _ visit: (UnsafeBufferPointer<UInt8>) -> Void) -> Bool {
        forEachItem(slot) {
            guard let text = LuaFieldValue.text(at: -1, in: L) else { return false }
            visit(text)
            return true
        }
    }

    /// The strings in `slot` as Swift Strings (invalid UTF-8 repaired). Stack effect: 0.
    public func strings(_ slot: Int32) -> [String] {
        var out: [String] = []
        _ = forEachItem(slot) {
            out.append(LuaCall.string(at: -1, in: L))
            return true
        }
        return out
    }

    /// Keeps in `slot` the Lua function that called the running one and answers the
    /// line it is at: a place recorded for a message that may come later (`place`),
    /// without formatting the chunk's name now. Nil, and nothing kept, when the
    /// caller is not Lua code. Stack effect: 0.
    @inlinable public func setCaller(_ slot: Int32) -> Int? {
        var ar = lua_Debug()
        guard lua_getstack(L, 1, &ar) != 0, lua_getinfo(L, "fl", &ar) != 0 else { return nil }
        guard ar.currentline > 0 else {
            gwlua_pop(L, 1)
            return nil
        }
        lua_setiuservalue(L, object, slot)
        return Int(ar.currentline)
    }

    /// "chunk:line" for a place `setCaller` kept in `slot`. Stack effect: 0.
    public func place(_ slot: Int32, line: Int) -> String {
        var ar = lua_Debug()
        guard lua_getiuservalue(L, object, slot) == LUA_TFUNCTION, lua_getinfo(L, ">S", &ar) != 0 else {
            gwlua_pop(L, 1)
            return "?:\(line)"
        }
        let chunk = withUnsafeBytes(of: &ar.short_src) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        return "\(chunk):\(line)"
    }

    /// The string in `slot`, nil when it holds none. Stack effect: 0.
    public func string(_ slot: Int32) -> String? {
        defer { gwlua_pop(L, 1) }
        return lua_getiuservalue(L, object, slot) == LUA_TSTRING ? LuaCall.string(at: -1, in: L) : nil
    }

    /// Pushes the value in `slot` and answers its type. Stack effect: +1.
    @inlinable @discardableResult func push(_ slot: Int32) -> Int32 { lua_getiuservalue(L, object, slot) }
}

extension LuaCall {
    /// The Lua values kept by the object at `index` (of a class with value slots).
    /// Its functions push at most four values at a time (all popped again), within
    /// the LUA_MINSTACK (20) free slots every C function starts with; a binding that
    /// pushes more first reserves them (`reserve`).
    @inlinable public func objectValues(_ index: Int32) -> LuaObjectValues {
        LuaObjectValues(L: L, object: lua_absindex(L, index))
    }
}

extension LuaTableWriter {
    /// `name` = the string in `slot` of `values`; left unset when the slot holds
    /// nothing. Stack effect: 0.
    @inlinable public func set(_ name: StaticString, _ values: LuaObjectValues, _ slot: Int32) {
        if values.push(slot) > LUA_TNIL { key(name) } else { gwlua_pop(L, 1) }
    }

    /// `name` = a new marked list of the strings in `slot` of `values` (nothing,
    /// one string or a list), with the items `replacing` names (by position from 0)
    /// given another text. Stack effect: 0.
    @inlinable public func set(_ name: StaticString, list values: LuaObjectValues, _ slot: Int32,
                               replacing: [(index: Int, spelling: String)] = []) {
        values.push(slot)
        let source = lua_gettop(L)
        switch lua_type(L, source) {
        case LUA_TSTRING:
            lua_createtable(L, 1, 0)
            lua_pushvalue(L, source)
            lua_rawseti(L, -2, 1)
        case LUA_TTABLE:
            let n = lua_rawlen(L, source)
            lua_createtable(L, Int32(clamping: n), 0)
            var i: lua_Integer = 1
            while i <= lua_Integer(n) {
                lua_rawgeti(L, source, i)
                lua_rawseti(L, -2, i)
                i += 1
            }
        default:
            lua_createtable(L, 0, 0)
        }
        for item in replacing {
            LuaCall(state: L).push(item.spelling)
            lua_rawseti(L, -2, lua_Integer(item.index + 1))
        }
        JSONModule.markArray(L, at: -1)
        lua_rotate(L, source, -1)  // the source slot value off the stack
        gwlua_pop(L, 1)
        key(name)
    }
}
