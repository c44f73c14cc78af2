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
        defer { encoder.handBack(to: state) }
        do { try encoder.encode(at: 1, depth: 0) } catch let failure as LuaJSONEncoder.Failure { throw failure.error }
        call.push(bytes: encoder.output.elements)
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

/// Errors from json.encode / json.decode, positioned at the caller's line.
struct JSONError: Error, CustomStringConvertible {
    let description: String
}

// MARK: - Encoding

struct LuaJSONEncoder {
    let L: OpaquePointer
    let pretty: Bool
    // The working buffers, stored in the encoder itself while it runs (an accessor
    // into a `Buffers` value cost a call per append).
    var output: JSONOutput
    var visiting: RawBuffer<UnsafeRawPointer>
    var keys: RawBuffer<(key: UnsafeBufferPointer<UInt8>, slot: Int32)>
    static let maxDepth = LuaConverter.maxDepth
    /// Objects with more keys than this are sorted by the standard sort.
    static let insertionSortLimit = 32

    /// The encoder's working buffers, reused from one json.encode to the next (as
    /// cjson keeps its buffer): allocations per call were a fifth of a small encode.
    /// Unchecked: the pointers in them are meaningful during one encode only, and the
    /// buffers are emptied before they are handed on.
    struct Buffers: @unchecked Sendable {
        var output = JSONOutput(capacity: 256)
        /// The tables being encoded, root first (short: capped at `maxDepth`), for cycles.
        var visiting = RawBuffer<UnsafeRawPointer>(capacity: 16)
        /// The keys of the objects being encoded, each with its value's stack slot; each
        /// table uses the tail it appended.
        var keys = RawBuffer<(key: UnsafeBufferPointer<UInt8>, slot: Int32)>(capacity: 32)

        /// Frees the storage; the value must not be used after.
        func release() {
            output.release()
            visiting.release()
            keys.release()
        }
    }

    /// Hands the buffers, emptied, to the state's next encode; frees the output
    /// instead when it grew past 1 MiB. The encoder is done with them.
    mutating func handBack(to state: LuaState?) {
        output.count = 0
        // Each table pops what it pushed: these are empty unless an error cut the encode short.
        visiting.count = 0
        keys.count = 0
        let buffers = Buffers(output: output, visiting: visiting, keys: keys)
        guard let state, output.capacity <= 1 << 20 else {
            buffers.release()
            return
        }
        state.jsonScratch = buffers
    }

    /// Where an encode error happened: each table it leaves on its way out adds
    /// its key or index, so the path costs nothing while nothing fails.
    struct Failure: Error {
        let message: String
        /// Innermost first.
        var path: [PathElement] = []

        enum PathElement {
            case key(String)
            case index(Int)
        }

        var error: JSONError { JSONError(description: "json.encode: \(message) at \(pathText)") }

        var pathText: String {
            var s = "$"
            for e in path.reversed() {
                switch e {
                case .key(let k): s += Failure.isIdentifier(k) ? ".\(k)" : "[\"\(k)\"]"
                case .index(let i): s += "[\(i)]"
                }
            }
            return s
        }

        static func isIdentifier(_ s: String) -> Bool {
            guard let f = s.utf8.first, !(f >= 48 && f <= 57) else { return false }
            return s.utf8.allSatisfy { ($0 >= 97 && $0 <= 122) || ($0 >= 65 && $0 <= 90) || ($0 >= 48 && $0 <= 57) || $0 == 95 }
        }
    }

    init(L: OpaquePointer, pretty: Bool, buffers: Buffers) {
        self.L = L
        self.pretty = pretty
        output = buffers.output
        visiting = buffers.visiting
        keys = buffers.keys
    }

