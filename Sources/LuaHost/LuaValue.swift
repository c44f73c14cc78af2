import CLua

/// A Lua string: bytes, which may hold NULs and need not be UTF-8.
public struct LuaString: Hashable, Sendable, ExpressibleByStringLiteral, CustomStringConvertible {
    public var bytes: [UInt8]

    public init(bytes: [UInt8]) { self.bytes = bytes }
    public init(_ string: String) { bytes = Array(string.utf8) }
    public init(stringLiteral value: String) { self.init(value) }

    /// The text, with invalid UTF-8 replaced by U+FFFD.
    public var string: String { String(decoding: bytes, as: UTF8.self) }
    public var description: String { string }
}

/// A Lua value converted to Swift. Tables are copied (keys 1…n in `array`, the
/// rest in `hash`); Swift functions and bound objects keep their identity.
public enum LuaValue: Hashable {
    case `nil`
    case boolean(Bool)
    case integer(Int64)
    case number(Double)
    case string(LuaString)
    case table(LuaTable)
    case function(LuaFunction)
    case userdata(LuaUserdata)

    public static func string(_ s: String) -> LuaValue { .string(LuaString(s)) }

    public var typeName: String {
        switch self {
        case .nil: return "nil"
        case .boolean: return "boolean"
        case .integer, .number: return "number"
        case .string: return "string"
        case .table: return "table"
        case .function: return "function"
        case .userdata(let u): return u.typeName
        }
    }
}

/// A Lua table converted to Swift.
public struct LuaTable: Hashable {
    public var array: [LuaValue]
    public var hash: [LuaValue: LuaValue]

    public init(array: [LuaValue] = [], hash: [LuaValue: LuaValue] = [:]) {
        self.array = array
        self.hash = hash
    }

    public subscript(key: String) -> LuaValue {
        get { hash[.string(key)] ?? .nil }
        set { hash[.string(key)] = newValue == .nil ? nil : newValue }
    }

    public subscript(index: Int) -> LuaValue {
        index >= 1 && index <= array.count ? array[index - 1] : (hash[.integer(Int64(index))] ?? .nil)
    }
}

/// A bound Swift object travelling through Lua (see `LuaClass`).
public struct LuaUserdata: Hashable {
    public let object: AnyObject
    public let typeName: String

    public init(object: AnyObject, typeName: String) {
        self.object = object
        self.typeName = typeName
    }

    public static func == (a: LuaUserdata, b: LuaUserdata) -> Bool { a.object === b.object }
    public func hash(into h: inout Hasher) { h.combine(ObjectIdentifier(object)) }
}

/// Limits on converting Lua tables to Swift.
public struct LuaConversionOptions: Sendable {
    /// Nesting deeper than this is an error (also the guard against stack exhaustion).
    public var maxDepth: Int
    public init(maxDepth: Int = LuaConverter.maxDepth) { self.maxDepth = maxDepth }
}

extension LuaValue {
    /// Reads the value at `index` without running any metamethod.
    static func read(at index: Int32, in L: OpaquePointer, options: LuaConversionOptions) throws -> LuaValue {
        var path: Set<UnsafeRawPointer> = []
        return try read(at: lua_absindex(L, index), in: L, options: options, depth: 0, path: &path)
    }

    private static func read(at index: Int32, in L: OpaquePointer, options: LuaConversionOptions,
                             depth: Int, path: inout Set<UnsafeRawPointer>) throws -> LuaValue {
        switch lua_type(L, index) {
        case LUA_TNIL, LUA_TNONE:
            return .nil
        case LUA_TBOOLEAN:
            return .boolean(lua_toboolean(L, index) != 0)
        case LUA_TNUMBER:
            if lua_isinteger(L, index) != 0 { return .integer(lua_tointegerx(L, index, nil)) }
            return .number(lua_tonumberx(L, index, nil))
        case LUA_TSTRING:
            var len = 0
            let p = gwlua_tolstring(L, index, &len)
            return .string(LuaString(bytes: p.map {
                Array(UnsafeRawBufferPointer(start: $0, count: len).bindMemory(to: UInt8.self))
            } ?? []))
        case LUA_TTABLE:
            return .table(try readTable(at: index, in: L, options: options, depth: depth, path: &path))
        case LUA_TFUNCTION:
            if let f = LuaFunction.at(index, in: L) { return .function(f) }
            throw LuaError.conversion("cannot convert a Lua function to a Swift value")
        case LUA_TUSERDATA:
            if let u = LuaObjectSlot.userdata(at: index, in: L) { return .userdata(u) }
            throw LuaError.conversion("cannot convert \(LuaCall(state: L).typeName(at: index)) to a Swift value")
        default:
            throw LuaError.conversion("cannot convert a \(LuaCall(state: L).typeName(at: index)) to a Swift value")
        }
    }

