import Foundation
import GatewayKit
import Hummingbird
import NIOCore
import Synchronization

/// A request context that keeps the connection, so fault injection can drop it.
public struct SimRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }
}

/// A faithful local emulator of the gateway API (API.md), served over HTTP by
/// Hummingbird, with seeded fault injection.
public final class GatewaySimulator: Sendable {
    public let configuration: SimConfiguration
    let store: SimStore
    private let random: Mutex<SplitMix64>
    private let counters = Mutex<[String: Int]>([:])
    /// When each call arrived (monotonic; the latest 5,000 to 10,000 per call), for tests that check retry timing
    /// on the server's side, where the client's own latency does not count.
    private let arrivals = Mutex<[String: [ContinuousClock.Instant]]>([:])
    static let arrivalsKept = 10_000

    public init(configuration: SimConfiguration = .init()) throws {
        self.configuration = configuration
        store = try SimStore(configuration: configuration)
        random = Mutex(SplitMix64(seed: configuration.seed))
    }

    static let base = "/v1alpha1/inference/gateways"

    /// The router serving every endpoint.
    public func router() -> Router<SimRequestContext> {
        let router = Router(context: SimRequestContext.self)
        router.add(middleware: MethodCheck(base: Self.base) { allowed in
            var r = self.status(.methodNotAllowed, code: 12, "method not allowed here; allowed: \(allowed)")
            r.headers[.allow] = allowed
            return r
        })
        router.get("\(Self.base)/parameters") { request, context in
            try await self.handle(request, context, "parameters") {
                try self.json(GatewayParameters(zones: self.configuration.zones))
            }
        }
        router.get(RouterPath(Self.base)) { request, context in
            try await self.handle(request, context, "list") {
                var after: Date?
                if let raw = request.uri.queryParameters.get("updatedAfter") {
                    guard let date = SimClock.parse(raw) else {
                        return self.status(.badRequest, code: 3, "updatedAfter must be an RFC 3339 time, got '\(raw)'",
                                           violations: [FieldViolation(field: "updatedAfter", description: "not an RFC 3339 time")])
                    }
                    after = date
                }
                return try self.json(GatewayList(items: await self.store.list(updatedAfter: after, now: Date())))
            }
        }
        router.post(RouterPath(Self.base)) { request, context in
            try await self.handle(request, context, "create") {
                switch try await self.spec(from: request) {
                case .failure(let failure): return failure.response
                case .success(let spec): return try self.json(GatewayEnvelope(gateway: try await self.store.create(spec, now: Date())))
                }
            }
        }
        router.get("\(Self.base)/:id") { request, context in
            try await self.handle(request, context, "get") {
                let id = try context.parameters.require("id")
                return try self.json(GatewayEnvelope(gateway: try await self.store.get(id, now: Date())))
            }
        }
        router.patch("\(Self.base)/:id") { request, context in
            try await self.handle(request, context, "update") {
                let id = try context.parameters.require("id")
                let patch: [String: JSONValue]
                switch try await self.document(of: request) {
                case .success(.object(let fields)): patch = fields
                case .success(let other):
                    return self.status(.badRequest, code: 3, "the request body must be a JSON object, not a \(other.kindName)")
                case .failure(let failure): return failure.response
                }
                do {
                    let updated = try await self.store.update(id, now: Date()) { current in try self.merge(patch, into: current) }
                    return try self.json(GatewayEnvelope(gateway: updated))
                } catch let failure as ResponseFailure {
                    return failure.response
                }
            }
        }
        router.delete("\(Self.base)/:id") { request, context in
            try await self.handle(request, context, "delete") {
                let id = try context.parameters.require("id")
                return try self.json(GatewayEnvelope(gateway: try await self.store.delete(id, now: Date())))
            }
        }
        return router
    }

    /// How many requests each call has received (for tests and the bench).
    public func requestCounts() -> [String: Int] { counters.withLock { $0 } }
    public func requestArrivals() -> [String: [ContinuousClock.Instant]] { arrivals.withLock { $0 } }

    /// How many gateways exist now.
    public func gatewayCount() async -> Int { await store.count }

    // MARK: Request handling

    private func handle(_ request: Request, _ context: SimRequestContext, _ call: String,
                        _ body: () async throws -> Response) async throws -> Response {
        counters.withLock { $0[call, default: 0] += 1 }
        let now = ContinuousClock.now
        arrivals.withLock { arrivals in
            // The recent ones are enough for tests; a long-running `gwlua sim` must not grow without bound.
            if arrivals[call, default: []].count >= Self.arrivalsKept { arrivals[call]?.removeFirst(Self.arrivalsKept / 2) }
            arrivals[call, default: []].append(now)
        }
        if configuration.latencyMilliseconds > 0 {
            try await Task.sleep(for: .milliseconds(configuration.latencyMilliseconds))
        }
        if let denied = authenticate(request) { return denied }
        let (fail, throttle, drop) = random.withLock { rng -> (Bool, Bool, Bool) in
            (rng.chance(configuration.failRate), rng.chance(configuration.throttleRate), rng.chance(configuration.dropRate))
        }
        if fail { return status(.serviceUnavailable, code: 14, "the service is temporarily unavailable (injected)") }
        if throttle {
            var r = status(.tooManyRequests, code: 8, "rate limit exceeded (injected)")
            r.headers[.retryAfter] = String(configuration.retryAfterSeconds)
            return r
        }
        let response: Response
        do {
            response = try await body()
        } catch SimStore.Failure.notFound(let id) {
            response = status(.notFound, code: 5, "gateway '\(id)' not found")
        } catch SimStore.Failure.alreadyExists(let id) {
            response = status(.conflict, code: 6, "a gateway with id '\(id)' already exists")
        } catch {
            response = status(.internalServerError, code: 13, "internal error: \(error)")
        }
        if drop {
            // The work is done but the answer is lost: the client must cope without duplicating it.
            try? await context.channel.close()
            throw HTTPError(.internalServerError)
        }
        return response
    }

