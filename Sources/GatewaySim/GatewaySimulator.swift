#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
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

/// A faithful local emulator of the gateway API (docs/openapi.yaml, docs/api-compatibility.md), served over HTTP by
/// Hummingbird, with seeded fault injection.
public final class GatewaySimulator: Sendable {
    public let configuration: SimConfiguration
    let store: SimStore
    let random: Mutex<SplitMix64>
    private let counters = Mutex<[String: Int]>([:])
    /// When each call arrived (monotonic; the latest 500 to 1,000 per call), for tests that check retry timing
    /// on the server's side, where the client's own latency does not count. Small: a long-running emulator
    /// keeps it for its whole life (the soak saw the larger one fill up as RSS).
    private let arrivals = Mutex<[String: [ContinuousClock.Instant]]>([:])
    static let arrivalsKept = 1_000

    public init(configuration: SimConfiguration = .init()) throws {
        self.configuration = configuration
        store = try SimStore(configuration: configuration)
        random = Mutex(SplitMix64(seed: configuration.seed))
    }

    static let base = "/v1alpha1/inference/gateways"

    /// The router serving every endpoint.
    public func router() -> Router<SimRequestContext> {
        let router = Router(context: SimRequestContext.self)
        for kind in ResourceKind.allCases {
            router.add(middleware: MethodCheck(base: kind.path) { allowed in
                var r = self.status(.methodNotAllowed, code: 12, "method not allowed here; allowed: \(allowed)")
                r.headers[.allow] = allowed
                return r
            })
        }
        addResourceRoutes(to: router)
        router.get("\(Self.base)/parameters") { request, context in
            try await self.handle(request, context, "parameters") {
                try self.json(GatewayParameters(zones: self.configuration.zones))
            }
        }
        router.get(RouterPath(Self.base)) { request, context in
            try await self.handle(request, context, "list") {
                var after: Date?
                if let raw = request.uri.queryParameters.get("updatedAfter") {
                    guard let date = Timestamp.parse(raw) else {
                        return self.status(.badRequest, code: 3, "updatedAfter must be an RFC 3339 time, got '\(raw)'",
                                           violations: [FieldViolation(field: "updatedAfter", description: "not an RFC 3339 time")])
                    }
                    after = date
                }
                return try self.answer(self.ordered(await self.store.list(updatedAfter: after, now: Date())))
            }
        }
        router.post(RouterPath(Self.base)) { request, context in
            try await self.handle(request, context, "create") {
                switch try await self.spec(from: request) {
                case .failure(let failure): return failure.response
                case .success(let spec):
                    let fate = self.nextFate()
                    return try self.answer(self.ordered(try await self.store.create(spec, fate: fate, now: Date())))
                }
            }
        }
        router.get("\(Self.base)/:id") { request, context in
            try await self.handle(request, context, "get") {
                let id = try context.parameters.require("id")
                return try self.answer(self.ordered(try await self.store.get(id, now: Date())))
            }
        }
        router.patch("\(Self.base)/:id") { request, context in
            try await self.handle(request, context, "update") {
                let id = try context.parameters.require("id")
                switch try await self.updateSpec(from: request) {
                case .failure(let failure): return failure.response
                case .success(let spec): return try self.answer(self.ordered(try await self.store.update(id, to: spec, now: Date())))
                }
            }
        }
        router.delete("\(Self.base)/:id") { request, context in
            try await self.handle(request, context, "delete") {
                let id = try context.parameters.require("id")
                return try self.answer(self.ordered(try await self.store.delete(id, now: Date())))
            }
        }
        return router
    }

    /// How a new gateway, deployment or claim's provisioning ends (`--failed-rate`, `--error-rate`).
    func nextFate() -> StoredGateway.Fate {
        random.withLock { rng in
            rng.chance(configuration.failedRate) ? .fails : rng.chance(configuration.errorRate) ? .recovers : .ready
        }
    }

    /// With `--order shuffled`, lists in an answer come in a new order each time.
    private func ordered(_ gateways: [Gateway]) -> [Gateway] {
        guard configuration.order == .shuffled else { return gateways }
        return random.withLock { rng in gateways.shuffled(using: &rng) }.map(ordered)
    }

