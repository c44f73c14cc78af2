import CLua
import Synchronization
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

    /// Pushes the metatable that marks tables as JSON arrays (see `json.array`), so `{}` encodes as `[]`.
    public static func pushArrayMarker(_ L: OpaquePointer) {
        if lua_rawgetp(L, gwlua_registryindex(), arrayMarkerKey) == LUA_TTABLE { return }
        gwlua_pop(L, 1)
        _ = luaL_newmetatable(L, arrayMarkerName)  // __name is all it needs
        lua_pushvalue(L, -1)
        lua_rawsetp(L, gwlua_registryindex(), arrayMarkerKey)
    }

    static func isArrayMarked(_ L: OpaquePointer, _ index: Int32) -> Bool {
        guard lua_getmetatable(L, index) != 0 else { return false }
        lua_rawgetp(L, gwlua_registryindex(), arrayMarkerKey)
        defer { gwlua_pop(L, 2) }
        return lua_rawequal(L, -1, -2) != 0
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
        pushArrayMarker(call.L)
        lua_setmetatable(call.L, -2)
        return 1
    }

    static func encode(_ call: LuaCall) throws -> Int32 {
        try call.checkAny(1)
        let pretty = try encodeOptions.read(call, at: 2).bool("pretty") ?? false
        lua_settop(call.L, 1)
        var encoder = LuaJSONEncoder(L: call.L, pretty: pretty, buffers: LuaJSONEncoder.spare.withLock { $0.take() ?? .init() })
        defer { LuaJSONEncoder.keep(encoder.buffers) }
        try encoder.encode(at: 1)
        call.push(bytes: encoder.buffers.output)
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
        JSONModule.pushArrayMarker(L)
        lua_setmetatable(L, -2)
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

/// Errors from json.encode / json.decode, positioned at the caller's line.
struct JSONError: Error, CustomStringConvertible {
    let description: String
}

// MARK: - Encoding

struct LuaJSONEncoder {
    let L: OpaquePointer
    let pretty: Bool
    var buffers: Buffers
    static let maxDepth = LuaConverter.maxDepth

    /// The encoder's working arrays, reused from one json.encode to the next (as
    /// cjson keeps its buffer): four allocations a call were a fifth of a small encode.
    /// Unchecked: the pointers in it are meaningful during one encode only, and the
    /// arrays are emptied before the buffers are handed on.
    struct Buffers: @unchecked Sendable {
        var output: [UInt8] = []
        /// The tables being encoded, root first (short: capped at `maxDepth`), for cycles.
        var visiting: [UnsafeRawPointer] = []
        /// Where the encoder is, for error messages; keys point into Lua's own strings,
        /// which the tables being encoded keep alive. Text is made only for an error.
        var path: [PathElement] = []
        /// The keys of the objects being encoded, each with its value's stack slot; each
        /// table uses the tail it appended.
        var keys: [(key: UnsafeBufferPointer<UInt8>, slot: Int32)] = []
    }

    /// One spare set of buffers for the process (states on other threads make their own).
    nonisolated(unsafe) static let spare = Mutex<Buffers?>(Buffers())

    /// Returns `buffers` for the next encode, unless the output grew past 1 MiB.
    static func keep(_ buffers: Buffers) {
        guard buffers.output.capacity <= 1 << 20 else { return }
        var b = buffers
        b.output.removeAll(keepingCapacity: true)
        b.visiting.removeAll(keepingCapacity: true)
        b.path.removeAll(keepingCapacity: true)
        b.keys.removeAll(keepingCapacity: true)
        spare.withLock { $0 = b }
    }

    var output: [UInt8] {
        get { buffers.output }
        _modify { yield &buffers.output }
    }
    var visiting: [UnsafeRawPointer] {
        get { buffers.visiting }
        _modify { yield &buffers.visiting }
    }
    var path: [PathElement] {
        get { buffers.path }
        _modify { yield &buffers.path }
    }
    var keys: [(key: UnsafeBufferPointer<UInt8>, slot: Int32)] {
        get { buffers.keys }
        _modify { yield &buffers.keys }
    }

    enum PathElement {
        case key(UnsafeBufferPointer<UInt8>)
        case index(Int)
    }

    init(L: OpaquePointer, pretty: Bool, buffers: Buffers) {
        self.L = L
        self.pretty = pretty
        self.buffers = buffers
    }

    var pathText: String {
        var s = "$"
        for e in path {
            switch e {
            case .key(let bytes):
                let k = String(decoding: bytes, as: UTF8.self)
                s += isIdentifier(k) ? ".\(k)" : "[\"\(k)\"]"
            case .index(let i): s += "[\(i)]"
            }
        }
        return s
    }

    private func isIdentifier(_ s: String) -> Bool {
        guard let f = s.utf8.first, !(f >= 48 && f <= 57) else { return false }
        return s.utf8.allSatisfy { ($0 >= 97 && $0 <= 122) || ($0 >= 65 && $0 <= 90) || ($0 >= 48 && $0 <= 57) || $0 == 95 }
    }

    private func fail(_ message: String) -> JSONError {
        JSONError(description: "json.encode: \(message) at \(pathText)")
    }

    /// Digits of `value`, written in place (no String per number).
    private mutating func appendInteger(_ value: Int64) {
        if value == 0 {
            output.append(48)
            return
        }
        if value < 0 { output.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        let start = output.count
        while magnitude > 0 {
            output.append(UInt8(magnitude % 10) + 48)
            magnitude /= 10
        }
        output[start...].reverse()
    }

    mutating func encode(at index: Int32) throws {
        if gwlua_overlimit(L, output.count) != 0 { throw LuaError.message("not enough memory") }
        switch lua_type(L, index) {
        case LUA_TNIL:
            output.append(contentsOf: "null".utf8)
        case LUA_TBOOLEAN:
            output.append(contentsOf: (lua_toboolean(L, index) != 0 ? "true" : "false").utf8)
        case LUA_TNUMBER:
            if lua_isinteger(L, index) != 0 {
                appendInteger(lua_tointegerx(L, index, nil))
            } else {
                let d = lua_tonumberx(L, index, nil)
                guard d.isFinite else { throw fail("cannot encode \(d) (JSON has no NaN or infinity)") }
                output.append(contentsOf: d.description.utf8)
            }
        case LUA_TSTRING:
            var len = 0
            guard let p = gwlua_tolstring(L, index, &len) else { return }
            try appendString(UnsafeRawBufferPointer(start: p, count: len).bindMemory(to: UInt8.self))
        case LUA_TTABLE:
            try encodeTable(at: lua_absindex(L, index))
        case LUA_TUSERDATA where JSONModule.isNull(L, index):
            output.append(contentsOf: "null".utf8)
        default:
            throw fail("cannot encode a \(LuaCall(state: L).typeName(at: index)) value")
        }
    }

    private mutating func appendString(_ bytes: UnsafeBufferPointer<UInt8>) throws {
        // Validates UTF-8 as it copies: JSON text must be UTF-8. Runs that need no
        // escape (most of every string) are copied whole.
        output.append(UInt8(ascii: "\""))
        var i = 0
        var run = 0
        let n = bytes.count
        while i < n {
            let b = bytes[i]
            if b >= 0x20 && b < 0x7F && b != UInt8(ascii: "\"") && b != UInt8(ascii: "\\") {
                i += 1
                continue
            }
            if b >= 0x80 {
                guard let width = utf8SequenceLength(bytes, at: i) else {
                    throw fail("string is not valid UTF-8 (byte \(i + 1))")
                }
                i += width
                continue
            }
            if i > run { output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[run..<i])) }
            switch b {
            case UInt8(ascii: "\""): output.append(contentsOf: [92, 34])
            case UInt8(ascii: "\\"): output.append(contentsOf: [92, 92])
            case 0x0A: output.append(contentsOf: [92, UInt8(ascii: "n")])
            case 0x0D: output.append(contentsOf: [92, UInt8(ascii: "r")])
            case 0x09: output.append(contentsOf: [92, UInt8(ascii: "t")])
            case 0x08: output.append(contentsOf: [92, UInt8(ascii: "b")])
            case 0x0C: output.append(contentsOf: [92, UInt8(ascii: "f")])
            default:
                let hex = Array("0123456789abcdef".utf8)
                output.append(contentsOf: [92, UInt8(ascii: "u"), 48, 48, hex[Int(b >> 4)], hex[Int(b & 15)]])
            }
            i += 1
            run = i
        }
        if n > run { output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[run..<n])) }
        output.append(UInt8(ascii: "\""))
    }

    private mutating func newline(_ depth: Int) {
        guard pretty else { return }
        output.append(10)
        output.append(contentsOf: repeatElement(UInt8(ascii: " "), count: depth * 2))
    }

    private mutating func encodeTable(at index: Int32) throws {
        guard path.count < LuaJSONEncoder.maxDepth else { throw fail("nesting deeper than \(LuaJSONEncoder.maxDepth) levels") }
        guard let identity = lua_topointer(L, index) else { return }
        guard !visiting.contains(identity) else { throw fail("cannot encode a table that contains itself") }
        visiting.append(identity)
        defer { visiting.removeLast() }
        if lua_checkstack(L, 4) == 0 { throw fail("stack overflow") }

        // Classify: all keys strings -> object; keys exactly 1..n -> array. An object's
        // key/value pairs stay on the stack as they are found (no second lookup per
        // key); its keys are kept as pointers into Lua's strings, sorted in `keys`.
        let base = lua_gettop(L)
        let first = keys.count
        defer {
            keys.removeSubrange(first...)
            lua_settop(L, base)
        }
        var integerCount = 0
        var maxInteger: Int64 = 0
        lua_pushnil(L)
        while lua_next(L, index) != 0 {
            switch lua_type(L, -2) {
            case LUA_TSTRING:
                guard lua_checkstack(L, 3) != 0 else { throw fail("stack overflow") }
                var len = 0
                let p = gwlua_tolstring(L, -2, &len)
                keys.append((UnsafeRawBufferPointer(start: p, count: len).bindMemory(to: UInt8.self), lua_gettop(L)))
                lua_pushvalue(L, -2)  // the pair stays; a copy of the key goes on with the traversal
            case LUA_TNUMBER where lua_isinteger(L, -2) != 0 && lua_tointegerx(L, -2, nil) >= 1:
                integerCount += 1
                maxInteger = max(maxInteger, lua_tointegerx(L, -2, nil))
                gwlua_pop(L, 1)
            default:
                throw fail("cannot encode a table with a \(LuaCall(state: L).typeName(at: -2)) key")
            }
        }
        let stringKeys = keys.count - first
        let depth = path.count
        if stringKeys > 0 && integerCount > 0 {
            throw fail("cannot encode a table with both string and integer keys")
        }
        if stringKeys == 0 && (integerCount > 0 || JSONModule.isArrayMarked(L, index)) {
            guard maxInteger == Int64(integerCount) else {
                throw fail("cannot encode a sparse array (\(integerCount) values, highest index \(maxInteger))")
            }
            output.append(UInt8(ascii: "["))
            for i in 1...max(1, integerCount) where integerCount > 0 {
                if i > 1 { output.append(UInt8(ascii: ",")) }
                newline(depth + 1)
                path.append(.index(i))
                lua_rawgeti(L, index, lua_Integer(i))
                try encode(at: -1)
                gwlua_pop(L, 1)
                path.removeLast()
            }
            if integerCount > 0 { newline(depth) }
            output.append(UInt8(ascii: "]"))
            return
        }
        if stringKeys > 1 {
            keys[first...].sort { a, b in
                let n = min(a.key.count, b.key.count)
                let c: Int32
                if n > 0, let x = a.key.baseAddress, let y = b.key.baseAddress { c = memcmp(x, y, n) } else { c = 0 }
                return c != 0 ? c < 0 : a.key.count < b.key.count
            }
        }
        output.append(UInt8(ascii: "{"))
        for n in 0..<stringKeys {
            let (key, slot) = keys[first + n]
            if n > 0 { output.append(UInt8(ascii: ",")) }
            newline(depth + 1)
            path.append(.key(key))
            try appendString(key)
            output.append(UInt8(ascii: ":"))
            if pretty { output.append(UInt8(ascii: " ")) }
            try encode(at: slot)
            path.removeLast()
        }
        if stringKeys > 0 { newline(depth) }
        output.append(UInt8(ascii: "}"))
    }
}
