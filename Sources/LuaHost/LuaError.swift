import CLua

/// Errors raised by the host and by Swift functions bound into Lua.
///
/// A Swift function throws one of these (or any `Error`); the trampoline turns it
/// into a Lua error once the Swift frame has returned.
public enum LuaError: Error, Equatable, CustomStringConvertible {
    /// A runtime error; Lua sees `message` prefixed with the caller's `chunk:line:`.
    case runtime(String)
    /// A message Lua sees exactly as given (already positioned, or deliberately bare).
    case message(String)
    /// A chunk failed to compile.
    case syntax(String)
    /// Lua code raised an error that Swift observed (through a protected call).
    case script(message: String, traceback: String?)
    /// An allocation was refused because the state's memory cap was reached.
    case memory(String)
    /// The run was interrupted (Ctrl-C, SIGTERM, a timeout).
    case interrupted(String)
    /// A value cannot be converted between Swift and Lua.
    case conversion(String)

    public var description: String {
        switch self {
        case .runtime(let m), .message(let m), .syntax(let m), .memory(let m),
             .interrupted(let m), .conversion(let m):
            return m
        case .script(let m, _):
            return m
        }
    }
}

/// An error that raises a Lua value of its own (a table with fields, say) rather
/// than a message string. Implementations push exactly one value.
public protocol LuaErrorValue: Error {
    func pushErrorValue(in call: LuaCall)
}

/// A Lua error value captured from a protected call, kept in the registry so that
/// rethrowing it from Swift raises the very same value (a structured error stays
/// structured through a Swift callback).
/// Unchecked: the reference is only touched on its state's thread, where the
/// error is raised and caught.
public struct LuaRaisedValue: LuaErrorValue, CustomStringConvertible, @unchecked Sendable {
    let reference: LuaReference
    public let description: String

    public func pushErrorValue(in call: LuaCall) {
        reference.push(onto: call.L)
    }
}
