import CLua
import FuzzSupport
import LuaHost

// json.decode on arbitrary bytes: no crash, an error is json.decode's own
// message (or the memory cap's), and what decodes re-encodes to the same value.

nonisolated(unsafe) let lua = FuzzLua()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSON(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    lua.run { state in
        LuaCall(state: state.L).push(bytes: Array(UnsafeRawBufferPointer(start: data, count: size)))
        guard lua.callJSON("decode") == LUA_OK else {
            let m = lua.message
            if !(m.hasPrefix("json.decode: ") || m == "not enough memory") { fuzzFailure("decode error '\(m)'") }
            return 0
        }
        guard let decoded = try? state.value(at: -1) else { return 0 }  // deeper than conversion allows
        guard lua.callJSON("encode") == LUA_OK else {
            let m = lua.message
            // Numbers past Double's range decode to infinity, which JSON cannot hold.
            if !(m.hasPrefix("json.encode: cannot encode inf") || m.hasPrefix("json.encode: cannot encode -inf")
                 || m == "not enough memory") { fuzzFailure("encode error '\(m)'") }
            return 0
        }
        guard lua.callJSON("decode") == LUA_OK else { fuzzFailure("re-decode failed: \(lua.message)") }
        guard let again = try? state.value(at: -1) else { fuzzFailure("re-decoded value unreadable") }
        if !decoded.sameAs(again) { fuzzFailure("round trip changed \(decoded.dump) into \(again.dump)") }
        return 0
    }
}

// A plain build replays inputs; under FUZZING libFuzzer supplies main.
#if !FUZZING
@main struct Replay {
    static func main() {
        FuzzReplay.run { bytes in _ = fuzzJSON(bytes.bindMemory(to: UInt8.self).baseAddress, bytes.count) }
    }
}
#endif
