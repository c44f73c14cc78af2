import LuaHost
import Logging
import REPL
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

// How `run` and `repl` apply their limits and logging: wiring only; the
// limits themselves live in LuaHost and shim.h.

func formatMiB(_ bytes: Int) -> String {
    if bytes < 1_048_576 { return "\((bytes + 512) / 1024) KiB" }
    let tenths = (bytes * 10 + 524_288) / 1_048_576
    return tenths % 10 == 0 ? "\(tenths / 10) MiB" : "\(tenths / 10).\(tenths % 10) MiB"
}

/// Log lines go to stderr at `level` (else GWLUA_LOG_LEVEL, else warning).
func bootstrapLogging(level: String?, environment: [String: String]) {
    let chosen = (level ?? environment["GWLUA_LOG_LEVEL"]).flatMap { Logger.Level(rawValue: $0.lowercased()) } ?? .warning
    LoggingSystem.bootstrap { label in
        var handler = StreamLogHandler.standardError(label: label)
        handler.logLevel = chosen
        return handler
    }
}

/// At `seconds` from now, interrupts the state as a timeout: running Lua stops
/// at its next instruction, a waiting API call's task is cancelled, and a REPL
/// waiting at its prompt ends. A SIGALRM timer rather than a thread: a process
/// with a second thread makes glibc's malloc take its locks, which cost a
/// table-heavy script about 8% (scripts/bench limits).
func startDeadline(_ seconds: Double, for interruption: LuaInterruption) {
    // The state outlives the run, and runLua sets one deadline per process.
    Deadline.target.store(UInt(bitPattern: Unmanaged.passUnretained(interruption).toOpaque()), ordering: .releasing)
    var action = sigaction()
    action.__sigaction_handler.sa_handler = Deadline.handler
    // No SA_RESTART: a REPL's read at its prompt must return. The timer's signal
    // goes to the main thread (the Lua thread), and the run is ending anyway.
    action.sa_flags = 0
    sigemptyset(&action.sa_mask)
    sigaction(SIGALRM, &action, nil)
    var set = sigset_t()
    sigemptyset(&set)
    sigaddset(&set, SIGALRM)
    pthread_sigmask(SIG_UNBLOCK, &set, nil)
    let whole = Int(seconds.rounded(.down))
    var timer = itimerval(it_interval: timeval(tv_sec: 0, tv_usec: 0),
                          it_value: timeval(tv_sec: whole, tv_usec: Int(((seconds - Double(whole)) * 1e6).rounded())))
    setitimer(__itimer_which_t(ITIMER_REAL.rawValue), &timer, nil)
}

enum Deadline {
    /// The interruption to request, as an unretained pointer (a signal handler
    /// must not touch reference counts).
    static let target = Atomic<UInt>(0)

    static let handler: @convention(c) (Int32) -> Void = { _ in
        let raw = Deadline.target.load(ordering: .acquiring)
        guard raw != 0, let pointer = UnsafeRawPointer(bitPattern: raw) else { return }
        Unmanaged<LuaInterruption>.fromOpaque(pointer)._withUnsafeGuaranteedRef {
            $0.request(reason: .timeout)
        }
        REPL.interruptRead()  // a REPL waiting at its prompt ends too
    }
}
