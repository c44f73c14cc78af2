import AsyncHTTPClient
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import TextSupport
import Logging
import NIOCore
import NIOHTTP1
import Synchronization

/// Where and how to reach the API.
public struct ClientConfiguration: Sendable {
    public var endpoint: String
    /// A secret: never printed, logged or put in an error.
    public var token: String
    /// Per-request timeout.
    public var timeout: Duration
    /// Attempts per call, the first included.
    public var maxAttempts: Int
    /// Total time a call may spend, retries and waits included.
    public var maxTotalTime: Duration
    /// Backoff: full jitter over min(maxDelay, baseDelay * 2^attempt).
    public var baseDelay: Duration
    public var maxDelay: Duration
    public var userAgent: String
    /// The proxy and the extra trust roots (see `NetworkSettings.resolve`).
    public var network: NetworkSettings

    public static let defaultEndpoint = "https://api.coreweave.com"

    public init(endpoint: String = ClientConfiguration.defaultEndpoint, token: String, timeout: Duration = .seconds(30),
                maxAttempts: Int = 5, maxTotalTime: Duration = .seconds(300), baseDelay: Duration = .milliseconds(200),
                maxDelay: Duration = .seconds(5), userAgent: String = "gwlua/\(GatewayKit.version)",
                network: NetworkSettings = NetworkSettings()) {
        self.network = network
        self.endpoint = endpoint
        self.token = token
        self.timeout = timeout
        self.maxAttempts = maxAttempts
        self.maxTotalTime = maxTotalTime
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.userAgent = userAgent
    }

    /// Checks the endpoint: a URL with a host; plain http only to a loopback
    /// address, so the token never crosses a network unencrypted.
    public func validated() throws -> ClientConfiguration {
        guard let url = URL(string: endpoint), let scheme = url.scheme?.lowercased(), let host = url.host, !host.isEmpty else {
            throw APIError(code: .config, message: "endpoint '\(endpoint)' is not a URL such as https://api.coreweave.com")
        }
        switch scheme {
        case "https": break
        case "http":
            guard ClientConfiguration.isLoopback(host) else {
                throw APIError(code: .config, message: "refusing to send the API token over plain http to \(host); use https (http is allowed only to a loopback address)")
            }
        default:
            throw APIError(code: .config, message: "endpoint '\(endpoint)' must use https")
        }
        if token.isEmpty { throw APIError(code: .config, message: "the API token is empty") }
        var copy = self
        while copy.endpoint.hasSuffix("/") { copy.endpoint.removeLast() }
        return copy
    }

    static func isLoopback(_ host: String) -> Bool {
        let h = host.lowercased().trimming("[]")
        return h == "localhost" || h == "::1" || h.hasPrefix("127.")
    }
}

/// The gateway API over AsyncHTTPClient, with retries that never duplicate a create.
public final class GatewayClient: Sendable {
    public let configuration: ClientConfiguration
    let http: HTTPClient
    static let path = "/v1alpha1/inference/gateways"

