import CLua

/// The `json` Lua module: encode (stable key order, pretty printing, `json.null`,
/// `json.array`) and decode (integers stay integers; errors give a byte offset).
public enum JSONModule {
    static let nullName = "json.null"
    static let arrayMarkerName = "json.array"

    public static func register(in state: LuaState) throws {
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

    /// The metatable that marks a table as a JSON array (so `{}` encodes as `[]`).
    /// Pushes the metatable that marks tables as JSON arrays (see `json.array`).
    public static func pushArrayMarker(_ L: OpaquePointer) {
        _ = luaL_newmetatable(L, arrayMarkerName)  // __name is all it needs
    }

    static func isArrayMarked(_ L: OpaquePointer, _ index: Int32) -> Bool {
        guard lua_getmetatable(L, index) != 0 else { return false }
        gwlua_getmetatable(L, arrayMarkerName)
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
        var pretty = false
        if call.count >= 2 && call.type(at: 2) != .nil {
            try call.checkTable(2)
            call.pushRawField(2, "pretty")
            pretty = lua_toboolean(call.L, -1) != 0
            gwlua_pop(call.L, 1)
        }
        lua_settop(call.L, 1)
        var encoder = LuaJSONEncoder(L: call.L, pretty: pretty)
        try encoder.encode(at: 1)
        call.push(bytes: encoder.output)
        return 1
    }

    static func decode(_ call: LuaCall) throws -> Int32 {
        guard call.type(at: 1) == .string else { throw call.typeError(1, expected: "string") }
        var len = 0
        guard let p = gwlua_tolstring(call.L, 1, &len) else { throw call.typeError(1, expected: "string") }
        let buffer = UnsafeRawBufferPointer(start: p, count: len).bindMemory(to: UInt8.self)
        var decoder = LuaJSONDecoder(L: call.L, input: buffer)
        try decoder.decodeDocument()
        return 1
    }
}

/// The length of the well-formed UTF-8 sequence starting at `i` (a lead byte of
/// 0x80 or more), or nil when it is not one (RFC 3629: no overlongs, surrogates
/// or values past U+10FFFF).
public func utf8SequenceLength(_ bytes: UnsafeBufferPointer<UInt8>, at i: Int) -> Int? {
    let b = bytes[i]
    let width: Int
    switch b {
    case 0xC2...0xDF: width = 2
    case 0xE0...0xEF: width = 3
    case 0xF0...0xF4: width = 4
    default: return nil
    }
    guard i + width <= bytes.count else { return nil }
    for k in 1..<width where bytes[i + k] & 0xC0 != 0x80 { return nil }
    let b1 = bytes[i + 1]
    if (b == 0xE0 && b1 < 0xA0) || (b == 0xED && b1 > 0x9F) || (b == 0xF0 && b1 < 0x90) || (b == 0xF4 && b1 > 0x8F) {
        return nil
    }
    return width
}

/// Errors from json.encode / json.decode, positioned at the caller's line.
struct JSONError: Error, CustomStringConvertible {
    let description: String
}

// MARK: - Encoding

struct LuaJSONEncoder {
    let L: OpaquePointer
    let pretty: Bool
    var output: [UInt8] = []
    private var visiting: Set<UnsafeRawPointer> = []
    private var path: [PathElement] = []
    static let maxDepth = 128

    enum PathElement {
        case key(String)
        case index(Int)
    }

    init(L: OpaquePointer, pretty: Bool) {
        self.L = L
        self.pretty = pretty
        output.reserveCapacity(256)
    }