    private func authenticate(_ request: Request) -> Response? {
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer "),
              header.count > "Bearer ".count else {
            return status(.unauthorized, code: 16, "missing or malformed Authorization: Bearer token")
        }
        if let expected = configuration.token, String(header.dropFirst("Bearer ".count)) != expected {
            return status(.forbidden, code: 7, "the token is not allowed to use inference gateways")
        }
        return nil
    }

    /// The request body as JSON, or the 400 that says where it is not.
    private func document(of request: Request) async throws -> Result<JSONValue, ResponseFailure> {
        let buffer = try await request.body.collect(upTo: 1 << 20)
        do {
            return .success(try JSONValue(parsing: Data(buffer.readableBytesView)))
        } catch {
            return .failure(ResponseFailure(status(.badRequest, code: 3, "the request body is not valid JSON: \(error)")))
        }
    }

    private func spec(from request: Request) async throws -> Result<GatewaySpec, ResponseFailure> {
        let document: JSONValue
        switch try await self.document(of: request) {
        case .success(let value): document = value
        case .failure(let failure): return .failure(failure)
        }
        let result = SpecValidator.validate(document, context: ValidationContext(zones: configuration.zones))
        guard let spec = result.spec else {
            let violations = result.errors.map { FieldViolation(field: $0.path, description: $0.message) }
            return .failure(ResponseFailure(status(.badRequest, code: 3,
                "invalid gateway: " + result.errors.map(\.description).joined(separator: "; "), violations: violations)))
        }
        return .success(spec)
    }

    /// PATCH semantics: the fields sent replace the gateway's; sending an auth
    /// (or a routing) replaces the one it had. The result must still be valid.
    /// The name is replace-only, as in CoreWeave's Terraform provider.
    private func merge(_ patch: [String: JSONValue], into current: GatewaySpec) throws -> GatewaySpec {
        var stored = current
        stored.id = nil
        stored.organizationId = nil
        guard case .object(var merged) = stored.json else {
            throw ResponseFailure(status(.internalServerError, code: 13, "internal error: stored gateway is not an object"))
        }
        if case .string(let name)? = patch["name"], name != current.name {
            throw ResponseFailure(status(.badRequest, code: 3, "name cannot be changed; create a new gateway instead",
                                         violations: [FieldViolation(field: "name", description: "name is immutable")]))
        }
        if let id = patch["id"], id != .string(current.id ?? ""), id != .null {
            throw ResponseFailure(status(.badRequest, code: 3, "id cannot be changed",
                                         violations: [FieldViolation(field: "id", description: "id is immutable")]))
        }
        let auths = ["coreWeaveAuth", "weightsAndBiasesAuth"]
        let routings = ["bodyBasedRouting", "headerBasedRouting", "pathBasedRouting"]
        for group in [auths, routings] where group.contains(where: { patch[$0] != nil }) {
            for key in group { merged[key] = nil }
        }
        for (key, value) in patch where key != "id" { merged[key] = value }
        let result = SpecValidator.validate(.object(merged), context: ValidationContext(zones: configuration.zones))
        guard let spec = result.spec else {
            let violations = result.errors.map { FieldViolation(field: $0.path, description: $0.message) }
            throw ResponseFailure(status(.badRequest, code: 3,
                "invalid gateway: " + result.errors.map(\.description).joined(separator: "; "), violations: violations))
        }
        return spec
    }

    struct ResponseFailure: Error { let response: Response; init(_ r: Response) { response = r } }

    private func json<T: JSONRepresentable>(_ value: T) throws -> Response {
        let data = try WireJSON.encode(value)
        return Response(status: .ok, headers: [.contentType: "application/json"],
                        body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    private func status(_ httpStatus: HTTPResponse.Status, code: Int, _ message: String,
                        violations: [FieldViolation] = []) -> Response {
        let details = violations.isEmpty ? [] : [RPCDetail(type: "type.googleapis.com/google.rpc.BadRequest", fieldViolations: violations)]
        let data = (try? WireJSON.encode(RPCStatus(code: code, message: message, details: details))) ?? Data()
        return Response(status: httpStatus, headers: [.contentType: "application/json"],
                        body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// Answers 405 (with Allow) for a method the API does not have on one of its paths.
struct MethodCheck: RouterMiddleware {
    typealias Context = SimRequestContext
    let base: String
    let refuse: @Sendable (String) -> Response

    func handle(_ request: Request, context: Context,
                next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        let allowed: [HTTPRequest.Method]
        if path == base {
            allowed = [.get, .post]
        } else if path == base + "/parameters" {
            allowed = [.get]
        } else if path.hasPrefix(base + "/"), !path.dropFirst(base.count + 1).contains("/") {
            allowed = [.get, .patch, .delete]
        } else {
            return try await next(request, context)
        }
        if allowed.contains(request.method) || (request.method == .head && allowed.contains(.get)) {
            return try await next(request, context)
        }
        return refuse(allowed.map(\.rawValue).joined(separator: ", "))
    }
}

/// A small seeded generator: the same seed gives the same faults.
struct SplitMix64: Sendable {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func chance(_ p: Double) -> Bool {
        p > 0 && Double(next() >> 11) / Double(1 << 53) < p
    }
}
