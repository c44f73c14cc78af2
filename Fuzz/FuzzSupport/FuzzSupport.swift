import CLua
import Foundation
import LuaHost

/// What the fuzz targets share: replaying inputs in a plain build, and
/// comparing Lua values the way Lua means them.
public enum FuzzReplay {
    /// Runs `body` over every file named on the command line (directories are
    /// walked), as libFuzzer would; prints how many ran. A plain build's
    /// fuzz-* executables are these replayers, so the corpus runs in every test.
    public static func run(_ body: (UnsafeRawBufferPointer) -> Void) -> Never {
        var files: [String] = []
        for argument in CommandLine.arguments.dropFirst() {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: argument, isDirectory: &isDirectory) else {
                FileHandle.standardError.write(Data("no such file: \(argument)\n".utf8))
                exit(66)
            }
            if isDirectory.boolValue {
                let names = (try? FileManager.default.contentsOfDirectory(atPath: argument)) ?? []
                files += names.sorted().map { argument + "/" + $0 }
            } else {
                files.append(argument)
            }
        }
        for file in files {
            guard let data = FileManager.default.contents(atPath: file) else { continue }
            data.withUnsafeBytes { body($0) }
        }
        print("replayed \(files.count) inputs")
        exit(0)
    }
}

/// The Lua state a fuzz target reuses across inputs: json loaded, memory
/// capped at 64 MiB, the stack reset after each input and garbage collected
/// every 1,000 inputs.
public final class FuzzLua {
    public let state: LuaState
    private var runs = 0

    public init() {
        guard let state = try? LuaState(options: .init(memoryLimit: 64 << 20)) else { fatalError("no Lua state") }
        do { try JSONModule.register(in: state) } catch { fatalError("json: \(error)") }
        self.state = state
    }

    /// Runs one input's checks, then restores the stack.
    public func run<T>(_ body: (LuaState) -> T) -> T {
        let base = state.top
        defer {
            state.top = base
            runs += 1
            if runs % 1000 == 0 { state.collectGarbage() }
        }
        return body(state)
    }

    /// Calls json.NAME on the value on top, which the result (or the error) replaces.
    public func callJSON(_ name: String) -> Int32 {
        let L = state.L
        lua_getglobal(L, "json")
        lua_getfield(L, -1, name)
        gwlua_remove(L, -2)
        gwlua_insert(L, -2)
        return state.protectedCall(arguments: 1, results: 1, traceback: false)
    }

    /// The message on top, for checking an error.
    public var message: String {
        lua_type(state.L, -1) == LUA_TSTRING ? LuaCall.string(at: -1, in: state.L) : "(not a string)"
    }
}

/// Stops the fuzzer with a message (libFuzzer saves the input that did it).
public func fuzzFailure(_ message: String) -> Never {
    FileHandle.standardError.write(Data("fuzz property failed: \(message)\n".utf8))
    abort()
}

extension LuaValue {
    /// The value as Lua sees it: integral float keys become integers, the array
    /// part and integer keys are one map, and NaN equals NaN.
    public func sameAs(_ other: LuaValue) -> Bool {
        switch (self, other) {
        case (.number(let a), .number(let b)): return a == b || (a.isNaN && b.isNaN)
        case (.table(let a), .table(let b)):
            let x = LuaValue.entries(a), y = LuaValue.entries(b)
            guard x.count == y.count else { return false }
            for (k, v) in x {
                // A key holding NaN is not == to itself; find it by sameAs.
                guard let w = y[k] ?? y.first(where: { $0.key.sameAs(k) })?.value, v.sameAs(w) else { return false }
            }
            return true
        default: return self == other
        }
    }

    /// A readable form for failure messages.
    public var dump: String {
        switch self {
        case .table(let t):
            let parts = LuaValue.entries(t).map { "[\($0.key.dump)] = \($0.value.dump)" }.sorted()
            return "{" + parts.joined(separator: ", ") + "}"
        case .string(let s): return "\"" + String(decoding: s.bytes, as: UTF8.self) + "\""
        case .number(let d): return "\(d)"
        case .integer(let i): return "\(i)i"
        default: return "\(self)"
        }
    }

    static func entries(_ t: LuaTable) -> [LuaValue: LuaValue] {
        var out: [LuaValue: LuaValue] = [:]
        for (i, v) in t.array.enumerated() where v != .nil { out[.integer(Int64(i + 1))] = v }
        for (k, v) in t.hash where v != .nil { out[normalKey(k)] = v }
        return out
    }

    static func normalKey(_ k: LuaValue) -> LuaValue {
        if case .number(let d) = k, let i = Int64(exactly: d) { return .integer(i) }
        return k
    }
}