    var pathText: String {
        var s = "$"
        for e in path {
            switch e {
            case .key(let k): s += isIdentifier(k) ? ".\(k)" : "[\"\(k)\"]"
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

    mutating func encode(at index: Int32) throws {
        if gwlua_overlimit(L, output.count) != 0 { throw LuaError.message("not enough memory") }
        switch lua_type(L, index) {
        case LUA_TNIL:
            output.append(contentsOf: "null".utf8)
        case LUA_TBOOLEAN:
            output.append(contentsOf: (lua_toboolean(L, index) != 0 ? "true" : "false").utf8)
        case LUA_TNUMBER:
            if lua_isinteger(L, index) != 0 {
                output.append(contentsOf: String(lua_tointegerx(L, index, nil)).utf8)
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
        // Validates UTF-8 as it copies: JSON text must be UTF-8.
        output.append(UInt8(ascii: "\""))
        var i = 0
        let n = bytes.count
        while i < n {
            let b = bytes[i]
            if b < 0x80 {
                switch b {
                case UInt8(ascii: "\""): output.append(contentsOf: [92, 34])
                case UInt8(ascii: "\\"): output.append(contentsOf: [92, 92])
                case 0x0A: output.append(contentsOf: [92, UInt8(ascii: "n")])
                case 0x0D: output.append(contentsOf: [92, UInt8(ascii: "r")])
                case 0x09: output.append(contentsOf: [92, UInt8(ascii: "t")])
                case 0x08: output.append(contentsOf: [92, UInt8(ascii: "b")])
                case 0x0C: output.append(contentsOf: [92, UInt8(ascii: "f")])
                case 0..<0x20, 0x7F:
                    let hex: [UInt8] = Array("0123456789abcdef".utf8)
                    output.append(contentsOf: [92, UInt8(ascii: "u"), 48, 48, hex[Int(b >> 4)], hex[Int(b & 15)]])
                default: output.append(b)
                }
                i += 1
                continue
            }
            guard let width = utf8SequenceLength(bytes, at: i) else {
                throw fail("string is not valid UTF-8 (byte \(i + 1))")
            }
            output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[i..<(i + width)]))
            i += width
        }
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
        guard visiting.insert(identity).inserted else { throw fail("cannot encode a table that contains itself") }
        defer { visiting.remove(identity) }
        if lua_checkstack(L, 4) == 0 { throw fail("stack overflow") }

        // Classify: all keys strings -> object; keys exactly 1..n -> array.
        var stringKeys: [(key: [UInt8], text: String)] = []
        var integerCount = 0
        var maxInteger: Int64 = 0
        lua_pushnil(L)
        while lua_next(L, index) != 0 {
            gwlua_pop(L, 1)
            switch lua_type(L, -1) {
            case LUA_TSTRING:
                var len = 0
                let p = gwlua_tolstring(L, -1, &len)
                let bytes = p.map { Array(UnsafeRawBufferPointer(start: $0, count: len).bindMemory(to: UInt8.self)) } ?? []
                stringKeys.append((bytes, String(decoding: bytes, as: UTF8.self)))
            case LUA_TNUMBER where lua_isinteger(L, -1) != 0 && lua_tointegerx(L, -1, nil) >= 1:
                integerCount += 1
                maxInteger = max(maxInteger, lua_tointegerx(L, -1, nil))
            default:
                let keyType = LuaCall(state: L).typeName(at: -1)
                gwlua_pop(L, 1)
                throw fail("cannot encode a table with a \(keyType) key")
            }
        }
        let depth = path.count
        if !stringKeys.isEmpty && integerCount > 0 {
            throw fail("cannot encode a table with both string and integer keys")
        }
        if stringKeys.isEmpty && (integerCount > 0 || JSONModule.isArrayMarked(L, index)) {
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
        stringKeys.sort { $0.key.lexicographicallyPrecedes($1.key) }
        output.append(UInt8(ascii: "{"))
        for (n, entry) in stringKeys.enumerated() {
            if n > 0 { output.append(UInt8(ascii: ",")) }
            newline(depth + 1)
            path.append(.key(entry.text))
            try entry.key.withUnsafeBufferPointer { try appendString($0) }
            output.append(UInt8(ascii: ":"))
            if pretty { output.append(UInt8(ascii: " ")) }
            entry.key.withUnsafeBufferPointer { buf in
                _ = buf.withMemoryRebound(to: CChar.self) { lua_pushlstring(L, $0.baseAddress, $0.count) }
            }
            lua_rawget(L, index)
            try encode(at: -1)
            gwlua_pop(L, 1)
            path.removeLast()
        }
        if !stringKeys.isEmpty { newline(depth) }
        output.append(UInt8(ascii: "}"))
    }
}

// MARK: - Decoding

struct LuaJSONDecoder {
    let L: OpaquePointer
    let input: UnsafeBufferPointer<UInt8>
    var position = 0
    var depth = 0
    static let maxDepth = 512
    private var scratch: [UInt8] = []

    init(L: OpaquePointer, input: UnsafeBufferPointer<UInt8>) {
        self.L = L
        self.input = input
    }

    /// Decodes one document and leaves its value on top of the stack.
    mutating func decodeDocument() throws {
        skipSpace()
        try decodeValue()
        skipSpace()
        if position < input.count { throw fail("unexpected \(describe(position)) after the JSON value") }
    }

    private func describe(_ at: Int) -> String {
        guard at < input.count else { return "end of input" }
        let b = input[at]
        if b >= 0x20 && b < 0x7F { return "character '\(Character(Unicode.Scalar(b)))'" }
        return "byte 0x\(String(b, radix: 16))"
    }

    private func fail(_ message: String, at: Int? = nil) -> JSONError {
        JSONError(description: "json.decode: \(message) at byte \((at ?? position) + 1)")
    }

    private mutating func skipSpace() {
        while position < input.count {
            switch input[position] {
            case 0x20, 0x09, 0x0A, 0x0D: position += 1
            default: return
            }
        }
    }

    private mutating func decodeValue() throws {
        guard position < input.count else { throw fail("unexpected end of input, expected a value") }
        if gwlua_overlimit(L, 0) != 0 { throw LuaError.message("not enough memory") }
        switch input[position] {
        case UInt8(ascii: "{"): try decodeObject()
        case UInt8(ascii: "["): try decodeArray()
        case UInt8(ascii: "\""): try decodeString()
        case UInt8(ascii: "t"):
            try literal("true")
            lua_pushboolean(L, 1)
        case UInt8(ascii: "f"):
            try literal("false")
            lua_pushboolean(L, 0)
        case UInt8(ascii: "n"):
            try literal("null")
            JSONModule.pushNull(L)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): try decodeNumber()
        default: throw fail("unexpected \(describe(position)), expected a value")
        }
    }

    private mutating func literal(_ word: StaticString) throws {
        let n = word.utf8CodeUnitCount
        let w = UnsafeBufferPointer(start: word.utf8Start, count: n)
        guard position + n <= input.count, input[position..<(position + n)].elementsEqual(w) else {
            throw fail("invalid literal, expected '\(word)'")
        }
        position += n
    }

    private mutating func enter() throws {
        depth += 1
        if depth > LuaJSONDecoder.maxDepth { throw fail("nesting deeper than \(LuaJSONDecoder.maxDepth) levels") }
        if lua_checkstack(L, 4) == 0 { throw fail("stack overflow") }
    }

    private mutating func decodeObject() throws {
        try enter()
        position += 1
        lua_createtable(L, 0, 4)
        skipSpace()
        if position < input.count && input[position] == UInt8(ascii: "}") {
            position += 1
            depth -= 1
            return
        }
        while true {
            skipSpace()
            guard position < input.count, input[position] == UInt8(ascii: "\"") else {
                throw fail("unexpected \(describe(position)), expected a string key")
            }
            try decodeString()
            skipSpace()
            guard position < input.count, input[position] == UInt8(ascii: ":") else {
                throw fail("unexpected \(describe(position)), expected ':'")
            }
            position += 1
            skipSpace()
            try decodeValue()
            lua_rawset(L, -3)
            skipSpace()
            guard position < input.count else { throw fail("unexpected end of input, expected ',' or '}'") }
            let c = input[position]
            position += 1
            if c == UInt8(ascii: "}") { break }
            if c != UInt8(ascii: ",") { throw fail("unexpected \(describe(position - 1)), expected ',' or '}'", at: position - 1) }
        }
        depth -= 1
    }

    private mutating func decodeArray() throws {
        try enter()
        position += 1
        lua_createtable(L, 4, 0)
        JSONModule.pushArrayMarker(L)
        lua_setmetatable(L, -2)
        skipSpace()
        if position < input.count && input[position] == UInt8(ascii: "]") {
            position += 1
            depth -= 1
            return
        }
        var i: lua_Integer = 0
        while true {
            skipSpace()
            try decodeValue()
            i += 1
            lua_rawseti(L, -2, i)
            skipSpace()
            guard position < input.count else { throw fail("unexpected end of input, expected ',' or ']'") }
            let c = input[position]
            position += 1
            if c == UInt8(ascii: "]") { break }
            if c != UInt8(ascii: ",") { throw fail("unexpected \(describe(position - 1)), expected ',' or ']'", at: position - 1) }
        }
        depth -= 1
    }

    private mutating func decodeNumber() throws {
        let start = position
        var isInteger = true
        if input[position] == UInt8(ascii: "-") { position += 1 }
        guard position < input.count, input[position] >= 48, input[position] <= 57 else {
            throw fail("invalid number, expected a digit")
        }
        if input[position] == 48 {
            position += 1
            if position < input.count, input[position] >= 48, input[position] <= 57 {
                throw fail("invalid number, leading zeros are not allowed")
            }
        } else {
            while position < input.count, input[position] >= 48, input[position] <= 57 { position += 1 }
        }
        if position < input.count, input[position] == UInt8(ascii: ".") {
            isInteger = false
            position += 1
            guard position < input.count, input[position] >= 48, input[position] <= 57 else {
                throw fail("invalid number, expected a digit after '.'")
            }
            while position < input.count, input[position] >= 48, input[position] <= 57 { position += 1 }
        }
        if position < input.count, input[position] | 0x20 == UInt8(ascii: "e") {
            isInteger = false
            position += 1
            if position < input.count, input[position] == UInt8(ascii: "+") || input[position] == UInt8(ascii: "-") {
                position += 1
            }
            guard position < input.count, input[position] >= 48, input[position] <= 57 else {
                throw fail("invalid number, expected a digit in the exponent")
            }
            while position < input.count, input[position] >= 48, input[position] <= 57 { position += 1 }
        }
        let text = UnsafeBufferPointer(rebasing: input[start..<position])
        if isInteger, let v = parseInteger(text) {
            lua_pushinteger(L, v)
            return
        }
        // Integers beyond 64 bits become floats, as Lua's own reader does.
        guard let d = Double(String(decoding: text, as: UTF8.self)) else { throw fail("invalid number", at: start) }
        lua_pushnumber(L, d)
    }

    private func parseInteger(_ text: UnsafeBufferPointer<UInt8>) -> Int64? {
        var negative = false
        var i = 0
        if text[0] == UInt8(ascii: "-") {
            negative = true
            i = 1
        }
        var value: Int64 = 0
        while i < text.count {
            let digit = Int64(text[i] - 48)
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (s, o2) = negative ? m.subtractingReportingOverflow(digit) : m.addingReportingOverflow(digit)
            if o1 || o2 { return nil }
            value = s
            i += 1
        }
        return value
    }

    private mutating func decodeString() throws {
        let start = position
        position += 1
        scratch.removeAll(keepingCapacity: true)
        var runStart = position
        while true {
            guard position < input.count else { throw fail("unterminated string", at: start) }
            let b = input[position]
            if b == UInt8(ascii: "\"") { break }
            if b < 0x20 { throw fail("control character in string (escape it)") }
            if b == UInt8(ascii: "\\") {
                scratch.append(contentsOf: UnsafeBufferPointer(rebasing: input[runStart..<position]))
                try decodeEscape()
                runStart = position
                continue
            }
            if b >= 0x80 {
                try skipUTF8()
                continue
            }
            position += 1
        }
        if scratch.isEmpty {
            let run = UnsafeBufferPointer(rebasing: input[runStart..<position])
            _ = run.withMemoryRebound(to: CChar.self) { lua_pushlstring(L, $0.baseAddress, $0.count) }
        } else {
            scratch.append(contentsOf: UnsafeBufferPointer(rebasing: input[runStart..<position]))
            scratch.withUnsafeBufferPointer { buf in
                _ = buf.withMemoryRebound(to: CChar.self) { lua_pushlstring(L, $0.baseAddress, $0.count) }
            }
        }
        position += 1
    }

    private mutating func skipUTF8() throws {
        guard let width = utf8SequenceLength(input, at: position) else { throw fail("invalid UTF-8 in string") }
        position += width
    }

    private mutating func decodeEscape() throws {
        let at = position
        position += 1
        guard position < input.count else { throw fail("unterminated string") }
        let c = input[position]
        position += 1
        switch c {
        case UInt8(ascii: "\""): scratch.append(34)
        case UInt8(ascii: "\\"): scratch.append(92)
        case UInt8(ascii: "/"): scratch.append(47)
        case UInt8(ascii: "b"): scratch.append(8)
        case UInt8(ascii: "f"): scratch.append(12)
        case UInt8(ascii: "n"): scratch.append(10)
        case UInt8(ascii: "r"): scratch.append(13)
        case UInt8(ascii: "t"): scratch.append(9)
        case UInt8(ascii: "u"):
            var scalar = try hex4()
            if scalar >= 0xD800 && scalar < 0xDC00 {
                guard position + 1 < input.count, input[position] == 92, input[position + 1] == UInt8(ascii: "u") else {
                    throw fail("unpaired surrogate in \\u escape", at: at)
                }
                position += 2
                let low = try hex4()
                guard low >= 0xDC00 && low < 0xE000 else { throw fail("invalid low surrogate in \\u escape", at: at) }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            } else if scalar >= 0xDC00 && scalar < 0xE000 {
                throw fail("unpaired surrogate in \\u escape", at: at)
            }
            guard let u = Unicode.Scalar(scalar) else { throw fail("invalid \\u escape", at: at) }
            scratch.append(contentsOf: u.utf8)
        default:
            throw fail("invalid escape '\\\(Character(Unicode.Scalar(c)))'", at: at)
        }
    }

    private mutating func hex4() throws -> UInt32 {
        guard position + 4 <= input.count else { throw fail("truncated \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = input[position]
            let d: UInt32
            switch c {
            case 48...57: d = UInt32(c - 48)
            case 97...102: d = UInt32(c - 87)
            case 65...70: d = UInt32(c - 55)
            default: throw fail("invalid hex digit in \\u escape")
            }
            v = v << 4 | d
            position += 1
        }
        return v
    }
}
