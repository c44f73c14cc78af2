import CLua
import LuaHost

/// Renders Lua values for the REPL: tables with sorted keys and arrays in
/// order, depth and item limits, cycles as references to where the table was
/// first shown, strings quoted and escaped, and secrets redacted. Tables are
/// read raw, so no user metamethod runs; only a userdata's `__tostring` is
/// called, under protection.
public struct PrettyPrinter {
    public var colour: Bool
    public var maxDepth = 5
    public var maxItems = 40
    public var width = 80

    /// Keys whose string values are never shown.
    static let secretKeys: Set<String> = ["apikey", "api_key", "token", "password", "secret", "authorization"]

    public init(colour: Bool) { self.colour = colour }

    public func render(_ L: OpaquePointer, at index: Int32) -> String {
        var seen: [UnsafeRawPointer: String] = [:]
        return value(L, lua_absindex(L, index), depth: 0, path: "", seen: &seen, indent: "")
    }

    private func paint(_ text: String, _ code: String) -> String {
        colour ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text
    }

    private func value(_ L: OpaquePointer, _ index: Int32, depth: Int, path: String,
                       seen: inout [UnsafeRawPointer: String], indent: String) -> String {
        switch lua_type(L, index) {
        case LUA_TNIL: return paint("nil", "35")
        case LUA_TBOOLEAN: return paint(lua_toboolean(L, index) != 0 ? "true" : "false", "35")
        case LUA_TNUMBER:
            lua_pushvalue(L, index)
            defer { gwlua_pop(L, 1) }
            return paint(LuaCall.string(at: -1, in: L), "36")
        case LUA_TSTRING: return paint(PrettyPrinter.quote(bytes(L, index)), "32")
        case LUA_TTABLE: return table(L, index, depth: depth, path: path, seen: &seen, indent: indent)
        case LUA_TUSERDATA, LUA_TLIGHTUSERDATA:
            if gwlua_ptostring(L, index) == LUA_OK {
                defer { gwlua_pop(L, 1) }
                return paint(LuaCall.string(at: -1, in: L), "34")
            }
            gwlua_pop(L, 1)
            return paint("userdata: \(pointer(L, index))", "34")
        case LUA_TFUNCTION:
            return paint(lua_iscfunction(L, index) != 0 ? "builtin: \(pointer(L, index))" : "function: \(pointer(L, index))", "34")
        case LUA_TTHREAD: return paint("thread: \(pointer(L, index))", "34")
        default: return "?"
        }
    }

    private func pointer(_ L: OpaquePointer, _ index: Int32) -> String {
        guard let p = lua_topointer(L, index) else { return "0x0" }
        return "0x" + String(UInt(bitPattern: p), radix: 16)
    }

    private func bytes(_ L: OpaquePointer, _ index: Int32) -> [UInt8] {
        var length = 0
        guard let p = lua_tolstring(L, index, &length) else { return [] }
        return Array(UnsafeRawBufferPointer(start: p, count: length))
    }

    /// The metatable key naming the field a binding's table is shown by (`LuaMetatable(display:)`).
    static let displayKey = "__display"

    /// The string in the field the table's metatable names under `__display`, read raw; nil without one.
    private func display(_ L: OpaquePointer, _ index: Int32) -> String? {
        guard lua_getmetatable(L, index) != 0 else { return nil }
        defer { gwlua_pop(L, 2) }
        lua_pushstring(L, PrettyPrinter.displayKey)
        lua_rawget(L, -2)
        guard lua_type(L, -1) == LUA_TSTRING else { return nil }
        lua_rawget(L, index)  // the field named there
        return lua_type(L, -1) == LUA_TSTRING ? LuaCall.string(at: -1, in: L) : nil
    }

    /// The metatable's `__name` (set by luaL_newmetatable), read raw.
    private func typeName(_ L: OpaquePointer, _ index: Int32) -> String? {
        guard lua_getmetatable(L, index) != 0 else { return nil }
        defer { gwlua_pop(L, 2) }
        lua_pushstring(L, "__name")
        lua_rawget(L, -2)
        return lua_type(L, -1) == LUA_TSTRING ? LuaCall.string(at: -1, in: L) : nil
    }

