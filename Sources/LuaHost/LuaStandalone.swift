import CLua
#if canImport(Glibc)
import Glibc
#endif

/// A faithful lua(1): the same options, `arg` table, LUA_INIT handling, messages
/// and order of work as lua.c, with gwlua's modules preloaded and DESIGN.md's
/// exit codes.
public struct LuaStandalone {
    /// Name used in messages (`gwlua: …`).
    public var programName = "gwlua"
    /// The whole command line; `arguments[scriptStart...]` are lua(1)'s own
    /// words (options, script, script arguments); everything before them sits at
    /// negative indices of `arg` with the interpreter options.
    public var arguments: [String]
    public var scriptStart: Int
    public var environment: [String: String]
    /// Registers host modules into a fresh state (after the standard libraries).
    public var prepare: (LuaState) throws -> Void = { _ in }
    /// The interactive loop, for `-i` and for a terminal with no script.
    public var interactive: (LuaState) -> Void = { _ in }
    /// Whether standard input is a terminal (injectable for tests).
    public var stdinIsTerminal: Bool = isatty(0) != 0
    public var version: String = ""
    public var stateOptions = LuaState.Options(openStandardLibraries: false)
    /// The exit status for an uncaught structured error with this `code`
    /// (DESIGN.md: 65 VALIDATION, 69 UNAVAILABLE, 77 auth, 78 CONFIG…); nil keeps 1.
    public var exitStatusForErrorCode: (String) -> Int32? = { _ in nil }
    /// Sees the state and the exit status just before the state closes (to
    /// explain a limit that stopped the script, say).
    public var finish: (LuaState, Int32) -> Void = { _, _ in }
    /// A script built into the program (gwlua's fleet commands), run instead of a
    /// file: `arguments[scriptStart]` is its name (arg[0]), the words after it its
    /// `...`. LUA_INIT does not run. A whole number it returns is the exit status.
    public var builtinScript: String?

    public init(arguments: [String], scriptStart: Int, environment: [String: String]) {
        self.arguments = arguments
        self.scriptStart = scriptStart
        self.environment = environment
    }

    public typealias ExitStatus = LuaHost.ExitStatus

    /// The script file the words name (nil for `-e` only, stdin, or bad words).
    public var scriptPath: String? {
        guard let options = try? collectOptions(), let index = options.script, arguments[index] != "-" else { return nil }
        return arguments[index]
    }

    struct Options {
        var execute = false, interactive = false, version = false, ignoreEnvironment = false
        /// Index in `arguments` of the script, or nil.
        var script: Int?
        /// First index that is not an interpreter option.
        var optionLimit: Int
    }

    enum ParseFailure: Error {
        case bad(index: Int)
    }

    /// lua.c's collectargs over `arguments[scriptStart...]`.
    func collectOptions() throws(ParseFailure) -> Options {
        var o = Options(optionLimit: arguments.count)
        var i = scriptStart
        while i < arguments.count {
            let a = Array(arguments[i].utf8)
            guard a.first == UInt8(ascii: "-") else {
                o.script = i
                o.optionLimit = i
                return o
            }
            let rest = a.count > 2
            switch a.count > 1 ? a[1] : 0 {
            case UInt8(ascii: "-"):
                if rest { throw .bad(index: i) }
                o.optionLimit = i + 1
                o.script = i + 1 < arguments.count ? i + 1 : nil
                return o
            case 0:
                o.script = i
                o.optionLimit = i
                return o
            case UInt8(ascii: "E"):
                if rest { throw .bad(index: i) }
                o.ignoreEnvironment = true
            case UInt8(ascii: "W"):
                if rest { throw .bad(index: i) }
            case UInt8(ascii: "i"):
                if rest { throw .bad(index: i) }
                o.interactive = true
                o.version = true
            case UInt8(ascii: "v"):
                if rest { throw .bad(index: i) }
                o.version = true
            case UInt8(ascii: "e"), UInt8(ascii: "l"):
                if a[1] == UInt8(ascii: "e") { o.execute = true }
                if !rest {
                    i += 1
                    if i >= arguments.count || arguments[i].hasPrefix("-") { throw .bad(index: i - 1) }
                }
            default:
                throw .bad(index: i)
            }
            i += 1
        }
        return o
    }