    private func fail(_ message: String) -> Failure { Failure(message: message) }

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
        output.reverse(from: start)
    }

    /// Encodes the value at `index`, inside `depth` tables.
    mutating func encode(at index: Int32, depth: Int) throws {
        if gwlua_overlimit(L, output.count) != 0 { throw LuaError.message("not enough memory") }
        switch lua_type(L, index) {
        case LUA_TNIL:
            output.append("null")
        case LUA_TBOOLEAN:
            output.append(lua_toboolean(L, index) != 0 ? "true" : "false")
        case LUA_TNUMBER:
            if lua_isinteger(L, index) != 0 {
                appendInteger(lua_tointegerx(L, index, nil))
            } else {
                let d = lua_tonumberx(L, index, nil)
                guard d.isFinite else { throw fail("cannot encode \(d) (JSON has no NaN or infinity)") }
                var text = d.description
                text.withUTF8 { output.append($0) }
            }
        case LUA_TSTRING:
            var len = 0
            guard let p = gwlua_tolstring(L, index, &len) else { return }
            try appendString(UnsafeRawBufferPointer(start: p, count: len).bindMemory(to: UInt8.self))
        case LUA_TTABLE:
            try encodeTable(at: lua_absindex(L, index), depth: depth)
        case LUA_TUSERDATA where JSONModule.isNull(L, index):
            output.append("null")
        default:
            throw fail("cannot encode a \(LuaCall(state: L).typeName(at: index)) value")
        }
    }

    private mutating func appendString(_ bytes: UnsafeBufferPointer<UInt8>) throws {
        // Nearly every string (every key) needs no escape: checked a word at a time
        // and copied in one go.
        if JSONOutput.isPlain(bytes) {
            output.appendQuoted(bytes)
            return
        }
        // Validates UTF-8 as it copies: JSON text must be UTF-8. Runs that need no
        // escape are found eight bytes at a time and copied whole.
        output.append(UInt8(ascii: "\""))
        let n = bytes.count
        guard let base = bytes.baseAddress else {
            output.append(UInt8(ascii: "\""))
            return
        }
        var i = 0
        var run = 0
        while i < n {
            while i + 8 <= n && JSONOutput.isPlain(UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)) { i += 8 }
            guard i < n else { break }
            let b = base[i]
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
            if i > run { output.append(UnsafeBufferPointer(start: base + run, count: i - run)) }
            output.append(92)
            switch b {
            case UInt8(ascii: "\""): output.append(34)
            case UInt8(ascii: "\\"): output.append(92)
            case 0x0A: output.append(UInt8(ascii: "n"))
            case 0x0D: output.append(UInt8(ascii: "r"))
            case 0x09: output.append(UInt8(ascii: "t"))
            case 0x08: output.append(UInt8(ascii: "b"))
            case 0x0C: output.append(UInt8(ascii: "f"))
            default:
                let hex: StaticString = "0123456789abcdef"
                output.append(UInt8(ascii: "u"))
                output.append(48)
                output.append(48)
                output.append(hex.utf8Start[Int(b >> 4)])
                output.append(hex.utf8Start[Int(b & 15)])
            }
            i += 1
            run = i
        }
        if n > run { output.append(UnsafeBufferPointer(start: base + run, count: n - run)) }
        output.append(UInt8(ascii: "\""))
    }

    /// Sorts `keys[first...]` by their bytes, comparing first bytes before calling
    /// memcmp: an object's handful of keys by insertion sort, a big table's by the
    /// standard sort (insertion sort is quadratic: 100,000 keys would take minutes).
    private mutating func sortKeys(from first: Int) {
        keys.withBuffer { all in
            func less(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Bool {
                guard let x = a.baseAddress, let y = b.baseAddress, !a.isEmpty, !b.isEmpty else { return a.count < b.count }
                if x.pointee != y.pointee { return x.pointee < y.pointee }
                let c = memcmp(x, y, min(a.count, b.count))
                return c != 0 ? c < 0 : a.count < b.count
            }
            guard all.count - first <= LuaJSONEncoder.insertionSortLimit else {
                var tail = UnsafeMutableBufferPointer(rebasing: all[first...])
                tail.sort { less($0.key, $1.key) }
                return
            }
            for i in (first + 1)..<all.count {
                let item = all[i]
                var j = i
                while j > first && less(item.key, all[j - 1].key) {
                    all[j] = all[j - 1]
                    j -= 1
                }
                all[j] = item
            }
        }
    }

    @inline(__always) private mutating func newline(_ depth: Int) {
        guard pretty else { return }
        output.append(10)
        for _ in 0..<depth * 2 { output.append(UInt8(ascii: " ")) }
    }

    private mutating func encodeTable(at index: Int32, depth: Int) throws {
        guard depth < LuaJSONEncoder.maxDepth else { throw fail("nesting deeper than \(LuaJSONEncoder.maxDepth) levels") }
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
            keys.removeLast(keys.count - first)
            lua_settop(L, base)
        }
        var integerCount = 0
        var maxInteger: Int64 = 0
        // Stack slots known to be free: each string key keeps two, the traversal one more.
        var room: Int32 = 0
        lua_pushnil(L)
        while lua_next(L, index) != 0 {
            switch lua_type(L, -2) {
            case LUA_TSTRING:
                if room < 3 {
                    guard lua_checkstack(L, 48) != 0 else { throw fail("stack overflow") }
                    room = 48
                }
                room -= 2
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
                lua_rawgeti(L, index, lua_Integer(i))
                do { try encode(at: -1, depth: depth + 1) } catch var failure as Failure {
                    failure.path.append(.index(i))
                    throw failure
                }
                gwlua_pop(L, 1)
            }
            if integerCount > 0 { newline(depth) }
            output.append(UInt8(ascii: "]"))
            return
        }
        if stringKeys > 1 { sortKeys(from: first) }
        output.append(UInt8(ascii: "{"))
        for n in 0..<stringKeys {
            let (key, slot) = keys[first + n]
            if n > 0 { output.append(UInt8(ascii: ",")) }
            newline(depth + 1)
            do {
                try appendString(key)
                output.append(UInt8(ascii: ":"))
                if pretty { output.append(UInt8(ascii: " ")) }
                try encode(at: slot, depth: depth + 1)
            } catch var failure as Failure {
                failure.path.append(.key(String(decoding: key, as: UTF8.self)))
                throw failure
            }
        }
        if stringKeys > 0 { newline(depth) }
        output.append(UInt8(ascii: "}"))
    }
}