    private func table(_ L: OpaquePointer, _ index: Int32, depth: Int, path: String,
                       seen: inout [UnsafeRawPointer: String], indent: String) -> String {
        guard let identity = lua_topointer(L, index) else { return "{}" }
        if let earlier = seen[identity] { return paint("<ref \(earlier.isEmpty ? "(top)" : earlier)>", "33") }
        seen[identity] = path
        let name = typeName(L, index)
        if let shown = display(L, index) { return (name ?? "table") + ":\n" + shown }
        let prefix = name.map { paint($0, "1") } ?? ""
        if depth >= maxDepth { return prefix + "{…}" }
        guard lua_checkstack(L, 8) != 0 else { return prefix + "{…}" }

        // The array part 1..n, then the other keys sorted.
        let count = Int(lua_rawlen(L, index))
        var items: [String] = []
        var shown = 0
        for i in 1...max(count, 1) where count > 0 {
            if shown >= maxItems { break }
            lua_rawgeti(L, index, lua_Integer(i))
            items.append(value(L, lua_gettop(L), depth: depth + 1, path: "\(path)[\(i)]", seen: &seen, indent: indent + "  "))
            gwlua_pop(L, 1)
            shown += 1
        }
        var keys: [(order: Int, number: Double, text: String)] = []
        lua_pushnil(L)
        while lua_next(L, index) != 0 {
            gwlua_pop(L, 1)
            switch lua_type(L, -1) {
            case LUA_TNUMBER:
                let n = lua_tonumberx(L, -1, nil)
                if lua_isinteger(L, -1) != 0, n >= 1, n <= Double(count), n == n.rounded() { continue }
                lua_pushvalue(L, -1)
                keys.append((0, n, LuaCall.string(at: -1, in: L)))
                gwlua_pop(L, 1)
            case LUA_TSTRING: keys.append((1, 0, LuaCall.string(at: -1, in: L)))
            case LUA_TBOOLEAN: keys.append((2, 0, lua_toboolean(L, -1) != 0 ? "true" : "false"))
            default: keys.append((3, 0, "\(typeNameOf(L, -1)): \(pointer(L, -1))"))
            }
        }
        keys.sort { ($0.order, $0.number, $0.text) < ($1.order, $1.number, $1.text) }
        var hidden = max(0, count - shown)
        for key in keys {
            if shown >= maxItems { hidden += 1; continue }
            let label: String
            switch key.order {
            case 0:
                lua_pushnumber(L, key.number)
                if key.number == key.number.rounded(), abs(key.number) < 9.0e15 { gwlua_pop(L, 1); lua_pushinteger(L, lua_Integer(key.number)) }
                label = "[\(key.text)]"
            case 1:
                lua_pushstring(L, key.text)
                label = PrettyPrinter.isIdentifier(key.text) ? key.text : "[\(PrettyPrinter.quote(Array(key.text.utf8)))]"
            case 2:
                lua_pushboolean(L, key.text == "true" ? 1 : 0)
                label = "[\(key.text)]"
            default:
                continue  // tables, functions as keys: shown by count only
            }
            lua_rawget(L, index)
            let rendered: String
            if key.order == 1, PrettyPrinter.secretKeys.contains(key.text.lowercased()), lua_type(L, -1) == LUA_TSTRING {
                rendered = paint("\"<redacted>\"", "32")
            } else {
                rendered = value(L, lua_gettop(L), depth: depth + 1, path: path + (key.order == 1 && PrettyPrinter.isIdentifier(key.text) ? ".\(key.text)" : label),
                                 seen: &seen, indent: indent + "  ")
            }
            gwlua_pop(L, 1)
            items.append("\(label) = \(rendered)")
            shown += 1
        }
        hidden += keys.filter { $0.order == 3 }.count
        if hidden > 0 { items.append(paint("… \(hidden) more", "2")) }
        if items.isEmpty { return prefix + "{}" }
        let oneLine = prefix + "{" + items.joined(separator: ", ") + "}"
        if visibleLength(oneLine) + indent.count <= width && !oneLine.contains("\n") { return oneLine }
        return prefix + "{\n" + items.map { indent + "  " + $0 }.joined(separator: ",\n") + "\n" + indent + "}"
    }

    private func typeNameOf(_ L: OpaquePointer, _ index: Int32) -> String {
        String(cString: lua_typename(L, lua_type(L, index)))
    }

    private func visibleLength(_ s: String) -> Int {
        guard colour else { return s.count }
        var n = 0, escape = false
        for c in s.unicodeScalars {
            if c == "\u{1B}" { escape = true } else if escape { if c == "m" { escape = false } } else { n += 1 }
        }
        return n
    }

    static func isIdentifier(_ s: String) -> Bool {
        guard let first = s.unicodeScalars.first, first == "_" || (first.isASCII && first.properties.isAlphabetic) else { return false }
        return s.unicodeScalars.allSatisfy { $0 == "_" || ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) }
            && !Completion.keywords.contains(s)
    }

    /// A Lua string literal: printable UTF-8 kept, the rest escaped.
    static func quote(_ bytes: [UInt8]) -> String {
        var out = "\""
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            switch b {
            case 0x22: out += "\\\""
            case 0x5C: out += "\\\\"
            case 0x0A: out += "\\n"
            case 0x09: out += "\\t"
            case 0x0D: out += "\\r"
            case 0x20..<0x7F: out.unicodeScalars.append(Unicode.Scalar(b))
            case 0x80...:
                if let length = bytes.withUnsafeBufferPointer({ utf8SequenceLength($0, at: i) }) {
                    out += String(decoding: bytes[i..<(i + length)], as: UTF8.self)
                    i += length
                    continue
                }
                out += "\\\(b)"
            default:
                out += "\\\(b)"
            }
            i += 1
        }
        return out + "\""
    }
}
