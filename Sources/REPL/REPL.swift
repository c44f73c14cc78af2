import CEditLine
import CLua
import Foundation
import LuaHost
#if canImport(Glibc)
import Glibc
#endif

/// How the REPL is set up: where history and the rc file live, what must
/// never be written to history, and whether to colour.
public struct REPLOptions {
    public var historyPath: String?
    public var rcPath: String?
    public var secrets: [String]
    public var colour: Bool

    public init(historyPath: String? = nil, rcPath: String? = nil, secrets: [String] = [], colour: Bool = false) {
        self.historyPath = historyPath
        self.rcPath = rcPath
        self.secrets = secrets
        self.colour = colour
    }

    /// The usual places: $XDG_STATE_HOME/gwlua/history and
    /// $XDG_CONFIG_HOME/gwlua/init.lua; colour when stdout is a terminal and NO_COLOR is unset.
    public static func standard(environment: [String: String], secrets: [String]) -> REPLOptions {
        let home = environment["HOME"] ?? "/tmp"
        func base(_ variable: String, _ fallback: String) -> String {
            environment[variable].flatMap { $0.isEmpty ? nil : $0 } ?? (home + fallback)
        }
        let noColour = !(environment["NO_COLOR"] ?? "").isEmpty
        return REPLOptions(historyPath: base("XDG_STATE_HOME", "/.local/state") + "/gwlua/history",
                           rcPath: base("XDG_CONFIG_HOME", "/.config") + "/gwlua/init.lua",
                           secrets: secrets, colour: isatty(1) != 0 && !noColour)
    }
}

/// The interactive loop over a prepared state, in the manner of lua.c's:
/// an expression prints its values, an incomplete statement continues on the
/// next line (`>>`), errors are reported and the loop goes on.
public struct REPL {
    public var programName = "gwlua"
    public var prompt = "> "
    public var continuationPrompt = ">> "
    public let state: LuaState
    let options: REPLOptions
    private let reader: LineReader
    private let printer: PrettyPrinter
    private let history: HistoryFile?

    /// Wakes a prompt waiting for input (as Ctrl-C would), so a session whose
    /// time ran out can end. Safe from any thread; nothing when no one reads.
    public static func interruptRead() {
        let thread = EditLineReader.readingThread.load(ordering: .acquiring)
        if thread != 0 { pthread_kill(pthread_t(thread), SIGINT) }
    }

    public init(state: LuaState, options: REPLOptions = REPLOptions(), terminal: Bool = isatty(0) != 0) {
        self.state = state
        self.options = options
        history = terminal ? options.historyPath.map { HistoryFile(path: $0, secrets: options.secrets) } : nil
        reader = terminal ? EditLineReader(state: state, history: history) : PlainLineReader()
        printer = PrettyPrinter(colour: options.colour)
    }

    public func run() {
        let L = state.L
        if let rc = options.rcPath, FileManager.default.isReadableFile(atPath: rc) {
            if luaL_loadfilex(L, rc, "t") == LUA_OK { execute() } else { report() }
        }
        while !state.interruption.isTimedOut {
            let outcome = readChunk()
            switch outcome {
            case .end:
                lua_settop(L, 0)
                writeStandardOutput("\n")
                return
            case .cleared, .reported:
                continue
            case .command(let line):
                if !command(line) { return }
            case .chunk:
                execute()
            }
        }
    }

    /// Runs the function on top with SIGINT/SIGTERM interrupting it, then prints its results.
    private func execute() {
        state.interruption.reset()
        state.resetInstructionCount()
        let status = LuaSignals.interrupting(state) {
            state.protectedCall(arguments: 0, results: LUA_MULTRET)
        }
        if status == LUA_OK { printResults() } else { report() }
    }

    enum Input {
        case chunk, command(String), cleared, reported, end
    }

