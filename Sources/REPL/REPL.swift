import CEditLine
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import TextSupport
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
        if let rc = options.rcPath, FileManager.default.isReadableFile(atPath: rc) {
            if state.loadFile(rc) { execute() } else { report() }
        }
        while !state.interruption.isTimedOut {
            let outcome = readChunk()
            switch outcome {
            case .end:
                state.clearStack()
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
        if state.callInteractively() { printResults() } else { report() }
    }

    enum Input {
        case chunk, command(String), cleared, reported, end
    }

    /// Reads lines until they form a chunk that compiles (or fails for a reason
    /// other than being incomplete); leaves the compiled function on the stack.
    private func readChunk() -> Input {
        state.clearStack()
        guard let first = reader.read(prompt: prompt) else { return reader.wasInterrupted ? .cleared : .end }
        if first.allSatisfy({ $0 == " " || $0 == "\t" }) { return .cleared }
        if first.hasPrefix("."), !first.hasPrefix("..") {
            reader.remember(first)
            return .command(first)
        }
        // An expression first: `1 + 1` prints 2.
        if case .loaded = state.loadChunk("return " + first, name: "=stdin") {
            reader.remember(first)
            return .chunk
        }
        state.clearStack()
        var text = first
        while true {
            switch state.loadChunk(text, name: "=stdin") {
            case .loaded:
                reader.remember(text)
                return .chunk
            case .failed:
                reader.remember(text)
                report()
                return .reported
            case .incomplete:
                state.clearStack()
            }
            // Ctrl-C on a `>>` line drops the whole half-typed chunk.
            guard let more = reader.read(prompt: continuationPrompt) else { return reader.wasInterrupted ? .cleared : .end }
            text += "\n" + more
        }
    }

    /// `.help [NAME]`, `.load FILE`, `.exit`; false to leave the loop.
    private func command(_ line: String) -> Bool {
        let words = line.split(separator: " ", maxSplits: 1).map(String.init)
        let argument = words.count > 1 ? words[1].trimmingWhitespace() : ""
        switch words[0] {
        case ".help":
            writeStandardOutput(argument.isEmpty ? Help.overview + "\n" : Help.text(for: argument))
        case ".load":
            guard !argument.isEmpty else {
                writeStandardError("usage: .load FILE\n")
                return true
            }
            if state.loadFile(argument) { execute() } else { report() }
        case ".exit", ".quit":
            writeStandardOutput("")
            return false
        default:
            writeStandardError("unknown command \(words[0]); .help lists the commands\n")
        }
        return true
    }

    /// Pretty-prints every result (tab-separated, or one per line when any is
    /// multi-line) and keeps the first in `_`, as a script's assignment would: a
    /// `_G` whose `__newindex` raises gets its error reported, not a crash.
    private func printResults() {
        let n = state.stackCount
        guard n > 0 else { return }
        let rendered = (1...n).map { state.render(at: $0, with: printer) }
        let multiline = rendered.contains { $0.contains("\n") }
        writeStandardOutput(rendered.joined(separator: multiline ? "\n" : "\t") + "\n")
        if let refused = state.setGlobal("_", toValueAt: 1) {
            writeStandardError("\(programName): _ was not set: \(refused)\n")
        }
        state.clearStack()
    }

    /// The message (any error value, through a protected tostring) and a
    /// short traceback without the REPL's own frames.
    private func report() {
        let text = state.errorText(at: -1, with: printer)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if let marker = lines.firstIndex(of: "stack traceback:") {
            let frames = lines[(marker + 1)...].filter { !$0.contains("[C]: in ?") && !$0.contains("in function <stdin") || $0.contains("stdin:") }
            lines = Array(lines[..<marker]) + (frames.isEmpty ? [] : ["stack traceback:"] + frames.prefix(6))
        }
        writeStandardError("\(programName): \(lines.joined(separator: "\n"))\n")
        state.clearStack()
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
        LuaOutput.flushOutput()
        return LuaOutput.readLine()
    }

    func remember(_ line: String) {}
    var wasInterrupted: Bool { false }
}