    /// The process-wide HTTP client every GatewayClient shares (connection reuse).
    /// It lives as long as the process, so there is nothing to shut down. It does
    /// not retry connection establishment itself: gwlua's own retries (with
    /// backoff, attempt and time budgets, cancellation) decide, so a refused
    /// connection is reported at once instead of after the request timeout.
    public static let sharedHTTPClient: HTTPClient = {
        // The plain settings: no proxy, the system's trust roots.
        HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: NetworkSettings().httpConfiguration())
    }()

    /// Method, path, status, timing and retries; never headers or bodies (the
    /// token and any W&B apiKey live there).
    let logger: Logger

    /// The create request without headers or body, parsed once: parsing its URL
    /// was 4% of a create's instructions, and batches send thousands.
    let createTemplate: HTTPClient.Request

    /// `http`: the HTTP client to use; by default the shared one for the configuration's network settings.
    public init(configuration: ClientConfiguration, http: HTTPClient? = nil,
                logger: Logger = Logger(label: "gwlua.client")) throws {
        self.configuration = try configuration.validated()
        self.http = http ?? configuration.network.httpClient()
        self.logger = logger
        do {
            createTemplate = try HTTPClient.Request(url: self.configuration.endpoint + Self.path, method: .POST)
        } catch {
            throw APIError(code: .config, message: "endpoint '\(self.configuration.endpoint)' is not usable: \(Self.describe(error))")
        }
    }

    public func parameters() async throws -> GatewayParameters {
        try await call(.GET, "\(Self.path)/parameters", as: GatewayParameters.self)
    }

    /// Creates a gateway exactly once, whether or not the server keeps the id the
    /// client sends (the API's docs leave it open: docs/api-compatibility.md). A spec without an id gets one here.
    /// Before re-sending a create whose answer was lost (a dropped connection, a
    /// timeout, a 5xx), the client looks for the first attempt's gateway: by id
    /// (unless the server is known to ignore ids), then in the list, by name and
    /// spec among those that appeared since the first attempt and that no other
    /// create of this process has claimed. It sends again only when neither finds it.
    public func create(_ spec: GatewaySpec) async throws -> Gateway {
        do {
            return try await createOnce(spec)
        } catch let error as APIError {
            // A 400 made nothing: sending again without fields the API refuses is safe.
            guard let (retry, dropped) = Self.withoutRefusedUnknownFields(spec, error) else { throw error }
            logger.notice("the API refused fields gwlua does not know (\(dropped.joined(separator: ", "))): creating \(spec.name) again without them")
            return try await createOnce(retry)
        }
    }

    /// `spec` without the fields gwlua does not know that `error` (a 400) names as
    /// bad, and their paths; nil when it names none. A newer server may answer with
    /// fields it sets itself and then refuse them in a request (output only): those
    /// are the server's own, so leaving them out of the request loses nothing.
    static func withoutRefusedUnknownFields(_ spec: GatewaySpec, _ error: APIError) -> (GatewaySpec, [String])? {
        guard error.code == .invalidArgument else { return nil }
        let unknown = Set(spec.unknownFieldPaths)
        let refused = Array(Set(error.details.flatMap(\.fieldViolations).map(\.field).filter { unknown.contains($0) })).sorted()
        guard !refused.isEmpty else { return nil }
        var retry = spec
        for path in refused { retry[path: path] = nil }
        return (retry, refused)
    }

    private func createOnce(_ spec: GatewaySpec) async throws -> Gateway {
        var spec = spec
        if spec.id == nil { spec.id = GatewaySpec.newID() }
        let body = try spec.requestJSON()
        let request = spec
        let firstSent = Date()  // one clock read per create: the reconcile window starts here
        let created: Gateway
        do {
            created = try await call(.POST, Self.path, body: body, as: GatewayEnvelope.self, idempotent: true) {
                try await self.findCreated(request, since: firstSent).map { GatewayEnvelope(gateway: $0) }
            }.gateway
        } catch let error as RetriedConflict {
            // Our earlier attempt may have succeeded: the gateway with our id is ours if it matches.
            guard let id = spec.id else { throw error.error }
            let existing = try await get(id)
            guard existing.spec.sameRequest(as: spec) else { throw error.error }
            created = existing
        }
        if let sent = spec.id, let got = created.spec.id {
            clientIDs.learn(honoured: sent.caseInsensitiveEquals(got))
        }
        // Claims guard list adoption, which a server that keeps client ids never needs.
        if clientIDs.mode != .honoured { claims.claim(created.spec.id) }
        return created
    }

    /// The gateway an earlier attempt of this create made, if any (see `create`).
    func findCreated(_ request: GatewaySpec, since firstSent: Date) async throws -> Gateway? {
        let mode = clientIDs.mode
        if mode != .ignored, let id = request.id {
            do {
                let found = try await get(id)
                if found.spec.sameRequest(as: request), claims.claim(found.spec.id) { return found }
            } catch let error as APIError where error.code == .notFound {
                // A server that keeps client ids would have it under ours: it was not created.
                if mode == .honoured { return nil }
            }
        }
        // The server may have made it under an id of its own: look by name and spec
        // among the gateways that appeared since the first attempt (a margin for clock skew).
        let earliest = firstSent.addingTimeInterval(-Self.clockSkewMargin)
        let candidates = Gateway.matching(request, in: try await list(updatedAfter: Timestamp.format(earliest)))
            .filter { $0.status.createdDate.map { $0 >= earliest } ?? true }
        for candidate in candidates where claims.claim(candidate.spec.id) {
            logger.notice("adopted gateway \(candidate.spec.id ?? "?") named \(request.name): the first create's answer was lost and the server did not keep the client's id")
            return candidate
        }
        return nil
    }

    /// How far clocks (ours, the server's, an overlapping run's) may disagree when a
    /// gateway is judged by when it was made: a lost create's look-up, convergence.
    static let clockSkewMargin: TimeInterval = 300

    /// Whether the server keeps the ids clients send, as the answers show it.
    let clientIDs = ClientIDMode()
    /// Ids of gateways this process created or adopted: never adopted twice.
    let claims = Claims.shared

    public func get(_ id: String) async throws -> Gateway {
        try await call(.GET, "\(Self.path)/\(escape(id))", as: GatewayEnvelope.self).gateway
    }

    public func list(updatedAfter: String? = nil) async throws -> [Gateway] {
        var path = Self.path
        if let updatedAfter {
            path += "?updatedAfter=" + PercentEncoding.encode(updatedAfter, allowing: PercentEncoding.alphanumerics)
        }
        return try await call(.GET, path, as: GatewayList.self).items
    }

    /// Sends the whole spec (the API takes no field mask), merged over what the
    /// gateway holds (`base`, else read now): fields gwlua does not know and optional
    /// fields the spec leaves unset go back as they are instead of being reset.
    public func update(_ id: String, _ spec: GatewaySpec, base: GatewaySpec? = nil) async throws -> Gateway {
        let holds: GatewaySpec
        if let base { holds = base } else { holds = try await get(id).spec }
        var body = spec.merged(over: holds)
        body.id = nil
        do {
            return try await call(.PATCH, "\(Self.path)/\(escape(id))", body: try body.requestJSON(), as: GatewayEnvelope.self).gateway
        } catch let error as APIError {
            guard let (retry, dropped) = Self.withoutRefusedUnknownFields(body, error) else { throw error }
            logger.notice("the API refused fields gwlua does not know (\(dropped.joined(separator: ", "))) as part of an update: sending it again without them")
            return try await call(.PATCH, "\(Self.path)/\(escape(id))", body: try retry.requestJSON(), as: GatewayEnvelope.self).gateway
        }
    }

    public func delete(_ id: String) async throws -> Gateway {
        try await call(.DELETE, "\(Self.path)/\(escape(id))", as: GatewayEnvelope.self).gateway
    }

    /// Polls get until READY, backing off from 0.5 s to `interval`. STATUS_ERROR is
    /// recoverable: it is logged and reported through `onStatus`, and the wait goes
    /// on. STATUS_FAILED is final and throws at once (FAILED_PRECONDITION, with the
    /// gateway and its conditions); so does DELETING; the timeout throws TIMEOUT.
    /// `onStatus` hears every change of status, the first one included.
    public func waitUntilReady(_ id: String, timeout: Double, interval: Double,
                               onStatus: (@Sendable (Gateway) -> Void)? = nil) async throws -> Gateway {
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(timeout)
        var delay = min(0.5, interval)
        var last: GatewayStatusCode?
        while true {
            let g = try await get(id)
            if g.status.status != last {
                last = g.status.status
                onStatus?(g)
                if g.status.status == .error {
                    logger.notice("gateway \(id) is STATUS_ERROR (recoverable), still waiting: \(g.status.conditionSummary)")
                }
            }
            switch g.status.status {
            case .ready: return g
            case .failed, .deleting:
                let why = g.status.conditionSummary
                throw APIError(code: .failedPrecondition,
                               message: "gateway \(id) is \(g.status.status.rawValue)\(why.isEmpty ? "" : ": \(why)")"
                                   + (g.status.status == .failed ? " (final: delete it and create it again)" : " (it will not become ready)"),
                               gateway: g)
            default:
                if clock.now + .seconds(delay) > deadline {
                    throw APIError(code: .timeout, message: "gateway \(id) was not READY within \(timeout) s (last status \(g.status.status.rawValue))")
                }
                try await Self.pause(delay, "waiting for gateway \(id)")
                delay = min(interval, delay * 2)
            }
        }
    }

    /// Polls get until the gateway is gone (404), as a delete is only done then.
    public func waitUntilGone(_ id: String, timeout: Double, interval: Double) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(timeout)
        var delay = min(0.5, interval)
        while true {
            do { _ = try await get(id) } catch let error as APIError where error.code == .notFound { return }
            if clock.now + .seconds(delay) > deadline {
                throw APIError(code: .timeout, message: "gateway \(id) was still there \(timeout) s after its delete")
            }
            try await Self.pause(delay, "waiting for gateway \(id) to go")
            delay = min(interval, delay * 2)
        }
    }

    static func pause(_ seconds: Double, _ what: String) async throws {
        do { try await Task.sleep(for: .seconds(seconds)) } catch {
            throw APIError(code: .cancelled, message: "\(what) was cancelled")
        }
    }

    func escapedID(_ id: String) -> String { escape(id) }

    private func escape(_ id: String) -> String {
        PercentEncoding.encode(id, allowing: PercentEncoding.pathSegment)
    }

    // MARK: Requests and retries

    struct RetriedConflict: Error { let error: APIError }

    /// With `reconcile`, a create whose answer may have been lost is looked for
    /// before it is sent again (the closure answers what the first attempt made, or
    /// nil); when it is found, that is the answer.
    func call<T: JSONRepresentable>(_ method: HTTPMethod, _ path: String, body: Data? = nil, as type: T.Type,
                                    idempotent: Bool = true,
                                    reconcile: (@Sendable () async throws -> T?)? = nil) async throws -> T {
        let clock = ContinuousClock()
        let deadline = clock.now + configuration.maxTotalTime
        var attempt = 0
        while true {
            attempt += 1
            let started = clock.now
            let outcome = await send(method, path, body: body)
            let retryAfter: Duration?
            let failure: APIError
            let mayHaveHappened: Bool
            switch outcome {
            case .answer(let status, let data, let headerRetryAfter):
                APIMetrics.shared.answered(status)
                logger.debug("\(method) \(path) -> \(status) in \(Self.milliseconds(clock.now - started)) ms (attempt \(attempt))")
                if (200..<300).contains(status) {
                    do {
                        if let raw = T.self as? RawJSONDecodable.Type, let value = try raw.init(data: data) as? T { return value }
                        return try WireJSON.decode(T.self, from: data)
                    } catch {
                        throw APIError(code: .transport, httpStatus: status,
                                       message: "the answer to \(method) \(path) is not the expected JSON: \(Self.describe(error))")
                    }
                }
                failure = APIError.from(httpStatus: status, body: data)
                if status == 409 && attempt > 1 && method == .POST { throw RetriedConflict(error: failure) }
                guard Self.isRetryable(status: status), !failure.isQuotaExhausted else { throw failure }
                retryAfter = headerRetryAfter ?? failure.retryDelay.map { min($0, .seconds(3600)) }
                // A refusal to take the request (429) did nothing; other answers may come after the work.
                mayHaveHappened = status != 429
            case .transport(let error, let retryable):
                APIMetrics.shared.failedInTransport()
                if Task.isCancelled { throw APIError(code: .cancelled, message: "\(method) \(path) was cancelled") }
                // A certificate, a proxy's refusal of the credentials, a name that does not exist: waiting will not help.
                guard retryable else { throw error }
                failure = error
                retryAfter = nil
                mayHaveHappened = true
            }
            guard idempotent, attempt < configuration.maxAttempts else { throw failure }
            let jitter = Self.backoff(attempt: attempt, base: configuration.baseDelay, cap: configuration.maxDelay)
            let wait = retryAfter ?? jitter
            guard clock.now + wait < deadline else { throw failure }
            APIMetrics.shared.retried()
            logger.notice("retrying \(method) \(path) in \(Self.milliseconds(wait)) ms after \(failure.httpStatus.map { "HTTP \($0)" } ?? failure.code.rawValue) (attempt \(attempt + 1) of \(configuration.maxAttempts))")
            do { try await Task.sleep(for: wait) } catch {
                throw APIError(code: .cancelled, message: "\(method) \(path) was cancelled")
            }
            if mayHaveHappened, let reconcile {
                do {
                    if let found = try await reconcile() { return found }
                } catch let error as APIError {
                    throw APIError(code: error.code, httpStatus: error.httpStatus,
                                   message: "\(method) \(path): the answer was lost (\(failure.code)) and looking for what it did failed: \(error.message)",
                                   details: error.details)
                }
            }
        }
    }

    enum Outcome {
        case answer(status: Int, body: Data, retryAfter: Duration?)
        case transport(APIError, retryable: Bool)
    }

    /// One attempt. AHC's future-based API, because its async one hops between the
    /// event loop and the cooperative pool several times per request (head, body
    /// parts, end): with the future the answer is gathered on the event loop and
    /// this task resumes once. Cancelling the task cancels the request.
    private func send(_ method: HTTPMethod, _ path: String, body: Data?) async -> Outcome {
        do {
            var headers = HTTPHeaders()
            headers.reserveCapacity(5)
            headers.add(name: "Authorization", value: "Bearer \(configuration.token)")
            headers.add(name: "Accept", value: "application/json")
            headers.add(name: "User-Agent", value: configuration.userAgent)
            if body != nil { headers.add(name: "Content-Type", value: "application/json") }
            var request = method == .POST && path == Self.path
                ? createTemplate : try HTTPClient.Request(url: configuration.endpoint + path, method: method)
            request.headers = headers
            request.body = body.map { .bytes($0) }
            let task = http.execute(request: request, delegate: ResponseAccumulator(request: request, maxBodySize: 16 << 20),
                                    deadline: .now() + .nanoseconds(Int64(configuration.timeout.inSeconds * 1e9)))
            let response = try await withTaskCancellationHandler {
                try await task.futureResult.get()
            } onCancel: {
                task.cancel()
            }
            return .answer(status: Int(response.status.code), body: response.body.map { Data($0.readableBytesView) } ?? Data(),
                           retryAfter: response.headers.first(name: "Retry-After").flatMap(Self.parseRetryAfter))
        } catch {
            if Self.isTimeout(error) {
                return .transport(APIError(code: .deadlineExceeded, message: "\(method) \(configuration.endpoint)\(path) timed out"), retryable: true)
            }
            let failure = TransportFailure.classify(error, endpoint: configuration.endpoint, network: configuration.network)
            return .transport(APIError(code: failure.code, message: "\(method) \(configuration.endpoint)\(path) failed: \(failure.message)"),
                              retryable: failure.retryable)
        }
    }

    static func milliseconds(_ d: Duration) -> Int { Int((d.inSeconds * 1000).rounded()) }

    /// 408, 429 and 5xx but 501.
    static func isRetryable(status: Int) -> Bool {
        status == 408 || status == 429 || (status >= 500 && status <= 599 && status != 501)
    }

    static func backoff(attempt: Int, base: Duration, cap: Duration) -> Duration {
        let exponent = min(attempt - 1, 20)
        let ceiling = min(cap, base * (1 << exponent))
        let seconds = ceiling.inSeconds
        return .seconds(Double.random(in: 0...max(seconds, 0)))
    }

    /// `Retry-After` as seconds or an HTTP date.
    static func parseRetryAfter(_ value: String) -> Duration? {
        let v = value.trimmingWhitespace()
        if let seconds = Double(v), seconds >= 0 { return .seconds(min(seconds, 3600)) }
        guard let date = httpDate(v) else { return nil }
        return .seconds(min(max(date.timeIntervalSinceNow, 0), 3600))
    }

    /// An HTTP date (`Retry-After`, `Date`): `Tue, 08 Dec 2026 00:12:00 GMT`.
    static func httpDate(_ text: String) -> Date? {
        // IMF-fixdate (RFC 9110): the only form a server may send now.
        let words = text.split(separator: " ")
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        guard words.count == 6, words[0].hasSuffix(","), ["GMT", "UTC"].contains(words[5]),
              let day = Int32(words[1]), (1...31).contains(day),
              let month = months.firstIndex(of: String(words[2])),
              let year = Int32(words[3]), words[3].count == 4 else { return nil }
        let clock = words[4].split(separator: ":")
        guard clock.count == 3, clock.allSatisfy({ $0.count == 2 }),
              let hour = Int32(clock[0]), let minute = Int32(clock[1]), let second = Int32(clock[2]),
              hour < 24, minute < 60, second < 61 else { return nil }
        var t = tm()
        t.tm_year = year - 1900
        t.tm_mon = Int32(month)
        t.tm_mday = day
        t.tm_hour = hour
        t.tm_min = minute
        t.tm_sec = second
        return Date(timeIntervalSince1970: TimeInterval(timegm(&t)))
    }

    static func isTimeout(_ error: Error) -> Bool {
        if let e = error as? HTTPClientError, e == .deadlineExceeded || e == .readTimeout || e == .connectTimeout { return true }
        return false
    }

    static func describe(_ error: Error) -> String {
        if let e = error as? HTTPClientError { return String(describing: e) }
        return String(describing: error)
    }
}

