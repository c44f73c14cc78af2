import CEditLine
import LuaHost
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// libedit's readline: Emacs bindings and arrow keys, history (loaded from and
/// appended to the history file), Tab completion over the live state, and
/// Ctrl-C that clears the line being typed.
final class EditLineReader: LineReader {
    private let history: HistoryFile?
    private(set) var wasInterrupted = false

    /// The state completion reads (readline's callbacks cannot capture context).
    nonisolated(unsafe) static var completionState: LuaState?
    /// Set by the SIGINT handler while a line is being read.
    static let sigintSeen = Atomic<Bool>(false)
    /// The thread blocked in readline, or 0.
    static let readingThread = Atomic<UInt>(0)

    init(state: LuaState, history: HistoryFile?) {
        self.history = history
        EditLineReader.completionState = state
        gwlua_rl_setup(EditLineReader.complete)
        stifle_history(Int32(history?.capacity ?? 1000))
        for entry in history?.load() ?? [] { _ = add_history(entry) }
    }

    func read(prompt: String) -> String? {
        wasInterrupted = false
        EditLineReader.sigintSeen.store(false, ordering: .relaxed)
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in EditLineReader.sigintSeen.store(true, ordering: .relaxed) }
        action.sa_flags = 0  // no SA_RESTART: the read returns and readline gives up the line
        sigemptyset(&action.sa_mask)
        var previous = sigaction()
        sigaction(SIGINT, &action, &previous)
        defer { sigaction(SIGINT, &previous, nil) }
        EditLineReader.readingThread.store(UInt(pthread_self()), ordering: .releasing)
        let raw = readline(prompt)
        EditLineReader.readingThread.store(0, ordering: .releasing)
        if EditLineReader.sigintSeen.load(ordering: .relaxed) {
            free(raw)
            wasInterrupted = true
            writeStandardOutput("^C\n")
            return nil
        }
        guard let raw else { return nil }
        defer { free(raw) }
        return String(cString: raw)
    }

    func remember(_ line: String) {
        guard history?.allows(line) ?? true else { return }
        _ = add_history(line)
        history?.append(line)
    }

    /// readline's attempted-completion hook: matches[0] is what replaces the
    /// word (the longest common prefix), then the candidates.
    private static let complete: @convention(c) (UnsafePointer<CChar>?, Int32, Int32) -> UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = { text, _, _ in
        gwlua_rl_completion_over()
        guard let text, let state = EditLineReader.completionState else { return nil }
        let candidates = state.completions(for: String(cString: text))
        guard let first = candidates.first else { return nil }
        var common = Substring(first)
        for c in candidates.dropFirst() {
            while !c.hasPrefix(common) { common = common.dropLast() }
        }
        let words = [String(common)] + (candidates.count > 1 ? candidates : [])
        guard let matches = calloc(words.count + 1, MemoryLayout<UnsafeMutablePointer<CChar>?>.stride)?
            .bindMemory(to: UnsafeMutablePointer<CChar>?.self, capacity: words.count + 1) else { return nil }
        for (i, w) in words.enumerated() { matches[i] = strdup(w) }
        matches[words.count] = nil
        return matches
    }
}