/// A growable run of plain values in storage its owner manages: json.encode's
/// output and its stacks. Appends check the capacity only (an array's also checked
/// that its storage was unique on every change), emptying is setting `count`, and
/// the owner keeps it from one encode to the next and frees it with `release`.
struct RawBuffer<Element: BitwiseCopyable> {
    private(set) var base: UnsafeMutablePointer<Element>
    private(set) var capacity: Int
    var count = 0

    init(capacity: Int) {
        base = .allocate(capacity: capacity)
        self.capacity = capacity
    }

    /// Frees the storage; the value must not be used after.
    func release() { base.deallocate() }

    @inline(__always) mutating func reserve(_ extra: Int) {
        if count + extra > capacity { grow(to: count + extra) }
    }

    private mutating func grow(to needed: Int) {
        var size = max(capacity * 2, 16)
        while size < needed { size *= 2 }
        let bigger = UnsafeMutablePointer<Element>.allocate(capacity: size)
        bigger.moveInitialize(from: base, count: count)
        base.deallocate()
        base = bigger
        capacity = size
    }

    @inline(__always) mutating func append(_ element: Element) {
        reserve(1)
        (base + count).initialize(to: element)
        count += 1
    }

    @inline(__always) mutating func append(_ elements: UnsafeBufferPointer<Element>) {
        guard let source = elements.baseAddress else { return }
        reserve(elements.count)
        (base + count).initialize(from: source, count: elements.count)
        count += elements.count
    }

    @inline(__always) mutating func removeLast(_ n: Int = 1) { count -= n }

    @inline(__always) subscript(i: Int) -> Element { base[i] }

    var elements: UnsafeBufferPointer<Element> { UnsafeBufferPointer(start: base, count: count) }

    func contains(_ element: Element) -> Bool where Element: Equatable {
        elements.contains(element)
    }

    func withBuffer<T>(_ body: (UnsafeMutableBufferPointer<Element>) -> T) -> T {
        body(UnsafeMutableBufferPointer(start: base, count: count))
    }
}

/// json.encode's output.
typealias JSONOutput = RawBuffer<UInt8>

extension RawBuffer<UInt8> {
    mutating func append(_ text: StaticString) {
        append(UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    /// Reverses the bytes from `start` to the end (digits written lowest first).
    mutating func reverse(from start: Int) {
        var digits = UnsafeMutableBufferPointer(start: base + start, count: count - start)
        digits.reverse()
    }

    /// `bytes` between quotes, copied as they are.
    @inline(__always) mutating func appendQuoted(_ bytes: UnsafeBufferPointer<UInt8>) {
        reserve(bytes.count + 2)
        base[count] = UInt8(ascii: "\"")
        if let source = bytes.baseAddress { (base + count + 1).update(from: source, count: bytes.count) }
        base[count + 1 + bytes.count] = UInt8(ascii: "\"")
        count += bytes.count + 2
    }

    /// Whether no byte of `bytes` needs attention in a JSON string, a word at a time:
    /// a short string is read padded with 'a's, a long one's tail as the last
    /// (overlapping) eight bytes.
    @inline(__always) static func isPlain(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let p = bytes.baseAddress else { return true }
        let n = bytes.count
        if n < 8 {
            var word: UInt64 = 0x6161_6161_6161_6161
            for i in 0..<n {
                let shift = UInt64(i * 8)
                word = (word & ~(0xFF << shift)) | (UInt64(p[i]) << shift)
            }
            return isPlain(word)
        }
        var i = 0
        while i + 8 <= n {
            guard isPlain(UnsafeRawPointer(p + i).loadUnaligned(as: UInt64.self)) else { return false }
            i += 8
        }
        return i == n || isPlain(UnsafeRawPointer(p + n - 8).loadUnaligned(as: UInt64.self))
    }

    /// Whether none of these eight bytes needs attention in a JSON string: none is
    /// below 0x20, 0x7F or above, '"' or '\\' (the usual tests for a byte below a
    /// value and for a byte equal to one, on all eight at once).
    @inline(__always) static func isPlain(_ w: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
        func hasZero(_ x: UInt64) -> UInt64 { (x &- ones) & ~x & highs }
        let below = (w &- ones &* 0x20) & ~w & highs
        let special = hasZero(w ^ (ones &* 0x22)) | hasZero(w ^ (ones &* 0x5C)) | hasZero(w ^ (ones &* 0x7F))
        return (below | special | (w & highs)) == 0
    }
}
