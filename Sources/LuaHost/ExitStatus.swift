/// gwlua's exit statuses (DESIGN.md), the one table every site uses: lua(1)'s
/// own, sysexits(3)'s where they fit, and timeout(1)'s and the shell's for signals.
public enum ExitStatus {
    public static let success: Int32 = 0
    /// An uncaught script error (lua(1)).
    public static let failure: Int32 = 1
    /// An apply finished with some items failed.
    public static let partial: Int32 = 2
    /// Bad command-line words (EX_USAGE).
    public static let usage: Int32 = 64
    /// An invalid spec or data (EX_DATAERR).
    public static let invalid: Int32 = 65
    /// A script or file that cannot be read (EX_NOINPUT).
    public static let noInput: Int32 = 66
    /// The API unavailable after retries (EX_UNAVAILABLE).
    public static let unavailable: Int32 = 69
    /// Try again later: a lock held, throttled out (EX_TEMPFAIL).
    public static let temporary: Int32 = 75
    /// Unauthenticated or permission denied (EX_NOPERM).
    public static let denied: Int32 = 77
    /// Configuration: no token, a bad endpoint (EX_CONFIG).
    public static let config: Int32 = 78
    /// `--timeout` reached, as timeout(1) reports it.
    public static let timedOut: Int32 = 124
    /// SIGINT.
    public static let interrupted: Int32 = 130
    /// SIGTERM.
    public static let terminated: Int32 = 143
}

/// Why a run was asked to stop; the first reason that is final stays.
public enum InterruptReason: Int, Sendable {
    case none = 0
    /// SIGINT (Ctrl-C).
    case interrupt = 1
    /// `--timeout` reached: final, later signals do not change it.
    case timeout = 2
    /// SIGTERM.
    case terminate = 3
}