extension GatewaySpec {
    /// Whether `self` (an answer's spec) is what `request` asked for: the API
    /// never returns the W&B apiKey and adds server fields, so those are not compared.
    public func sameRequest(as request: GatewaySpec) -> Bool {
        // The plan's comparison: defaults the server fills in, fields it adds and
        // the order it lists sets in are not differences (else a lost create's
        // look-up would miss its own gateway and create it twice).
        name == request.name && ShapeCompare.differences(from: self, to: request).isEmpty
    }
}

/// What the API calls of this process came to, for `--metrics-file`: answers by
/// status class ("2xx", "4xx", "5xx", or "transport" when none came) and retries.
public final class APIMetrics: Sendable {
    public static let shared = APIMetrics()
    /// Answers by class (index 0: 1xx … 4: 5xx, 5: other) and transport failures (6); a
    /// counter per slot, so counting a request builds no string.
    private let state = Mutex<(counts: [Int], retries: Int)>((Array(repeating: 0, count: 7), 0))
    static let classes = ["1xx", "2xx", "3xx", "4xx", "5xx", "other", "transport"]

    public struct Snapshot: Sendable {
        public var requests: [String: Int]
        public var retries: Int
    }

    public var snapshot: Snapshot {
        state.withLock { s in
            Snapshot(requests: Dictionary(uniqueKeysWithValues: zip(Self.classes, s.counts).filter { $0.1 > 0 }), retries: s.retries)
        }
    }