    private static func readTable(at index: Int32, in L: OpaquePointer, options: LuaConversionOptions,
                                  depth: Int, path: inout Set<UnsafeRawPointer>) throws -> LuaTable {
        guard depth < options.maxDepth else {
            throw LuaError.conversion("table nesting is deeper than \(options.maxDepth) levels")
        }
        guard let identity = lua_topointer(L, index) else { return LuaTable() }
        guard path.insert(identity).inserted else {
            throw LuaError.conversion("table contains a cycle (a table that contains itself)")
        }
        defer { path.remove(identity) }
        if lua_checkstack(L, 3) == 0 { throw LuaError.conversion("stack overflow converting table") }

        var table = LuaTable()
        let n = Int(lua_rawlen(L, index))
        table.array.reserveCapacity(n)
        for i in 0..<n {
            lua_rawgeti(L, index, lua_Integer(i + 1))
            defer { gwlua_pop(L, 1) }
            table.array.append(try read(at: lua_gettop(L), in: L, options: options, depth: depth + 1, path: &path))
        }
        lua_pushnil(L)
        while lua_next(L, index) != 0 {
            // key at -2, value at -1
            if lua_isinteger(L, -2) != 0 {
                let k = lua_tointegerx(L, -2, nil)
                if k >= 1 && k <= n {
                    gwlua_pop(L, 1)
                    continue
                }
            }
            let top = lua_gettop(L)
            let key: LuaValue
            let value: LuaValue
            do {
                key = try read(at: top - 1, in: L, options: options, depth: depth + 1, path: &path)
                value = try read(at: top, in: L, options: options, depth: depth + 1, path: &path)
            } catch {
                gwlua_pop(L, 2)
                throw error
            }
            table.hash[key] = value
            gwlua_pop(L, 1)
        }
        return table
    }

    /// Pushes the value; tables are built fresh.
    func push(onto L: OpaquePointer, depth: Int = 0) throws {
        if lua_checkstack(L, 3) == 0 { throw LuaError.conversion("stack overflow pushing value") }
        switch self {
        case .nil: lua_pushnil(L)
        case .boolean(let b): lua_pushboolean(L, b ? 1 : 0)
        case .integer(let i): lua_pushinteger(L, i)
        case .number(let d): lua_pushnumber(L, d)
        case .string(let s): LuaCall(state: L).push(bytes: s.bytes)
        case .function(let f): f.push(onto: L)
        case .userdata(let u):
            try LuaObjectSlot.push(u, onto: L)
        case .table(let t):
            guard depth < LuaConverter.maxDepth else {
                throw LuaError.conversion("table nesting is deeper than \(LuaConverter.maxDepth) levels")
            }
            lua_createtable(L, Int32(clamping: t.array.count), Int32(clamping: t.hash.count))
            for (i, v) in t.array.enumerated() {
                try v.push(onto: L, depth: depth + 1)
                lua_rawseti(L, -2, lua_Integer(i + 1))
            }
            for (k, v) in t.hash {
                if case .nil = k { continue }
                if case .number(let d) = k, d.isNaN { continue }
                try k.push(onto: L, depth: depth + 1)
                try v.push(onto: L, depth: depth + 1)
                lua_rawset(L, -3)
            }
        }
    }
}

extension LuaValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByNilLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    public init(stringLiteral value: String) { self = .string(LuaString(value)) }
    public init(integerLiteral value: Int64) { self = .integer(value) }
    public init(floatLiteral value: Double) { self = .number(value) }
    public init(booleanLiteral value: Bool) { self = .boolean(value) }
    public init(nilLiteral: ()) { self = .nil }
    public init(arrayLiteral elements: LuaValue...) { self = .table(LuaTable(array: elements)) }
    public init(dictionaryLiteral elements: (LuaValue, LuaValue)...) {
        self = .table(LuaTable(hash: Dictionary(elements, uniquingKeysWith: { $1 })))
    }
}

/// What `print` would show for scalars; tables, functions and objects by kind.
extension LuaValue: CustomStringConvertible {
    public var description: String {
        switch self {
        case .nil: return "nil"
        case .boolean(let b): return b ? "true" : "false"
        case .integer(let i): return String(i)
        case .number(let d): return String(d)
        case .string(let s): return s.string
        case .table: return "table"
        case .function(let f): return "function: \(f.name)"
        case .userdata(let u): return u.typeName
        }
    }
}
