import CLua
import FuzzSupport
import LuaHost

// json.decode on arbitrary bytes: no crash, an error is json.decode's own
// message (or the memory cap's), and what decodes re-encodes to the same value.

nonisolated(unsafe) let state: LuaState = {
    guard let state = try? LuaState(options: .init(memoryLimit: 64 << 20)) else { fatalError("no Lua state") }
    do { try JSONModule.register(in: state) } catch { fatalError("json: \(error)") }
    return state
}()
nonisolated(unsafe) var runs = 0

/// Calls json.NAME on the value on top; leaves one result or the error.
func callJSON(_ name: String) -> Int32 {
    let L = state.L
    lua_getglobal(L, "json")
    lua_getfield(L, -1, name)
    gwlua_remove(L, -2)
    gwlua_insert(L, -2)
    return state.protectedCall(arguments: 1, results: 1, traceback: false)
}

func message() -> String { lua_type(state.L, -1) == LUA_TSTRING ? LuaCall.string(at: -1, in: state.L) : "(not a string)" }

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSON(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let L = state.L
    let base = state.top
    defer {
        state.top = base
        runs += 1
        if runs % 1000 == 0 { state.collectGarbage() }
    }
    let input = UnsafeRawBufferPointer(start: data, count: size)
    LuaCall(state: L).push(bytes: Array(input))
    guard callJSON("decode") == LUA_OK else {
        let m = message()
        if !(m.hasPrefix("json.decode: ") || m == "not enough memory") { fuzzFailure("decode error '\(m)'") }
        return 0
    }
    guard let decoded = try? state.value(at: -1) else { return 0 }  // deeper than conversion allows
    guard callJSON("encode") == LUA_OK else {
        let m = message()
        // Numbers past Double's range decode to infinity, which JSON cannot hold.
        if !(m.hasPrefix("json.encode: cannot encode inf") || m.hasPrefix("json.encode: cannot encode -inf")
             || m == "not enough memory") { fuzzFailure("encode error '\(m)'") }
        return 0
    }
    guard callJSON("decode") == LUA_OK else { fuzzFailure("re-decode failed: \(message())") }
    guard let again = try? state.value(at: -1) else { fuzzFailure("re-decoded value unreadable") }
    if !decoded.sameAs(again) { fuzzFailure("round trip changed \(decoded.dump) into \(again.dump)") }
    return 0
}

// A plain build replays inputs; under FUZZING libFuzzer supplies main.
#if !FUZZING
@main struct Replay {
    static func main() {
        FuzzReplay.run { bytes in _ = fuzzJSON(bytes.bindMemory(to: UInt8.self).baseAddress, bytes.count) }
    }
}
#endif
