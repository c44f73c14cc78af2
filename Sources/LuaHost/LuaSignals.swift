import CLua
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Routes SIGINT/SIGTERM to the running state's interruption, as lua.c does for
/// Ctrl-C: the first signal stops Lua at the next instruction (and cancels any
/// pending wait); a second one, with the default action restored, ends the
/// process at once.
public enum LuaSignals {
    /// The interruption to notify, as an unretained pointer: a signal handler
    /// must not touch reference counts.
    private static let target = Atomic<UInt>(0)
    /// The last signal received while installed (0 for none).
    private static let received = Atomic<Int32>(0)

    public static var lastSignal: Int32 { received.load(ordering: .acquiring) }

    /// Runs `body` with SIGINT and SIGTERM interrupting `state`.
    public static func interrupting<T>(_ state: LuaState, _ body: () throws -> T) rethrows -> T {
        let raw = UInt(bitPattern: Unmanaged.passUnretained(state.interruption).toOpaque())
        target.store(raw, ordering: .releasing)
        received.store(0, ordering: .releasing)
        let oldInt = signal(SIGINT, handler)
        let oldTerm = signal(SIGTERM, handler)
        // A parent may hand us these signals blocked (some supervisors and test
        // runners do); a blocked SIGTERM would never stop the run.
        var set = sigset_t(), previous = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        pthread_sigmask(SIG_UNBLOCK, &set, &previous)
        defer {
            target.store(0, ordering: .releasing)
            signal(SIGINT, oldInt)
            signal(SIGTERM, oldTerm)
            pthread_sigmask(SIG_SETMASK, &previous, nil)
        }
        return try body()
    }

    private static let handler: @convention(c) (Int32) -> Void = { signo in
        signal(signo, SIG_DFL)  // a second signal ends the process
        LuaSignals.received.store(signo, ordering: .releasing)
        let raw = LuaSignals.target.load(ordering: .acquiring)
        guard raw != 0, let pointer = UnsafeRawPointer(bitPattern: raw) else { return }
        Unmanaged<LuaInterruption>.fromOpaque(pointer)._withUnsafeGuaranteedRef {
            $0.request(reason: signo == SIGTERM ? .terminate : .interrupt)
        }
    }
}