    private func ordered(_ gateway: Gateway) -> Gateway {
        guard configuration.order == .shuffled else { return gateway }
        var g = gateway
        random.withLock { rng in
            g.spec.zones.shuffle(using: &rng)
            if var endpoint = g.spec.endpointConfiguration {
                endpoint.additionalDns.shuffle(using: &rng)
                endpoint.allowedSourceIpRanges?.shuffle(using: &rng)
                g.spec.endpointConfiguration = endpoint
            }
        }
        return g
    }

    // MARK: Answers as a newer or an older server gives them

    /// `{"gateway": …}` as this server answers it.
    private func answer(_ gateway: Gateway) throws -> Response {
        try respond(.object(["gateway": answerJSON(gateway)]))
    }

    /// `{"items": […]}` as this server answers it.
    private func answer(_ gateways: [Gateway]) throws -> Response {
        try respond(.object(["items": .array(gateways.map(answerJSON))]))
    }

    /// A gateway's JSON with `--server-defaults` and `--enum-numbers` applied.
    func answerJSON(_ gateway: Gateway) -> JSONValue {
        var spec = gateway.spec.fields
        if configuration.serverDefaults {
            var endpoint = spec["endpointConfiguration"]?.objectFields ?? [:]
            for field in GatewayShape.endpointConfiguration.fields where endpoint[field.name] == nil {
                if case .strings = field.kind { endpoint[field.name] = .array([]) }
                if let value = field.serverDefault { endpoint[field.name] = value }
            }
            spec["endpointConfiguration"] = .object(endpoint)
            if var wandb = spec["weightsAndBiasesAuth"]?.objectFields {
                for field in GatewayShape.wandbAuth.fields where wandb[field.name] == nil {
                    if let value = field.serverDefault { wandb[field.name] = value }
                }
                spec["weightsAndBiasesAuth"] = .object(wandb)
            }
            let zone = (gateway.spec.zones.min() ?? "us-east-04a").lowercased()  // not the shuffled first
            spec[SimConfiguration.serverField] = .string("\(gateway.spec.name).\((gateway.spec.id ?? "").prefix(8)).\(zone).inference.local")
        }
        var status = gateway.status.json
        if configuration.enumNumbers {
            func number(_ value: JSONValue?, _ e: ShapeEnum) -> JSONValue? {
                guard let name = value?.stringValue, let i = e.values.firstIndex(of: name) else { return value }
                return .integer(Int64(i))
            }
            if var body = spec["bodyBasedRouting"]?.objectFields {
                body["apiType"] = number(body["apiType"], GatewayShape.apiType)
                spec["bodyBasedRouting"] = .object(body)
            }
            if var endpoint = spec["endpointConfiguration"]?.objectFields, endpoint["edgeProxyMode"] != nil {
                endpoint["edgeProxyMode"] = number(endpoint["edgeProxyMode"], GatewayShape.edgeProxyMode)
                spec["endpointConfiguration"] = .object(endpoint)
            }
            if case .object(var o) = status, let code = o["status"]?.stringValue,
               let i = GatewayStatusCode.ordered.firstIndex(of: code) {
                o["status"] = .integer(Int64(i))
                status = .object(o)
            }
        }
        return .object(["spec": .object(spec), "status": status])
    }

    /// A 200 with `value` as its JSON body (as WireJSON writes it).
    func respond(_ value: JSONValue) throws -> Response {
        Response(status: .ok, headers: [.contentType: "application/json"],
                 body: ResponseBody(byteBuffer: ByteBuffer(bytes: try value.serialized())))
    }