    /// Reads lines until they form a chunk that compiles (or fails for a reason
    /// other than being incomplete); leaves the compiled function on the stack.
    private func readChunk() -> Input {
        let L = state.L
        lua_settop(L, 0)
        guard let first = reader.read(prompt: prompt) else { return reader.wasInterrupted ? .cleared : .end }
        if first.allSatisfy({ $0 == " " || $0 == "\t" }) { return .cleared }
        if first.hasPrefix("."), !first.hasPrefix("..") {
            reader.remember(first)
            return .command(first)
        }
        // An expression first: `1 + 1` prints 2.
        if load("return " + first, name: "=stdin") == LUA_OK {
            reader.remember(first)
            return .chunk
        }
        lua_settop(L, 0)
        var text = first
        while true {
            let status = load(text, name: "=stdin")
            if status == LUA_OK || !isIncomplete(status) {
                reader.remember(text)
                if status != LUA_OK {
                    report()
                    return .reported
                }
                return .chunk
            }
            lua_settop(L, 0)
            // Ctrl-C on a `>>` line drops the whole half-typed chunk.
            guard let more = reader.read(prompt: continuationPrompt) else { return reader.wasInterrupted ? .cleared : .end }
            text += "\n" + more
        }
    }

    /// `.help [NAME]`, `.load FILE`, `.exit`; false to leave the loop.
    private func command(_ line: String) -> Bool {
        let words = line.split(separator: " ", maxSplits: 1).map(String.init)
        let argument = words.count > 1 ? words[1].trimmingCharacters(in: .whitespaces) : ""
        switch words[0] {
        case ".help":
            writeStandardOutput(argument.isEmpty ? Help.overview + "\n" : Help.text(for: argument))
        case ".load":
            guard !argument.isEmpty else {
                writeStandardError("usage: .load FILE\n")
                return true
            }
            if luaL_loadfilex(state.L, argument, "t") == LUA_OK { execute() } else { report() }
        case ".exit", ".quit":
            writeStandardOutput("")
            return false
        default:
            writeStandardError("unknown command \(words[0]); .help lists the commands\n")
        }
        return true
    }

    private func load(_ code: String, name: String) -> Int32 {
        Array(code.utf8).withUnsafeBufferPointer { buf in
            buf.withMemoryRebound(to: CChar.self) { gwlua_loadbuffer(state.L, $0.baseAddress, $0.count, name, "t") }
        }
    }

    private func isIncomplete(_ status: Int32) -> Bool {
        guard status == LUA_ERRSYNTAX, lua_type(state.L, -1) == LUA_TSTRING else { return false }
        return LuaCall.string(at: -1, in: state.L).hasSuffix("<eof>")
    }

    /// Pretty-prints every result (tab-separated, or one per line when any is
    /// multi-line) and keeps the first in `_`.
    private func printResults() {
        let L = state.L
        let n = lua_gettop(L)
        guard n > 0 else { return }
        let rendered = (1...n).map { printer.render(L, at: $0) }
        let multiline = rendered.contains { $0.contains("\n") }
        writeStandardOutput(rendered.joined(separator: multiline ? "\n" : "\t") + "\n")
        lua_rawgeti(L, gwlua_registryindex(), lua_Integer(LUA_RIDX_GLOBALS))
        lua_pushvalue(L, 1)
        lua_setfield(L, -2, "_")
        lua_settop(L, 0)
    }

    private func hasToString(at index: Int32) -> Bool {
        guard luaL_getmetafield(state.L, index, "__tostring") != LUA_TNIL else { return false }
        gwlua_pop(state.L, 1)
        return true
    }

    /// The message (any error value, through a protected tostring) and a
    /// short traceback without the REPL's own frames.
    private func report() {
        let L = state.L
        var text: String
        if lua_type(L, -1) == LUA_TSTRING {
            text = LuaCall.string(at: -1, in: L)
        } else if lua_type(L, -1) == LUA_TTABLE, !hasToString(at: -1) {
            text = "error object: " + printer.render(L, at: -1)  // a plain table: show what it holds
        } else if gwlua_ptostring(L, -1) == LUA_OK {
            text = LuaCall.string(at: -1, in: L)
        } else {
            text = "(error object is a \(LuaCall(state: L).typeName(at: -2)) value)"
        }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if let marker = lines.firstIndex(of: "stack traceback:") {
            let frames = lines[(marker + 1)...].filter { !$0.contains("[C]: in ?") && !$0.contains("in function <stdin") || $0.contains("stdin:") }
            lines = Array(lines[..<marker]) + (frames.isEmpty ? [] : ["stack traceback:"] + frames.prefix(6))
        }
        writeStandardError("\(programName): \(lines.joined(separator: "\n"))\n")
        lua_settop(L, 0)
    }
}

protocol LineReader {
    func read(prompt: String) -> String?
    func remember(_ line: String)
    /// Whether the last nil from `read` was Ctrl-C (not end of input).
    var wasInterrupted: Bool { get }
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
    var wasInterrupted: Bool { false }
}
