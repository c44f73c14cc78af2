import GatewayKit
import LuaHost
import Synchronization

/// What the host (the command line) decides for clients: the endpoint and token
/// from flags and environment, or an in-process emulator's.
public struct GatewaySettings: Sendable {
    public var endpoint: String
    /// nil when no token was found; `tokenSource` says where it was looked for.
    public var token: String?
    public var tokenSource: String
    public var maxAttempts: Int
    public var timeout: Duration
    /// `--dry-run`: apply plans and prints, and changes nothing.
    public var dryRun = false
    /// `--json`: apply writes JSON Lines events on stdout.
    public var jsonEvents = false
    /// `--journal FILE`: the journal apply uses when its options name none.
    public var journalPath: String?
    /// `--safe`: scripts may not point clients (and so the token) at another
    /// endpoint, nor write journals where they like.
    public var safe = false
    /// Draw a progress bar on stderr (it is a terminal).
    public var progress = false
    /// Whether the script is the user's, who may pass a token to gateway.client: the
    /// "no API token" message then says so. A fleet command's built-in script is not.
    public var scriptIsUsers = true
    /// What apply runs did, for the process's exit status and metrics.
    public let report = RunReport()
    /// How clients choose a proxy (`--proxy`, else the environment's).
    public var proxy: NetworkSettings.ProxyChoice = .environment
    /// `--ca-file`: more trust roots.
    public var caFile: String?
    /// The environment proxies and trust roots are read from.
    public var environment: [String: String] = [:]
    /// The endpoint is the in-process emulator (`--local`): never through a proxy.
    public var local = false

    public init(endpoint: String = ClientConfiguration.defaultEndpoint, token: String? = nil,
                tokenSource: String = "COREWEAVE_API_TOKEN", maxAttempts: Int = 5, timeout: Duration = .seconds(30)) {
        self.endpoint = endpoint
        self.token = token
        self.tokenSource = tokenSource
        self.maxAttempts = maxAttempts
        self.timeout = timeout
    }
}

/// Failures across every apply of a run, so a script that ends normally
/// still exits 2 (or 69/77 when every failure is of that kind).
public final class RunReport: Sendable {
    private let state = Mutex<ApplyTally>(ApplyTally())

    public init() {}

    public func add(_ tally: ApplyTally) {
        state.withLock { total in
            total.created += tally.created
            total.updated += tally.updated
            total.replaced += tally.replaced
            total.unchanged += tally.unchanged
            total.deleted += tally.deleted
            total.failed += tally.failed
            total.skipped += tally.skipped
            total.failureCodes.formUnion(tally.failureCodes)
            total.byAction.merge(tally.byAction, uniquingKeysWith: +)
        }
    }

    /// Every apply of the run, tallied.
    public var tally: ApplyTally { state.withLock { $0 } }

    /// nil when nothing failed; else DESIGN.md's status for the failures.
    public var exitStatus: Int32? {
        let t = tally
        guard t.failed > 0 else { return nil }
        if !t.failureCodes.isEmpty, t.failureCodes.isSubset(of: APIError.Code.denied) { return ExitStatus.denied }
        if t.succeeded == 0, !t.failureCodes.isEmpty, t.failureCodes.isSubset(of: APIError.Code.unreachable) {
            return ExitStatus.unavailable
        }
        return ExitStatus.partial
    }
}

extension APIError.Code {
    /// The exit status an uncaught error of this code ends `gwlua run` with (DESIGN.md), or nil for 1.
    public var exitStatus: Int32? {
        switch self {
        case .validation, .invalidArgument, .journal, .stalePlan: return ExitStatus.invalid
        case .internal: return ExitStatus.unavailable
        case _ where Self.unreachable.contains(self): return ExitStatus.unavailable
        case .resourceExhausted, .locked: return ExitStatus.temporary
        case .unauthenticated, .permissionDenied: return ExitStatus.denied
        case .config: return ExitStatus.config
        default: return nil
        }
    }
}
