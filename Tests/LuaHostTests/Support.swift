import CLua
import LuaHost
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A state with the standard libraries and json, for tests.
func makeState(memoryLimit: Int? = nil) throws -> LuaState {
    let state = try LuaState(options: .init(openStandardLibraries: true, memoryLimit: memoryLimit))
    try JSONModule.register(in: state)
    return state
}

extension LuaState {
    /// Runs `code` and returns its first result.
    func eval(_ code: String) throws -> LuaValue {
        try run(code, name: "=test").first ?? .nil
    }

    /// Runs `code` expecting a Lua error; returns its message.
    func failure(_ code: String) throws -> String {
        do {
            try run(code, name: "=test")
        } catch let LuaError.script(message, _) {
            return message
        } catch {
            return String(describing: error)
        }
        Issue.record("expected an error from: \(code)")
        return ""
    }

    /// Defines a global Swift function.
    func define(_ name: String, _ body: @escaping LuaFunctionBody) throws {
        try setGlobal(name, .function(LuaFunction(name, body)))
    }
}

/// Resident set size of this process in bytes (from /proc).
func residentBytes() -> Int {
    guard let f = fopen("/proc/self/statm", "r") else { return 0 }
    defer { fclose(f) }
    var size = 0, resident = 0
    withUnsafeMutablePointer(to: &size) { s in
        withUnsafeMutablePointer(to: &resident) { r in
            _ = withVaList([s, r]) { vfscanf(f, "%ld %ld", $0) }
        }
    }
    return resident * Int(sysconf(Int32(_SC_PAGESIZE)))
}
