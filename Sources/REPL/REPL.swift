import CEditLine
import CLua
import LuaHost
#if canImport(Glibc)
import Glibc
#endif

/// The interactive loop over a prepared state, in the manner of lua.c's:
/// an expression prints its values, an incomplete statement continues on the
/// next line (`>>`), errors are reported and the loop goes on.
public struct REPL {
    public var programName = "gwlua"
    public var prompt = "> "
    public var continuationPrompt = ">> "
    public let state: LuaState
    private let reader: LineReader

    public init(state: LuaState, terminal: Bool = isatty(0) != 0) {
        self.state = state
        reader = terminal ? EditLineReader() : PlainLineReader()
    }

    public func run() {
        let L = state.L
        while readChunk() != nil {
            state.interruption.reset()
            lua_sethook(L, nil, 0, 0)
            let status = LuaSignals.interrupting(state) {
                state.protectedCall(arguments: 0, results: LUA_MULTRET)
            }
            if status == LUA_OK {
                printResults()
            } else {
                report()
            }
        }
        lua_settop(L, 0)
        writeStandardOutput("\n")
    }

    /// Reads lines until they form a chunk that compiles (or fails for a reason
    /// other than being incomplete); leaves the compiled function or the error.
    private func readChunk() -> String? {
        let L = state.L
        while true {
            lua_settop(L, 0)
            guard let first = reader.read(prompt: prompt) else { return nil }
            if first.isEmpty { continue }
            // An expression first: `1 + 1` prints 2.
            if load("return " + first, name: "=stdin") == LUA_OK {
                reader.remember(first)
                return first
            }
            lua_settop(L, 0)
            var text = first
            while true {
                let status = load(text, name: "=stdin")
                if status == LUA_OK || !isIncomplete(status) {
                    reader.remember(text)
                    if status != LUA_OK {
                        report()
                        break
                    }
                    return text
                }
                lua_settop(L, 0)
                guard let more = reader.read(prompt: continuationPrompt) else { return nil }
                text += "\n" + more
            }
        }
    }

    private func load(_ code: String, name: String) -> Int32 {
        Array(code.utf8).withUnsafeBufferPointer { buf in
            buf.withMemoryRebound(to: CChar.self) { gwlua_loadbuffer(state.L, $0.baseAddress, $0.count, name, "t") }
        }
    }

    private func isIncomplete(_ status: Int32) -> Bool {
        guard status == LUA_ERRSYNTAX, lua_type(state.L, -1) == LUA_TSTRING else { return false }
        return (try? state.value(at: -1))?.description.hasSuffix("<eof>") ?? false
    }

    private func printResults() {
        let L = state.L
        let n = lua_gettop(L)
        guard n > 0 else { return }
        if gwlua_pgetglobal(L, "print") != LUA_OK {
            report()
            return
        }
        gwlua_insert(L, 1)
        if gwlua_pcall(L, n, 0, 0) != LUA_OK {
            let message = (try? state.value(at: -1))?.description ?? "?"
            writeStandardError("\(programName): error calling 'print' (\(message))\n")
        }
        lua_settop(L, 0)
    }

    private func report() {
        let L = state.L
        if lua_type(L, -1) == LUA_TSTRING {
            writeStandardError("\(programName): \((try? state.value(at: -1))?.description ?? "")\n")
        } else {
            writeStandardError("\(programName): (error object is a \(LuaCall(state: L).typeName(at: -1)) value)\n")
        }
        lua_settop(L, 0)
    }
}

protocol LineReader {
    func read(prompt: String) -> String?
    func remember(_ line: String)
}

/// libedit's readline: line editing and history on a terminal.
struct EditLineReader: LineReader {
    func read(prompt: String) -> String? {
        guard let raw = readline(prompt) else { return nil }
        defer { free(raw) }
        return String(cString: raw)
    }

    func remember(_ line: String) { _ = add_history(line) }
}

/// Plain reads for pipes and files: the prompt is written, lines come from stdin.
struct PlainLineReader: LineReader {
    func read(prompt: String) -> String? {
        writeStandardOutput(prompt)
        fflush(gwlua_stdout())
        var line: UnsafeMutablePointer<CChar>?
        var capacity = 0
        defer { free(line) }
        let n = getline(&line, &capacity, gwlua_stdin())
        guard n >= 0, let line else { return nil }
        var bytes = Array(UnsafeRawBufferPointer(start: line, count: n))
        if bytes.last == 10 { bytes.removeLast() }
        return String(decoding: bytes, as: UTF8.self)
    }

    func remember(_ line: String) {}
}