    func answered(_ status: Int) {
        let slot = (100...599).contains(status) ? status / 100 - 1 : 5
        state.withLock { $0.counts[slot] += 1 }
    }

    func failedInTransport() { state.withLock { $0.counts[6] += 1 } }
    func retried() { state.withLock { $0.retries += 1 } }
}

/// Whether the server keeps client-assigned ids, learnt from create answers:
/// unknown until the first one, then what the latest showed.
final class ClientIDMode: Sendable {
    enum Mode: Int { case unknown, honoured, ignored }
    private let state = Mutex<Mode>(.unknown)
    var mode: Mode { state.withLock { $0 } }
    func learn(honoured: Bool) { state.withLock { $0 = honoured ? .honoured : .ignored } }
}

/// Gateway ids that a create of this process made or adopted, so that two
/// creates of the same spec never both adopt one gateway. A claim matters only
/// while a lost create may still look for its gateway (the clock-skew margin and
/// a call's time budget), so claims live in two generations that rotate every
/// `generation`: a long-running process does not grow with every create, and a
/// claim is kept between one and two generations. UUIDs are kept as 16 bytes.
final class Claims: Sendable {
    static let shared = Claims()
    static let generation: Duration = .seconds(GatewayClient.clockSkewMargin * 2)

    /// A claimed UUID as its 16 bytes (ids that are not UUIDs are kept as text apart).
    struct UUIDKey: Hashable {
        let high: UInt64, low: UInt64

