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

extension LuaInterruption {
    /// Requests the interruption from another task after `milliseconds`.
    func request(after milliseconds: Int) {
        Task.detached {
            try await Task.sleep(for: .milliseconds(milliseconds))
            self.request()
        }
    }
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
