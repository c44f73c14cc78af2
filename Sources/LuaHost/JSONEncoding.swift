import CLua

/// json.encode's writer: walks a Lua value on the stack (raw reads, keys sorted,
/// cycles and depth checked) and writes JSON into a byte buffer it owns while it runs.
struct LuaJSONEncoder: ~Copyable {
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
    struct Buffers: ~Copyable, @unchecked Sendable {
        var output = JSONOutput(capacity: 256)
        /// The tables being encoded, root first (short: capped at `maxDepth`), for cycles.
        var visiting = RawBuffer<UnsafeRawPointer>(capacity: 16)
        /// The keys of the objects being encoded, each with its value's stack slot; each
        /// table uses the tail it appended.
        var keys = RawBuffer<(key: UnsafeBufferPointer<UInt8>, slot: Int32)>(capacity: 32)

    }

    /// Hands the buffers, emptied, to the state's next encode; lets the output go
    /// (freed with the encoder) instead when it grew past 1 MiB.
    consuming func handBack(to state: LuaState?) {
        output.count = 0
        // Each table pops what it pushed: these are empty unless an error cut the encode short.
        visiting.count = 0
        keys.count = 0
        guard let state, output.capacity <= 1 << 20 else { return }
        state.jsonScratch = Buffers(output: output, visiting: visiting, keys: keys)
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

    init(L: OpaquePointer, pretty: Bool, buffers: consuming Buffers) {
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