        init?(_ id: String) {
            var parts: (UInt64, UInt64) = (0, 0)
            var digits = 0
            for c in id.utf8 where c != UInt8(ascii: "-") {
                guard let v = Self.hex(c), digits < 32 else { return nil }
                if digits < 16 { parts.0 = parts.0 << 4 | UInt64(v) } else { parts.1 = parts.1 << 4 | UInt64(v) }
                digits += 1
            }
            guard digits == 32 else { return nil }
            (high, low) = parts
        }

        static func hex(_ c: UInt8) -> UInt8? {
            switch c {
            case 48...57: return c - 48
            case 97...102: return c - 87
            case 65...70: return c - 55
            default: return nil
            }
        }
    }

    struct Generation {
        var uuids: Set<UUIDKey> = []
        var others: Set<String> = []
        func contains(_ id: String, _ key: UUIDKey?) -> Bool { key.map { uuids.contains($0) } ?? others.contains(id.lowercased()) }
        mutating func insert(_ id: String, _ key: UUIDKey?) -> Bool {
            if let key { return uuids.insert(key).inserted }
            return others.insert(id.lowercased()).inserted
        }
    }

    private let state = Mutex<(current: Generation, previous: Generation, rotated: ContinuousClock.Instant)>((Generation(), Generation(), .now))