    /// A request's document without what this server takes but does not validate:
    /// its own output field (`--server-defaults`) is dropped, and the newer fields
    /// (`--newer-fields`) are taken out, to be kept as they came.
    private func splitNewerFields(_ document: JSONValue) -> (JSONValue, [String: JSONValue]) {
        guard case .object(let fields) = document else { return (document, [:]) }
        var request = GatewaySpec(fields: fields)
        // Refused (`--refuse-output-fields`): left in, so validation names it as an unknown
        // field, a 400 with its field violation.
        if configuration.serverDefaults && !configuration.refusesOutputFields { request[path: SimConfiguration.serverField] = nil }
        var newer: [String: JSONValue] = [:]
        if configuration.acceptsNewerFields {
            for path in SimConfiguration.newerFields {
                guard let value = request[path: path] else { continue }
                newer[path] = value
                request[path: path] = nil
            }
        }
        return (.object(request.fields), newer)
    }

    /// `spec` with the newer fields put back where they came from.
    private func keeping(_ newer: [String: JSONValue], in spec: GatewaySpec) -> GatewaySpec {
        var spec = spec
        for (path, value) in newer { spec[path: path] = value }
        return spec
    }

    /// How many requests each call has received (for tests and the bench).
    public func requestCounts() -> [String: Int] { counters.withLock { $0 } }
    public func requestArrivals() -> [String: [ContinuousClock.Instant]] { arrivals.withLock { $0 } }

    /// How many gateways exist now (not counting those being deleted).
    public func gatewayCount() async -> Int { await store.count }

    /// Every gateway as list answers it, DELETING ones included.
    public func gateways() async -> [Gateway] { await store.all(now: Date()) }

    /// Every deployment or claim as get would answer it (tests).
    public func resources(_ kind: ResourceKind) async -> [Resource] { await store.listResources(kind, now: Date()) }

    // MARK: Request handling

