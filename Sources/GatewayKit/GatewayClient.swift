import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1

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

    public static let defaultEndpoint = "https://api.coreweave.com"

    public init(endpoint: String = ClientConfiguration.defaultEndpoint, token: String, timeout: Duration = .seconds(30),
                maxAttempts: Int = 5, maxTotalTime: Duration = .seconds(300), baseDelay: Duration = .milliseconds(200),
                maxDelay: Duration = .seconds(5), userAgent: String = "gwlua/\(GatewayKit.version)") {
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
            throw APIError(code: "CONFIG", message: "endpoint '\(endpoint)' is not a URL such as https://api.coreweave.com")
        }
        switch scheme {
        case "https": break
        case "http":
            guard ClientConfiguration.isLoopback(host) else {
                throw APIError(code: "CONFIG", message: "refusing to send the API token over plain http to \(host); use https (http is allowed only to a loopback address)")
            }
        default:
            throw APIError(code: "CONFIG", message: "endpoint '\(endpoint)' must use https")
        }
        if token.isEmpty { throw APIError(code: "CONFIG", message: "the API token is empty") }
        var copy = self
        while copy.endpoint.hasSuffix("/") { copy.endpoint.removeLast() }
        return copy
    }

    static func isLoopback(_ host: String) -> Bool {
        let h = host.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
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
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 64
        configuration.timeout.connect = .seconds(10)
        // No request spans: gwlua bootstraps no tracer, and building a span's name and
        // attributes for the no-op one cost about 9,000 instructions per request (callgrind).
        configuration.tracing.tracer = nil
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }()

    /// Method, path, status, timing and retries; never headers or bodies (the
    /// token and any W&B apiKey live there).
    let logger: Logger

    /// The create request without headers or body, parsed once: parsing its URL
    /// was 4% of a create's instructions, and batches send thousands.
    let createTemplate: HTTPClient.Request

    public init(configuration: ClientConfiguration, http: HTTPClient = GatewayClient.sharedHTTPClient,
                logger: Logger = Logger(label: "gwlua.client")) throws {
        self.configuration = try configuration.validated()
        self.http = http
        self.logger = logger
        do {
            createTemplate = try HTTPClient.Request(url: self.configuration.endpoint + Self.path, method: .POST)
        } catch {
            throw APIError(code: "CONFIG", message: "endpoint '\(self.configuration.endpoint)' is not usable: \(Self.describe(error))")
        }
    }

    public func parameters() async throws -> GatewayParameters {
        try await call(.GET, "\(Self.path)/parameters", as: GatewayParameters.self)
    }

    /// Creates a gateway. A spec without an id gets one here, so a retry after a
    /// lost answer finds the first attempt's gateway instead of making another.
    public func create(_ spec: GatewaySpec) async throws -> Gateway {
        var spec = spec
        if spec.id == nil { spec.id = GatewaySpec.newID() }
        let body = try spec.requestJSON()
        do {
            return try await call(.POST, Self.path, body: body, as: GatewayEnvelope.self, idempotent: true).gateway
        } catch let error as RetriedConflict {
            // Our earlier attempt may have succeeded: the gateway with our id is ours if it matches.
            guard let id = spec.id else { throw error.error }
            let existing = try await get(id)
            if existing.spec.sameRequest(as: spec) { return existing }
            throw error.error
        }
    }

    public func get(_ id: String) async throws -> Gateway {
        try await call(.GET, "\(Self.path)/\(escape(id))", as: GatewayEnvelope.self).gateway
    }

    public func list(updatedAfter: String? = nil) async throws -> [Gateway] {
        var path = Self.path
        if let updatedAfter {
            path += "?updatedAfter=" + (updatedAfter.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? updatedAfter)
        }
        return try await call(.GET, path, as: GatewayList.self).items
    }

    public func update(_ id: String, _ spec: GatewaySpec) async throws -> Gateway {
        var spec = spec
        spec.id = nil
        return try await call(.PATCH, "\(Self.path)/\(escape(id))", body: try spec.requestJSON(), as: GatewayEnvelope.self).gateway
    }

    public func delete(_ id: String) async throws -> Gateway {
        try await call(.DELETE, "\(Self.path)/\(escape(id))", as: GatewayEnvelope.self).gateway
    }

    /// Polls get until READY, backing off from 0.5 s to `interval`; ERROR or
    /// FAILED and the timeout throw (FAILED_PRECONDITION, TIMEOUT).
    public func waitUntilReady(_ id: String, timeout: Double, interval: Double) async throws -> Gateway {
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(timeout)
        var delay = min(0.5, interval)
        while true {
            let g = try await get(id)
            switch g.status.status {
            case .ready: return g
            case .error, .failed:
                let reason = g.status.conditions.first { $0.status?.rawValue == "False" }?.message ?? ""
                throw APIError(code: "FAILED_PRECONDITION",
                               message: "gateway \(id) is \(g.status.status.rawValue)\(reason.isEmpty ? "" : ": \(reason)")")
            default:
                if clock.now + .seconds(delay) > deadline {
                    throw APIError(code: "TIMEOUT", message: "gateway \(id) was not READY within \(timeout) s (last status \(g.status.status.rawValue))")
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
            do { _ = try await get(id) } catch let error as APIError where error.code == "NOT_FOUND" { return }
            if clock.now + .seconds(delay) > deadline {
                throw APIError(code: "TIMEOUT", message: "gateway \(id) was still there \(timeout) s after its delete")
            }
            try await Self.pause(delay, "waiting for gateway \(id) to go")
            delay = min(interval, delay * 2)
        }
    }

    /// Sends a PATCH with a prepared body (only the fields that change).
    public func patch(_ id: String, body: Data) async throws -> Gateway {
        try await call(.PATCH, "\(Self.path)/\(escape(id))", body: body, as: GatewayEnvelope.self).gateway
    }

    private static func pause(_ seconds: Double, _ what: String) async throws {
        do { try await Task.sleep(for: .seconds(seconds)) } catch {
            throw APIError(code: "CANCELLED", message: "\(what) was cancelled")
        }
    }

    private func escape(_ id: String) -> String {
        id.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/"))) ?? id
    }

    // MARK: Requests and retries

    struct RetriedConflict: Error { let error: APIError }

    /// Whether a call may be sent again: reads always; PATCH and DELETE are
    /// idempotent by path; a create only with an id in its body.
    private func call<T: JSONRepresentable>(_ method: HTTPMethod, _ path: String, body: Data? = nil, as type: T.Type,
                                    idempotent: Bool = true) async throws -> T {
        let clock = ContinuousClock()
        let deadline = clock.now + configuration.maxTotalTime
        var attempt = 0
        while true {
            attempt += 1
            let started = clock.now
            let outcome = await send(method, path, body: body)
            let retryAfter: Duration?
            let failure: APIError
            switch outcome {
            case .answer(let status, let data, let headerRetryAfter):
                logger.debug("\(method) \(path) -> \(status) in \(Self.milliseconds(clock.now - started)) ms (attempt \(attempt))")
                if (200..<300).contains(status) {
                    do { return try WireJSON.decode(T.self, from: data) } catch {
                        throw APIError(code: "TRANSPORT", httpStatus: status,
                                       message: "the answer to \(method) \(path) is not the expected JSON: \(Self.describe(error))")
                    }
                }
                failure = APIError.from(httpStatus: status, body: data)
                if status == 409 && attempt > 1 && method == .POST { throw RetriedConflict(error: failure) }
                guard Self.isRetryable(status: status) else { throw failure }
                retryAfter = headerRetryAfter
            case .transport(let error):
                if Task.isCancelled { throw APIError(code: "CANCELLED", message: "\(method) \(path) was cancelled") }
                failure = error
                retryAfter = nil
            }
            guard idempotent, attempt < configuration.maxAttempts else { throw failure }
            let jitter = Self.backoff(attempt: attempt, base: configuration.baseDelay, cap: configuration.maxDelay)
            let wait = retryAfter ?? jitter
            guard clock.now + wait < deadline else { throw failure }
            logger.notice("retrying \(method) \(path) in \(Self.milliseconds(wait)) ms after \(failure.httpStatus.map { "HTTP \($0)" } ?? failure.code) (attempt \(attempt + 1) of \(configuration.maxAttempts))")
            do { try await Task.sleep(for: wait) } catch {
                throw APIError(code: "CANCELLED", message: "\(method) \(path) was cancelled")
            }
        }
    }

    enum Outcome {
        case answer(status: Int, body: Data, retryAfter: Duration?)
        case transport(APIError)
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
            return .transport(APIError(code: Self.isTimeout(error) ? "DEADLINE_EXCEEDED" : "TRANSPORT",
                                       message: "\(method) \(configuration.endpoint)\(path) failed: \(Self.describe(error))"))
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
        let v = value.trimmingCharacters(in: .whitespaces)
        if let seconds = Double(v), seconds >= 0 { return .seconds(min(seconds, 3600)) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: v) else { return nil }
        return .seconds(min(max(date.timeIntervalSinceNow, 0), 3600))
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
        func normalised(_ s: GatewaySpec) -> GatewaySpec {
            var s = s
            s.organizationId = nil
            s.id = s.id?.lowercased()
            s.weightsAndBiasesAuth?.apiKey = nil
            s.zones = s.zones.map { $0.uppercased() }
            if s.endpointConfiguration?.additionalDns.isEmpty == true { s.endpointConfiguration = nil }
            return s
        }
        return normalised(self) == normalised(request)
    }
}

/// The client's retry rules, exposed for tests.
public enum GatewayClientTesting {
    public static func retryAfter(_ value: String) -> Duration? { GatewayClient.parseRetryAfter(value) }
    public static func retryable(_ status: Int) -> Bool { GatewayClient.isRetryable(status: status) }
}