    func message(_ text: String) {
        writeStandardError("\(programName): \(text)\n")
    }

    func usage(badOption: String) {
        let b = Array(badOption.utf8)
        if b.count > 1 && (b[1] == UInt8(ascii: "e") || b[1] == UInt8(ascii: "l")) {
            writeStandardError("\(programName): '\(badOption)' needs argument\n")
        } else {
            writeStandardError("\(programName): unrecognized option '\(badOption)'\n")
        }
        writeStandardError("""
        usage: \(programName) run [options] [script [args]]
        Available options are:
          -e stat   execute string 'stat'
          -i        enter interactive mode after executing 'script'
          -l mod    require library 'mod' into global 'mod'
          -l g=mod  require library 'mod' into global 'g'
          -v        show version information
          -E        ignore environment variables
          -W        turn warnings on
          --        stop handling options
          -         stop handling options and execute stdin

        """)
    }

    /// Runs everything and returns the process exit status.
    public func run() -> Int32 {
        let options: Options
        do { options = try collectOptions() } catch {
            guard case .bad(let index) = error else { return ExitStatus.usage }
            usage(badOption: arguments[index])
            return ExitStatus.usage
        }
        let state: LuaState
        do { state = try LuaState(options: stateOptions) } catch {
            message("cannot create state: not enough memory")
            return ExitStatus.failure
        }
        defer { state.close() }
        let status = LuaSignals.interrupting(state) {
            let status = main(state, options)
            // Also when the REPL ended because the time ran out at its prompt.
            if state.interruption.isTimedOut { return ExitStatus.timedOut }
            if status == ExitStatus.failure, state.interruption.isRequested {
                return LuaSignals.lastSignal == SIGTERM ? ExitStatus.terminated : ExitStatus.interrupted
            }
            if status == ExitStatus.failure,
               lua_getfield(state.L, gwlua_registryindex(), "gwlua.errorcode") == LUA_TSTRING,
               let mapped = exitStatusForErrorCode(LuaCall.string(at: -1, in: state.L)) {
                return mapped
            }
            return status
        }
        finish(state, status)
        return status
    }

    private func main(_ state: LuaState, _ options: Options) -> Int32 {
        let L = state.L
        if options.version { printVersion() }
        _ = gwlua_gc(L, LUA_GCSTOP, 0)
        if options.ignoreEnvironment {
            lua_pushboolean(L, 1)
            lua_setfield(L, gwlua_registryindex(), "LUA_NOENV")
        }
        if gwlua_popenlibs(L) != LUA_OK {
            _ = report(state)
            return ExitStatus.failure
        }
        do { try prepare(state) } catch {
            message(String(describing: error))
            return ExitStatus.failure
        }
        createArgumentTable(state, script: options.script)
        _ = gwlua_gc(L, LUA_GCRESTART, 0)
        _ = gwlua_gc_generational(L)

        if let builtinScript, let script = options.script { return runBuiltin(state, code: builtinScript, index: script) }
        if !options.ignoreEnvironment, let status = runInit(state), status != LUA_OK {
            return ExitStatus.failure
        }
        if let status = runOptions(state, limit: options.optionLimit) { return status }
        if let script = options.script {
            let status = runScript(state, index: script)
            if status != ExitStatus.success { return status }
        }
        if options.interactive {
            interactive(state)
        } else if options.script == nil && !options.execute && !options.version {
            if stdinIsTerminal {
                printVersion()
                interactive(state)
            } else {
                return runFile(state, path: nil)
            }
        }
        return ExitStatus.success
    }

    func printVersion() {
        writeStandardOutput(version.isEmpty ? String(cString: gwlua_copyright()) + "\n" : version + "\n")
    }

    /// `arg`: the script at 0, everything before it negative, its arguments positive.
    private func createArgumentTable(_ state: LuaState, script: Int?) {
        let L = state.L
        let zero = script ?? 0
        lua_createtable(L, Int32(max(0, arguments.count - zero - 1)), Int32(zero + 1))
        for (i, a) in arguments.enumerated() {
            LuaCall(state: L).push(a)
            lua_rawseti(L, -2, lua_Integer(i - zero))
        }
        state.setGlobalFromTop("arg")
    }