    /// Claims `id`; false when it was already claimed (or there is none).
    @discardableResult
    func claim(_ id: String?) -> Bool {
        guard let id else { return false }
        let key = UUIDKey(id)
        let now = ContinuousClock.now
        return state.withLock { s in
            if now - s.rotated > Self.generation {
                s.previous = s.current
                s.current = Generation()
                s.rotated = now
            }
            guard !s.previous.contains(id, key) else { return false }
            return s.current.insert(id, key)
        }
    }
}

extension Gateway {
    /// What orders gateways by age: createdAt (unknown last), then id, so every reader agrees.
    var ageKey: (Date, String) { (status.createdDate ?? .distantFuture, spec.id ?? "") }

    /// Whether `a` is older than `b` (createdAt, then id).
    public static func olderFirst(_ a: Gateway, _ b: Gateway) -> Bool { a.ageKey < b.ageKey }

    /// `gateways` oldest first; each createdAt is parsed once, not once per comparison.
    public static func oldestFirst(_ gateways: [Gateway]) -> [Gateway] {
        gateways.map { ($0.ageKey, $0) }.sorted { $0.0 < $1.0 }.map(\.1)
    }

    /// Those of `gateways` that `spec` asked for: its name and spec, whatever id the
    /// server gave them, not being deleted; oldest first, so every reader picks the
    /// same one (a lost create's look-up, overlapping runs' convergence).
    public static func matching(_ spec: GatewaySpec, in gateways: [Gateway]) -> [Gateway] {
        oldestFirst(gateways.filter { g in
            guard g.spec.name == spec.name, g.status.status != .deleting else { return false }
            var asked = spec
            asked.id = g.spec.id
            return g.spec.sameRequest(as: asked)
        })
    }
}

