import CLua
#if canImport(Glibc)
import Glibc
#endif

/// What an interactive loop (the REPL) needs of a state, so that it never speaks
/// the C API itself: load a line or a file, call what was loaded, print its
/// results, keep the first in `_`, and turn an error value into text.
extension LuaState {
    /// How loading a chunk went.
    public enum ChunkLoad: Sendable {
        /// Compiled: the function is on top.
        case loaded
        /// The text ends before the chunk does (`<eof>`): more lines may complete it.
        case incomplete
        /// Any other failure: the message is on top.
        case failed
    }

    /// Compiles `code` as text under `name`. Stack effect: +1 (the function or the message).
    public func loadChunk(_ code: String, name: String) -> ChunkLoad {
        let status = Array(code.utf8).withUnsafeBufferPointer { buf in
            buf.withMemoryRebound(to: CChar.self) { gwlua_loadbuffer(L, $0.baseAddress, $0.count, name, "t") }
        }
        if status == LUA_OK { return .loaded }
        if status == LUA_ERRSYNTAX, lua_type(L, -1) == LUA_TSTRING, LuaCall.string(at: -1, in: L).hasSuffix("<eof>") {
            return .incomplete
        }
        return .failed
    }

    /// Compiles the text file at `path`. Stack effect: +1 (the function or the message).
    public func loadFile(_ path: String) -> Bool { luaL_loadfilex(L, path, "t") == LUA_OK }

    /// Calls the function on top with every result kept, SIGINT/SIGTERM interrupting
    /// it: true with the results on the stack, false with the error on top.
    public func callInteractively() -> Bool {
        interruption.reset()
        resetInstructionCount()
        return LuaSignals.interrupting(self) { protectedCall(arguments: 0, results: LUA_MULTRET) } == LUA_OK
    }

    /// How many values are on the stack.
    public var stackCount: Int32 { lua_gettop(L) }

    /// Empties the stack.
    public func clearStack() { lua_settop(L, 0) }

    /// `printer`'s text of the value at `index` (1-based from the bottom). Stack effect: 0.
    public func render(at index: Int32, with printer: PrettyPrinter) -> String { printer.render(L, at: index) }

    /// Sets the global `name` to the value at `index` as a script's assignment
    /// would (so a `__newindex` on `_G` runs), under protection: nil, or the error's
    /// text when that raised. Stack effect: 0.
    public func setGlobal(_ name: String, toValueAt index: Int32) -> String? {
        lua_pushvalue(L, index)
        guard gwlua_psetglobal(L, name) != LUA_OK else { return nil }
        defer { gwlua_pop(L, 1) }
        return errorText(at: -1, with: PrettyPrinter(colour: false))
    }

    /// The text of the error value at `index`: a string as it is, a table without
    /// `__tostring` shown by `printer`, anything else through a protected tostring.
    /// Stack effect: 0.
    public func errorText(at index: Int32, with printer: PrettyPrinter) -> String {
        let index = lua_absindex(L, index)
        if lua_type(L, index) == LUA_TSTRING { return LuaCall.string(at: index, in: L) }
        if lua_type(L, index) == LUA_TTABLE {
            if luaL_getmetafield(L, index, "__tostring") != LUA_TNIL {
                gwlua_pop(L, 1)
            } else {
                return "error object: " + printer.render(L, at: index)  // a plain table: show what it holds
            }
        }
        if gwlua_ptostring(L, index) == LUA_OK {
            defer { gwlua_pop(L, 1) }
            return LuaCall.string(at: -1, in: L)
        }
        gwlua_pop(L, 1)
        return "(error object is a \(LuaCall(state: L).typeName(at: index)) value)"
    }

    /// Completions of `word` from this state's globals (see `Completion`).
    public func completions(for word: String) -> [String] { Completion.candidates(for: word, in: L) }
}

extension LuaOutput {
    /// One line from standard input, without its newline; nil at the end. The C
    /// stream Lua's io.read uses, so the REPL and scripts share its buffer.
    public static func readLine() -> String? {
        var line: UnsafeMutablePointer<CChar>?
        var capacity = 0
        defer { free(line) }
        let n = getline(&line, &capacity, gwlua_stdin())
        guard n >= 0, let line else { return nil }
        var bytes = Array(UnsafeRawBufferPointer(start: line, count: n))
        if bytes.last == 10 { bytes.removeLast() }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Flushes standard output (a prompt before a read).
    public static func flushOutput() { fflush(gwlua_stdout()) }
}