    private func runInit(_ state: LuaState) -> Int32? {
        var name = "=LUA_INIT_5_4"
        var value = environment["LUA_INIT_5_4"]
        if value == nil {
            name = "=LUA_INIT"
            value = environment["LUA_INIT"]
        }
        guard let value else { return nil }
        if value.hasPrefix("@") {
            return runFile(state, path: String(value.dropFirst())) == ExitStatus.success ? LUA_OK : LUA_ERRRUN
        }
        return runString(state, value, chunkName: name)
    }

    /// `-e`, `-l` and `-W` in command-line order; nil when all went well.
    private func runOptions(_ state: LuaState, limit: Int) -> Int32? {
        var i = scriptStart
        while i < limit {
            let a = arguments[i]
            let flag = a.utf8.dropFirst().first
            switch flag {
            case UInt8(ascii: "e"), UInt8(ascii: "l"):
                var extra = String(a.dropFirst(2))
                if extra.isEmpty {
                    i += 1
                    extra = arguments[i]
                }
                let status = flag == UInt8(ascii: "e")
                    ? runString(state, extra, chunkName: "=(command line)")
                    : loadLibrary(state, extra)
                if status != LUA_OK { return ExitStatus.failure }
            case UInt8(ascii: "W"):
                lua_warning(state.L, "@on", 0)
            default:
                break
            }
            i += 1
        }
        return nil
    }

    /// Loads `code` as a chunk named `chunkName`. Stack effect: +1 (the function, or the error).
    private func load(_ state: LuaState, _ code: String, chunkName: String, mode: String? = nil) -> Int32 {
        Array(code.utf8).withUnsafeBufferPointer { buf in
            buf.withMemoryRebound(to: CChar.self) { gwlua_loadbuffer(state.L, $0.baseAddress, $0.count, chunkName, mode) }
        }
    }

    private func runString(_ state: LuaState, _ code: String, chunkName: String) -> Int32 {
        var status = load(state, code, chunkName: chunkName)
        if status == LUA_OK { status = docall(state, arguments: 0, results: 0) }
        return report(state, status: status)
    }

    /// `-l mod` / `-l g=mod` / `-l mod-suffix` (global without the suffix), as lua.c.
    private func loadLibrary(_ state: LuaState, _ spec: String) -> Int32 {
        var globalName = spec
        var moduleName = spec
        if let eq = spec.firstIndex(of: "=") {
            globalName = String(spec[..<eq])
            moduleName = String(spec[spec.index(after: eq)...])
        } else if let dash = spec.firstIndex(of: "-") {
            globalName = String(spec[..<dash])
        }
        var status = gwlua_pgetglobal(state.L, "require")
        if status == LUA_OK {
            LuaCall(state: state.L).push(moduleName)
            status = docall(state, arguments: 1, results: 1)
        }
        if status == LUA_OK { status = gwlua_psetglobal(state.L, globalName) }
        return report(state, status: status)
    }

    private func runScript(_ state: LuaState, index: Int) -> Int32 {
        let name = arguments[index]
        let fromStdin = name == "-" && arguments[index - 1] != "--"
        let L = state.L
        let status = fromStdin ? gwlua_loadfile(L, nil) : gwlua_loadfile(L, name)
        if status != LUA_OK {
            let isFileError = status == LUA_ERRFILE
            _ = report(state, status: status)
            return isFileError ? ExitStatus.noInput : ExitStatus.failure
        }
        // The script's `...` are arg[1..n].
        let n = index + 1 < arguments.count ? arguments.count - index - 1 : 0
        if lua_checkstack(L, Int32(clamping: n + 3)) == 0 {
            gwlua_pop(L, 1)
            message("too many arguments to script")
            return ExitStatus.failure
        }
        for a in arguments[(index + 1)...] { LuaCall(state: L).push(a) }
        return report(state, status: docall(state, arguments: Int32(n), results: LUA_MULTRET)) == LUA_OK
            ? ExitStatus.success : ExitStatus.failure
    }

