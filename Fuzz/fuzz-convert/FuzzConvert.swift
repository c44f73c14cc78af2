import CLua
import FuzzSupport
import LuaHost

// Swift -> Lua -> Swift value conversion: the input bytes describe a value
// (nil, booleans, integers, floats, byte strings, nested tables); pushing it
// and reading it back gives the same value as Lua means it, and json.encode
// on it either fails with its own message or yields JSON that decodes.

nonisolated(unsafe) let lua = FuzzLua()

struct Bytes {
    let data: UnsafeRawBufferPointer
    var offset = 0
    mutating func byte() -> UInt8? {
        guard offset < data.count else { return nil }
        defer { offset += 1 }
        return data[offset]
    }
    mutating func word() -> UInt64 {
        var w: UInt64 = 0
        for _ in 0..<8 { w = w << 8 | UInt64(byte() ?? 0) }
        return w
    }
}

/// Keys a Lua table can hold (not nil, not NaN), and no tables: a table key is
/// its identity in Lua, which a comparison by value cannot follow.
func usableKey(_ v: LuaValue) -> Bool {
    switch v {
    case .nil, .table: return false
    case .number(let d): return !d.isNaN
    default: return true
    }
}

func value(_ b: inout Bytes, depth: Int) -> LuaValue {
    guard let tag = b.byte() else { return .nil }
    switch tag % 7 {
    case 0: return .nil
    case 1: return .boolean(tag & 0x80 != 0)
    case 2: return .integer(Int64(bitPattern: b.word()))
    case 3: return .number(Double(bitPattern: b.word()))
    case 4:
        let n = Int(b.byte() ?? 0) % 40
        return .string(LuaString(bytes: (0..<n).map { _ in b.byte() ?? 0 }))
    case 5 where depth < 24:
        let n = Int(b.byte() ?? 0) % 12
        // nil cannot sit inside an array: Lua would end the sequence there.
        return .table(LuaTable(array: (0..<n).map { _ in
            let v = value(&b, depth: depth + 1)
            return v == .nil ? .boolean(false) : v
        }))
    case 6 where depth < 24:
        let n = Int(b.byte() ?? 0) % 12
        var table = LuaTable()
        for _ in 0..<n {
            let k = value(&b, depth: depth + 1), v = value(&b, depth: depth + 1)
            if usableKey(k), v != .nil { table.hash[k] = v }
        }
        return .table(table)
    default: return .integer(Int64(tag))
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConvert(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    lua.run { state in
        let base = state.top
        var bytes = Bytes(data: UnsafeRawBufferPointer(start: data, count: size))
        let original = value(&bytes, depth: 0)
        do { try state.push(original) } catch { fuzzFailure("push failed: \(error)") }
        guard state.top == base + 1 else { fuzzFailure("push left \(state.top - base) values") }
        let back: LuaValue
        do { back = try state.value(at: -1) } catch { fuzzFailure("read failed: \(error)") }
        if !original.sameAs(back) { fuzzFailure("round trip changed \(original.dump) into \(back.dump)") }

        guard lua.callJSON("encode") == LUA_OK else {
            let m = lua.message
            if !(m.hasPrefix("json.encode: ") || m == "not enough memory") { fuzzFailure("encode error '\(m)'") }
            return 0
        }
        if lua.callJSON("decode") != LUA_OK {
            fuzzFailure("json.encode made JSON that json.decode refuses: \(lua.message)")
        }
        return 0
    }
}

// A plain build replays inputs; under FUZZING libFuzzer supplies main.
#if !FUZZING
@main struct Replay {
    static func main() {
        FuzzReplay.run { bytes in _ = fuzzConvert(bytes.bindMemory(to: UInt8.self).baseAddress, bytes.count) }
    }
}
#endif
