import CLua
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A request to stop: set from any thread, including a signal handler (only
/// atomics and `lua_sethook`, which lua.c also calls from its handler).
public final class LuaInterruption: Sendable {
    private let requested = Atomic<Bool>(false)
    private let state = Atomic<UInt>(0)
    /// Why: used for the message of a cancelled wait ("interrupted", "timeout").
    private let reasonCode = Atomic<Int>(0)

    func attach(_ L: OpaquePointer) { state.store(UInt(bitPattern: Int(bitPattern: UnsafeRawPointer(L))), ordering: .releasing) }
    func detach() { state.store(0, ordering: .releasing) }

    /// Stops running Lua code at the next instruction ("interrupted!") and makes
    /// any pending wait cancel its task. Async-signal-safe.
    public func request(reason: InterruptReason = .interrupt) {
        // A timeout is final: a signal after it does not change why the run stopped.
        if !isTimedOut { reasonCode.store(reason.rawValue, ordering: .relaxed) }
        requested.store(true, ordering: .releasing)
        let raw = state.load(ordering: .acquiring)
        if raw != 0, let L = OpaquePointer(bitPattern: raw) { gwlua_interrupt(L) }
    }

    public var isRequested: Bool { requested.load(ordering: .acquiring) }
    public var reason: InterruptReason { InterruptReason(rawValue: reasonCode.load(ordering: .relaxed)) ?? .none }

    /// True once a timeout was requested (it is never reset).
    public var isTimedOut: Bool { isRequested && reason == .timeout }

    /// Clears the request (the REPL does, after reporting it), unless it is a
    /// timeout, which ends the session. On the Lua thread.
    public func reset() {
        if isTimedOut { return }
        requested.store(false, ordering: .releasing)
        reasonCode.store(0, ordering: .relaxed)
        let raw = state.load(ordering: .acquiring)
        if raw != 0, let L = OpaquePointer(bitPattern: raw) { gwlua_clearstop(L) }
    }
}

/// Receives events that an async operation sends back to the Lua thread
/// (progress, per-item results).
public struct LuaEventSink<Event: Sendable>: Sendable {
    let mailbox: LuaMailbox<Event>
    public func send(_ event: Event) { mailbox.post(event) }
}

final class LuaMailbox<Event: Sendable>: @unchecked Sendable {
    // Guarded by `mutex`: a pthread pair, so the Lua thread can sleep on it
    // without occupying a thread of Swift's cooperative pool.
    private var mutex = pthread_mutex_t()
    private var condition = pthread_cond_t()
    private var events: [Event] = []
    private var finished = false

    init() {
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&condition, nil)
    }

    deinit {
        pthread_cond_destroy(&condition)
        pthread_mutex_destroy(&mutex)
    }

    func post(_ event: Event) {
        pthread_mutex_lock(&mutex)
        events.append(event)
        pthread_cond_signal(&condition)
        pthread_mutex_unlock(&mutex)
    }

    func finish() {
        pthread_mutex_lock(&mutex)
        finished = true
        pthread_cond_signal(&condition)
        pthread_mutex_unlock(&mutex)
    }

    /// Waits up to `milliseconds` for events or the end; returns what arrived.
    func take(waitingUpTo milliseconds: Int) -> (events: [Event], finished: Bool) {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        if events.isEmpty && !finished {
            var now = timespec()
            clock_gettime(CLOCK_REALTIME, &now)
            var deadline = now
            let nanos = Int(now.tv_nsec) + milliseconds * 1_000_000
            deadline.tv_sec += nanos / 1_000_000_000
            deadline.tv_nsec = nanos % 1_000_000_000
            pthread_cond_timedwait(&condition, &mutex, &deadline)
        }
        let out = events
        events.removeAll(keepingCapacity: true)
        return (out, finished)
    }
}

private final class ResultSlot<T: Sendable>: @unchecked Sendable {
    // Written once by the task before `finish()`, read after it: the mailbox's
    // mutex orders the two.
    var result: Result<T, Error>?
}

extension LuaState {
    /// Runs `operation` in Swift concurrency while this (the Lua) thread waits
    /// without taking a cooperative thread. Events the operation sends are
    /// handed to `onEvent` here, on the Lua thread, as they arrive. An
    /// interruption cancels the task and throws `LuaError.interrupted` once the
    /// task has finished.
    ///
    /// `onInterruption`, when given, is asked first on a signal's interruption
    /// (not a timeout's): returning true lets the operation drain (it was told
    /// to stop launching work) instead of being cancelled; the wait then
    /// returns normally and the caller sees `interruption.isRequested`.
    public func wait<T: Sendable, Event: Sendable>(
        for operation: @escaping @Sendable (LuaEventSink<Event>) async throws -> T,
        onEvent: (Event) throws -> Void,
        onInterruption: (() -> Bool)? = nil
    ) throws -> T {
        let mailbox = LuaMailbox<Event>()
        let slot = ResultSlot<T>()
        let task = Task {
            do { slot.result = .success(try await operation(LuaEventSink(mailbox: mailbox))) } catch {
                slot.result = .failure(error)
            }
            mailbox.finish()
        }
        var cancelled = false
        var draining = false
        var handlerError: Error?
        while true {
            let (events, finished) = mailbox.take(waitingUpTo: 20)
            for event in events where handlerError == nil {
                do { try onEvent(event) } catch {
                    handlerError = error
                    task.cancel()
                }
            }
            if finished { break }
            if !cancelled && !draining && interruption.isRequested {
                if interruption.reason != .timeout, let onInterruption, onInterruption() {
                    draining = true
                } else {
                    cancelled = true
                    task.cancel()
                }
            }
        }
        if let handlerError { throw handlerError }
        if cancelled {
            throw LuaError.interrupted(interruption.reason == .timeout ? "timeout reached" : "interrupted!")
        }
        switch slot.result {
        case .success(let value): return value
        case .failure(let error): throw error
        case nil: throw LuaError.interrupted("interrupted!")
        }
    }

    /// `wait(for:onEvent:)` for operations that send no events.
    public func wait<T: Sendable>(for operation: @escaping @Sendable () async throws -> T) throws -> T {
        try wait(for: { (_: LuaEventSink<Never>) in try await operation() }, onEvent: { _ in })
    }
}