    /// A built-in script's structured errors (API and validation errors) are one
    /// line each, without the script's own position or a traceback: the user wrote
    /// neither. String errors (from files the script loads) keep their traceback.
    private func runBuiltin(_ state: LuaState, code: String, index: Int) -> Int32 {
        let L = state.L
        let name = arguments[index]
        var status = load(state, code, chunkName: "=" + name, mode: "t")
        guard status == LUA_OK else { return report(state, status: status) == LUA_OK ? ExitStatus.success : ExitStatus.failure }
        let words = arguments[(index + 1)...]
        for word in words { LuaCall(state: L).push(word) }
        // Keeps a structured error as a table (its code and text are read below).
        status = docall(state, arguments: Int32(words.count), results: 1, handler: gwlua_keephandler)
        defer { gwlua_pop(L, 1) }
        guard status == LUA_OK else {
            guard lua_type(L, -1) == LUA_TTABLE else {
                // A string error: its traceback, as the message handler left it.
                let traceback = lua_getfield(L, gwlua_registryindex(), "gwlua.traceback") == LUA_TSTRING
                    ? LuaCall.string(at: -1, in: L) : ""
                gwlua_pop(L, 1)
                let text = lua_type(L, -1) == LUA_TSTRING ? LuaCall.string(at: -1, in: L) : "(error object is not a string)"
                message(text + (traceback.isEmpty ? "" : "\n" + traceback))
                return ExitStatus.failure
            }
            lua_pushstring(L, "code")
            if lua_rawget(L, -2) == LUA_TSTRING {
                lua_setfield(L, gwlua_registryindex(), "gwlua.errorcode")
            } else {
                gwlua_pop(L, 1)
            }
            var text = String(cString: luaL_tolstring(L, -1, nil))
            gwlua_pop(L, 1)
            // "gwlua plan:94: " is a line of gwlua's own script: no help to its user.
            if text.hasPrefix(name + ":") {
                let rest = text.dropFirst(name.count + 1)
                let line = rest.prefix { $0.isNumber }
                if !line.isEmpty, rest.dropFirst(line.count).hasPrefix(": ") { text = String(rest.dropFirst(line.count + 2)) }
            }
            writeStandardError("\(name): \(text)\n")
            return ExitStatus.failure
        }
        var exact: Int32 = 0
        let result = lua_tointegerx(L, -1, &exact)
        return exact != 0 ? Int32(clamping: result) : ExitStatus.success
    }

    private func runFile(_ state: LuaState, path: String?) -> Int32 {
        let L = state.L
        var status = path.map { gwlua_loadfile(L, $0) } ?? gwlua_loadfile(L, nil)
        if status == LUA_OK { status = docall(state, arguments: 0, results: 0) }
        return report(state, status: status) == LUA_OK ? ExitStatus.success : ExitStatus.failure
    }

    /// lua.c's docall: protected, with the traceback message handler (or `handler`).
    private func docall(_ state: LuaState, arguments nargs: Int32, results: Int32,
                        handler: lua_CFunction = gwlua_msghandler) -> Int32 {
        let L = state.L
        let base = lua_gettop(L) - nargs
        gwlua_pushcfunction(L, handler)
        gwlua_insert(L, base)
        let status = gwlua_pcall(L, nargs, results, base)
        gwlua_remove(L, base)
        return status
    }

    @discardableResult
    private func report(_ state: LuaState, status: Int32 = LUA_ERRRUN) -> Int32 {
        guard status != LUA_OK else { return status }
        let L = state.L
        if lua_type(L, -1) == LUA_TSTRING {
            message(LuaCall.string(at: -1, in: L))
        } else {
            message("(error object is a \(LuaCall(state: L).typeName(at: -1)) value)")
        }
        gwlua_pop(L, 1)
        return status
    }
}

/// Writes through C stdio, the same buffers Lua's `print` and `io.write` use,
/// so output interleaves in order.
public func writeStandardOutput(_ s: String) {
    fputs(s, gwlua_stdout())
}

public func writeStandardError(_ s: String) {
    fflush(gwlua_stdout())
    fputs(s, gwlua_stderr())
    fflush(gwlua_stderr())
}