extension GatewayStatus {
    /// `createdAt` as a time (nil when absent or unreadable).
    public var createdDate: Date? { createdAt.flatMap(Timestamp.parse) }

    /// The conditions that are not True, as one line: "Ready: ProvisioningFailed: no capacity (US-EAST-04A)".
    public var conditionSummary: String {
        conditions.filter { $0.status?.rawValue != "True" }.map { c in
            [c.type, c.reason, c.message].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: ": ")
                + (c.zone.map { " (\($0))" } ?? "")
        }.joined(separator: "; ")
    }
}

/// RFC 3339 times as the API writes them.
public enum Timestamp {
    public static func parse(_ text: String) -> Date? {
        if let d = try? Date(text, strategy: .iso8601) { return d }
        return try? Date(text, strategy: .iso8601.year().month().day().time(includingFractionalSeconds: true))
    }

    /// UTC with milliseconds ("2023-11-07T05:31:56.123Z"), by hand: the emulator
    /// stamps three per answer, and Foundation's ISO 8601 style cost it several
    /// percent of each request.
    public static func format(_ date: Date) -> String {
        let whole = date.timeIntervalSince1970.rounded(.down)
        var seconds = time_t(whole)
        let fraction = min(999, Int((date.timeIntervalSince1970 - whole) * 1000))  // truncated, as Foundation does
        var t = tm()
        gmtime_r(&seconds, &t)
        func pad(_ n: Int32, _ width: Int) -> String {
            let digits = String(n)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return "\(pad(t.tm_year + 1900, 4))-\(pad(t.tm_mon + 1, 2))-\(pad(t.tm_mday, 2))T"
            + "\(pad(t.tm_hour, 2)):\(pad(t.tm_min, 2)):\(pad(t.tm_sec, 2)).\(pad(Int32(fraction), 3))Z"
    }
}

/// The client's retry rules, exposed for tests.
public enum GatewayClientTesting {
    public static func retryAfter(_ value: String) -> Duration? { GatewayClient.parseRetryAfter(value) }
    public static func httpDate(_ text: String) -> Date? { GatewayClient.httpDate(text) }
    public static func retryable(_ status: Int) -> Bool { GatewayClient.isRetryable(status: status) }
}