    func handle(_ request: Request, _ context: SimRequestContext, _ call: String,
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
            // gRPC-style servers say when to come back in a header and RetryInfo; Connect ones in RetryInfo only.
            var r = status(.tooManyRequests, code: 8, "rate limit exceeded (injected)",
                           details: [.retryInfo(seconds: Double(configuration.retryAfterSeconds))])
            if configuration.errorStyle == .grpc { r.headers[.retryAfter] = String(configuration.retryAfterSeconds) }
            return r
        }
        let response: Response
        do {
            response = try await body()
        } catch SimStore.Failure.notFound(let id) {
            response = status(.notFound, code: 5, "gateway '\(id)' not found",
                              details: [.resourceInfo(type: "gateway", name: id, description: "no such gateway")])
        } catch SimStore.Failure.alreadyExists(let id) {
            response = status(.conflict, code: 6, "a gateway with id '\(id)' already exists",
                              details: [.resourceInfo(type: "gateway", name: id, description: "the id is taken")])
        } catch SimStore.Failure.deleting(let id) {
            response = status(.badRequest, code: 9, "gateway '\(id)' is being deleted",
                              details: [.violations(RPCDetail.preconditionFailure, [
                                  ["type": "STATUS", "subject": "gateway/\(id)", "description": "the gateway is STATUS_DELETING"]])])
        } catch SimStore.Failure.resourceNotFound(let kind, let id) {
            response = status(.notFound, code: 5, "\(kind.noun) '\(id)' not found",
                              details: [.resourceInfo(type: kind.rawValue, name: id, description: "no such \(kind.noun)")])
        } catch SimStore.Failure.nameTaken(let kind, let name) {
            response = status(.conflict, code: 6, "a \(kind.noun) named '\(name)' already exists",
                              details: [.resourceInfo(type: kind.rawValue, name: name, description: "the name is taken")])
        } catch SimStore.Failure.invalid(let message, let violations) {
            response = status(.badRequest, code: 3, message, violations: violations)
        } catch SimStore.Failure.inUse(let id, let deployments) {
            response = status(.badRequest, code: 9, "gateway '\(id)' cannot be deleted: deployments route to it (\(deployments.joined(separator: ", "))); delete them first",
                              details: [.violations(RPCDetail.preconditionFailure, deployments.map {
                                  ["type": "IN_USE", "subject": "deployment/\($0)", "description": "routes to gateway \(id)"]
                              })])
        } catch SimStore.Failure.quota(let limit) {
            response = status(.tooManyRequests, code: 8, "quota exceeded: at most \(limit) gateways",
                              details: [.violations(RPCDetail.quotaFailure, [
                                  ["subject": "organization/\(configuration.organizationId)",
                                   "description": "at most \(limit) inference gateways"]])])
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
    func document(of request: Request) async throws -> Result<JSONValue, ResponseFailure> {
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
        let (known, newer) = splitNewerFields(document)
        let result = SpecValidator.validate(known, context: ValidationContext(zones: configuration.zones))
        guard let spec = result.spec else {
            let violations = result.errors.map { FieldViolation(field: $0.path, description: $0.message) }
            return .failure(ResponseFailure(status(.badRequest, code: 3,
                "invalid gateway: " + result.errors.map(\.description).joined(separator: "; "), violations: violations)))
        }
        return .success(keeping(newer, in: spec))
    }

    /// An update's body: the whole spec, as the API requires (it takes no field
    /// mask). A body that lacks the name, the zones, an auth or a routing is a 400
    /// naming each; an id, when sent, must be the gateway's. A rename is accepted:
    /// nothing says names are immutable.
    private func updateSpec(from request: Request) async throws -> Result<GatewaySpec, ResponseFailure> {
        let document: JSONValue
        switch try await self.document(of: request) {
        case .success(let value): document = value
        case .failure(let failure): return .failure(failure)
        }
        guard case .object(let fields) = document else {
            return .failure(ResponseFailure(status(.badRequest, code: 3, "the request body must be a JSON object, not a \(document.kindName)")))
        }
        var missing: [FieldViolation] = []
        func present(_ key: String) -> Bool { fields[key].map { $0 != .null } ?? false }
        if !present("name") { missing.append(FieldViolation(field: "name", description: "required: an update sends the whole spec")) }
        if case .array(let zones)? = fields["zones"], !zones.isEmpty {} else {
            missing.append(FieldViolation(field: "zones", description: "required: an update sends the whole spec"))
        }
        if !["coreWeaveAuth", "weightsAndBiasesAuth"].contains(where: present) {
            missing.append(FieldViolation(field: "coreWeaveAuth", description: "an auth is required: an update sends the whole spec"))
        }
        if !["bodyBasedRouting", "headerBasedRouting", "pathBasedRouting"].contains(where: present) {
            missing.append(FieldViolation(field: "bodyBasedRouting", description: "a routing is required: an update sends the whole spec"))
        }
        if !missing.isEmpty {
            return .failure(ResponseFailure(status(.badRequest, code: 3,
                "an update must carry the whole gateway spec (no field mask); missing: " + missing.map(\.field).joined(separator: ", "),
                violations: missing)))
        }
        let (known, newer) = splitNewerFields(document)
        let result = SpecValidator.validate(known, context: ValidationContext(zones: configuration.zones))
        guard let validated = result.spec else {
            let violations = result.errors.map { FieldViolation(field: $0.path, description: $0.message) }
            return .failure(ResponseFailure(status(.badRequest, code: 3,
                "invalid gateway: " + result.errors.map(\.description).joined(separator: "; "), violations: violations)))
        }
        let spec = keeping(newer, in: validated)
        if let sent = spec.id, let id = request.uri.path.split(separator: "/").last, sent.lowercased() != id.lowercased(),
           configuration.clientIDs == .honour {
            return .failure(ResponseFailure(status(.badRequest, code: 3, "id cannot be changed",
                                                   violations: [FieldViolation(field: "id", description: "id is immutable")])))
        }
        return .success(spec)
    }

    struct ResponseFailure: Error { let response: Response; init(_ r: Response) { response = r } }

    private func json<T: JSONRepresentable>(_ value: T) throws -> Response { try respond(value.json) }

    /// An error answer in the configured style (`--error-style`).
    func status(_ httpStatus: HTTPResponse.Status, code: Int, _ message: String,
                        violations: [FieldViolation] = [], details: [RPCDetail] = []) -> Response {
        let all = (violations.isEmpty ? [] : [RPCDetail.badRequest(violations)]) + details
        let error = APIError(code: APIError.grpcNames[code] ?? .unknown, message: message, details: all)
        let data = error.body(style: configuration.errorStyle)
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
struct SplitMix64: RandomNumberGenerator, Sendable {
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
