#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import GatewayKit

/// The emulator's settings (`gwlua sim` flags).
public struct SimConfiguration: Sendable {
    public var zones: [String]
    /// Fraction of requests answered 503 UNAVAILABLE.
    public var failRate: Double
    /// Fraction answered 429 RESOURCE_EXHAUSTED with Retry-After.
    public var throttleRate: Double
    /// Fraction whose connection is closed with no answer; the action still happens.
    public var dropRate: Double
    public var retryAfterSeconds: Int
    public var latencyMilliseconds: Int
    /// Seconds from CREATING/UPDATING to READY.
    public var readyAfter: Double
    /// The bearer token to require; nil accepts any non-empty token.
    public var token: String?
    public var seed: UInt64
    /// JSON file the state is kept in (written atomically); nil keeps it in memory.
    public var statePath: String?
    public var organizationId: String
    /// What an update does with DNS names: the real API merges (docs/api-compatibility.md).
    public var dnsUpdate: DNSUpdate = .merge
    /// Seconds a deleted gateway stays in STATUS_DELETING before get answers 404.
    public var deleteAfter: Double = 3
    /// Whether a create keeps the client's `id` (and answers 409 to a repeat); the API's docs leave it open (docs/api-compatibility.md).
    public var clientIDs: ClientIDs = .honour
    /// The error bodies' shape: google.rpc.Status JSON or Connect's.
    public var errorStyle: ErrorStyle = .grpc
    /// Fraction of creates that pass through STATUS_ERROR before READY.
    public var errorRate: Double = 0
    /// Fraction of creates that end STATUS_FAILED.
    public var failedRate: Double = 0
    /// Gateways allowed at once; beyond, a create is refused with a QuotaFailure. nil: no limit.
    public var maxGateways: Int?
    /// The order of lists in answers, which the API's docs do not promise (docs/api-compatibility.md).
    public var order: Order = .stable
    /// Answers fill in what the API defaults (edgeProxyMode MANAGED, empty lists,
    /// W&B switches off) and add a field gwlua does not know (`publicFqdn`, set by the
    /// server, accepted back and ignored in requests), as a newer API may.
    public var serverDefaults = false
    /// With `serverDefaults`: a request that carries the field the server adds
    /// (`publicFqdn`, output only) is refused with 400 and a field violation naming it,
    /// instead of having it ignored.
    public var refusesOutputFields = false
    /// Enums in answers as their numbers, as older servers sent them.
    public var enumNumbers = false
    /// Seconds a gateway stays STATUS_UPDATING after an update (nil: `readyAfter`).
    public var updatingSeconds: Double?
    /// Accept and keep the fields a newer API has and gwlua does not know
    /// (`SimConfiguration.newerFields`); an update that leaves one out resets it,
    /// as the API replaces the whole spec.
    public var acceptsNewerFields = false

    // Deployments and capacity claims (docs/api-compatibility.md, "Deployments and claims").
    /// Instance types `/deployments/parameters` offers.
    public var instanceTypes = ["H100_80GB_SXM5", "H200_141GB_SXM5", "GB200_NVL72", "L40S_48GB"]
    /// Engines with their runtime versions and engine env allow lists.
    public var engines: [String: (versions: [String], envNames: [String])] = [
        "vllm": (["0.8.5", "0.9.2"], ["VLLM_USE_FLASHINFER_MOE_FP4", "VLLM_ATTENTION_BACKEND", "HF_HUB_OFFLINE"]),
        "sglang": (["0.4.6"], ["SGLANG_DISABLE_CUDA_GRAPH", "HF_HUB_OFFLINE"]),
    ]
    /// Instance types claims may name, in every zone offered.
    public var claimInstanceTypes = ["gb200-4x", "h100-8x", "h200-8x"]
    /// How the parameters answers are shaped (undocumented): a form gwlua reads, or one it cannot.
    public var parametersShape: ParametersShape = .readable
    /// The key a list of claims comes under (inferred: capacityClaims).
    public var claimsListKey: ClaimsListKey = .capacityClaims
    /// Whether a gateway that deployments route to may be deleted.
    public var gatewayDelete: GatewayDelete = .refuse
    /// What an update that changes a claim's replace-only fields (all but instanceCount) does.
    public var claimReplaceFields: ClaimReplaceFields = .refuse
    /// Whether two deployments (or claims) may share a name.
    public var resourceNames: ResourceNames = .unique
    /// Seconds a READY deployment's ResourcesApplied condition stays False (newer providers wait for it).
    public var appliedAfter: Double = 0
    /// Whether deployments carry the ResourcesApplied condition at all (older servers: only Ready).
    public var resourcesAppliedCondition = true

    public enum ParametersShape: String, Sendable, CaseIterable {
        case readable
        /// Objects keyed by names gwlua does not expect: it must turn those checks off with one warning.
        case opaque
    }
    public enum ClaimsListKey: String, Sendable, CaseIterable { case capacityClaims, items }
    public enum GatewayDelete: String, Sendable, CaseIterable {
        /// 400 FAILED_PRECONDITION naming the deployments.
        case refuse
        case allow
    }
    public enum ClaimReplaceFields: String, Sendable, CaseIterable {
        /// 400 INVALID_ARGUMENT with a field violation per changed field.
        case refuse
        case change
    }
    public enum ResourceNames: String, Sendable, CaseIterable {
        /// A second create of a name is 409 ALREADY_EXISTS.
        case unique
        case duplicates
    }

    /// The fields a newer API has that gwlua does not know, by path, played by `acceptsNewerFields`.
    public static let newerFields = ["trafficPolicy", "endpointConfiguration.originShield"]
    /// The field a newer server adds to its answers (`serverDefaults`).
    public static let serverField = "publicFqdn"

    public enum Order: String, Sendable, CaseIterable {
        /// Gateways in creation order, names as last written.
        case stable
        /// Every answer in a new order: the gateways of a list, and each gateway's zones, DNS names and source ranges.
        case shuffled
    }

    public enum DNSUpdate: String, Sendable, CaseIterable {
        /// Keep the names the gateway has and add the new ones.
        case merge
        case replace
    }

    public enum ClientIDs: String, Sendable, CaseIterable {
        case honour
        /// Assign the server's own ids and never answer 409.
        case ignore
    }

    public static let defaultZones = [
        "US-EAST-01A", "US-EAST-02A", "US-EAST-04A", "US-EAST-06A", "US-EAST-08A", "US-EAST-13A", "US-EAST-14A",
        "US-CENTRAL-06A", "US-CENTRAL-07A", "US-WEST-01A", "US-WEST-04A", "US-WEST-09B", "US-WEST-10A", "RNO2A",
        "EU-SOUTH-03B", "EU-SOUTH-04A",
    ]

    public init(zones: [String] = SimConfiguration.defaultZones, failRate: Double = 0, throttleRate: Double = 0,
                dropRate: Double = 0, retryAfterSeconds: Int = 1, latencyMilliseconds: Int = 0,
                readyAfter: Double = 0, token: String? = nil, seed: UInt64 = 1, statePath: String? = nil,
                organizationId: String = "org-local") {
        self.zones = zones
        self.failRate = failRate
        self.throttleRate = throttleRate
        self.dropRate = dropRate
        self.retryAfterSeconds = retryAfterSeconds
        self.latencyMilliseconds = latencyMilliseconds
        self.readyAfter = readyAfter
        self.token = token
        self.seed = seed
        self.statePath = statePath
        self.organizationId = organizationId
    }
}

/// What a stored gateway, deployment or claim's status derives from.
protocol SimLifecycle {
    var updatedAt: Date { get }
    var readyAt: Date { get }
    var phase: GatewayStatusCode { get }
    var fate: StoredGateway.Fate? { get }
    var errorSeen: Bool? { get }
}

/// A gateway as the emulator keeps it: the spec plus the times its status derives from.
struct StoredGateway: Codable, Sendable, SimLifecycle {
    var spec: GatewaySpec
    var createdAt: Date
    var updatedAt: Date
    /// When the current CREATING/UPDATING phase ends.
    var readyAt: Date
    var phase: GatewayStatusCode
    /// How the current phase ends (nil: READY).
    var fate: Fate?
    /// When a DELETING gateway is gone.
    var goneAt: Date?
    /// Whether a get or list has shown its recoverable error yet.
    var errorSeen: Bool?

    enum Fate: String, Codable, Sendable {
        case ready
        /// STATUS_ERROR for a while after `readyAt`, then READY (a recoverable error).
        case recovers
        /// STATUS_FAILED from `readyAt` on.
        case fails
    }
}

/// The emulator's state: gateways by id, in creation order, optionally
/// persisted to a JSON file written atomically (temporary file + rename).
actor SimStore {
    private var gateways: [String: StoredGateway] = [:]
    private var order: [String] = []
    let configuration: SimConfiguration
    /// Deployments and claims by id, in creation order (SimStore+Resources.swift).
    var resources: [String: StoredResource] = [:]
    var resourceOrder: [String] = []

    /// The state file: the gateways as a list (the old form, kept while there is
    /// nothing else), or `{"gateways": […], "resources": […]}`.
    struct SavedState: Codable {
        var gateways: [StoredGateway]
        var resources: [StoredResource]
    }

    init(configuration: SimConfiguration) throws {
        self.configuration = configuration
        if let path = configuration.statePath, let data = FileManager.default.contents(atPath: path), !data.isEmpty {
            let saved: SavedState
            if data.first(where: { ![9, 10, 13, 32].contains($0) }) == UInt8(ascii: "[") {
                saved = SavedState(gateways: try JSONDecoder.sim.decode([StoredGateway].self, from: data), resources: [])
            } else {
                saved = try JSONDecoder.sim.decode(SavedState.self, from: data)
            }
            for g in saved.gateways {
                guard let id = g.spec.id else { continue }
                gateways[id] = g
                order.append(id)
            }
            for r in saved.resources {
                resources[r.id] = r
                resourceOrder.append(r.id)
            }
        }
    }

    /// The gateway with `id` exists and is not being deleted.
    func isLiveGateway(_ id: String) -> Bool { gateways[id.lowercased()].map { $0.phase != .deleting } ?? false }

    /// The gateway with `id` exists (in any phase).
    func hasGateway(_ id: String) -> Bool { gateways[id.lowercased()] != nil }
    /// Ids of gateways that exist and are not being deleted.
    func liveGatewayIDs() -> [String] { order.filter { gateways[$0].map { $0.phase != .deleting } ?? false } }

    enum Failure: Error {
        case notFound(String)
        case alreadyExists(String)
        case deleting(String)
        case quota(Int)
        case resourceNotFound(ResourceKind, String)
        case nameTaken(ResourceKind, String)
        /// A 400 with field violations (a reference to an unknown gateway, a replace-only change).
        case invalid(String, [FieldViolation])
        /// A gateway that deployments route to (`--gateway-delete refuse`).
        case inUse(gateway: String, deployments: [String])
    }

    func create(_ spec: GatewaySpec, fate: StoredGateway.Fate, now: Date) throws -> Gateway {
        purge(now: now)
        if let limit = configuration.maxGateways, gateways.values.filter({ $0.phase != .deleting }).count >= limit {
            throw Failure.quota(limit)
        }
        var spec = spec
        let id: String
        switch configuration.clientIDs {
        case .honour:
            id = spec.id?.lowercased() ?? GatewaySpec.newID()
            if gateways[id] != nil { throw Failure.alreadyExists(id) }
        case .ignore:
            id = GatewaySpec.newID()
        }
        spec.id = id
        spec.organizationId = configuration.organizationId
        let stored = StoredGateway(spec: spec, createdAt: now, updatedAt: now,
                                   readyAt: now.addingTimeInterval(configuration.readyAfter), phase: .creating, fate: fate)
        gateways[id] = stored
        order.append(id)
        try persist()
        return render(stored, now: now)
    }

    func get(_ id: String, now: Date) throws -> Gateway {
        purge(now: now)
        guard let g = gateways[id.lowercased()] else { throw Failure.notFound(id) }
        return shown(g, now: now)
    }

    func list(updatedAfter: Date?, now: Date) -> [Gateway] {
        purge(now: now)
        return order.compactMap { gateways[$0] }
            .filter { g in updatedAfter.map { effectiveUpdatedAt(g, now: now) > $0 } ?? true }
            .map { shown($0, now: now) }
    }

    /// The answer for a read, noting that a recoverable error has been seen.
    private func shown(_ g: StoredGateway, now: Date) -> Gateway {
        let answer = render(g, now: now)
        if answer.status.status == .error, g.errorSeen != true, let id = g.spec.id { gateways[id]?.errorSeen = true }
        return answer
    }

    /// Replaces the spec with `next` (a whole, validated spec), keeping the id and,
    /// with `--dns-update merge`, the DNS names the gateway had.
    func update(_ id: String, to next: GatewaySpec, now: Date) throws -> Gateway {
        purge(now: now)
        guard var g = gateways[id.lowercased()] else { throw Failure.notFound(id) }
        if g.phase == .deleting { throw Failure.deleting(id) }
        var next = next
        next.id = g.spec.id
        next.organizationId = g.spec.organizationId
        if next.weightsAndBiasesAuth != nil, next.weightsAndBiasesAuth?.apiKey == nil {
            next.weightsAndBiasesAuth?.apiKey = g.spec.weightsAndBiasesAuth?.apiKey  // a key not sent is kept
        }
        if configuration.dnsUpdate == .merge {
            let had = g.spec.endpointConfiguration?.additionalDns ?? []
            let lower = Set(had.map { $0.lowercased() })
            let added = (next.endpointConfiguration?.additionalDns ?? []).filter { !lower.contains($0.lowercased()) }
            if !had.isEmpty {
                if next.endpointConfiguration == nil { next.endpointConfiguration = EndpointConfiguration() }
                next.endpointConfiguration?.additionalDns = had + added
            }
        }
        g.spec = next
        g.updatedAt = now
        g.readyAt = now.addingTimeInterval(configuration.updatingSeconds ?? configuration.readyAfter)
        g.phase = .updating
        g.fate = .ready
        gateways[id.lowercased()] = g
        try persist()
        return render(g, now: now)
    }

    /// Marks the gateway DELETING; it is gone `deleteAfter` seconds later. A
    /// second delete answers the same, and does not restart the clock.
    func delete(_ id: String, now: Date) throws -> Gateway {
        purge(now: now)
        guard var g = gateways[id.lowercased()] else { throw Failure.notFound(id) }
        if g.phase != .deleting, configuration.gatewayDelete == .refuse {
            let users = deployments(routingTo: id)
            if !users.isEmpty { throw Failure.inUse(gateway: id, deployments: users) }
        }
        if g.phase != .deleting {
            g.phase = .deleting
            g.updatedAt = now
            let goneAt = now.addingTimeInterval(configuration.deleteAfter)
            g.goneAt = goneAt
            nextGone = min(nextGone ?? goneAt, goneAt)
            gateways[id.lowercased()] = g
            try persist()
        }
        return render(g, now: now)
    }

    /// Forgets gateways (and deployments and claims) whose deletion has finished.
    func purge(now: Date) {
        guard let next = nextGone, now >= next else { return }
        var gone: Set<String> = []
        var soonest: Date?
        for (id, g) in gateways {
            guard let at = g.goneAt else { continue }
            if now >= at { gone.insert(id) } else { soonest = min(soonest ?? at, at) }
        }
        for (id, r) in resources {
            guard let at = r.goneAt else { continue }
            if now >= at { gone.insert(id) } else { soonest = min(soonest ?? at, at) }
        }
        nextGone = soonest
        guard !gone.isEmpty else { return }
        for id in gone {
            gateways[id] = nil
            resources[id] = nil
        }
        order.removeAll { gone.contains($0) }
        resourceOrder.removeAll { gone.contains($0) }
        try? persist()
    }

    /// Notes that something is gone at `at` (a DELETING deployment or claim).
    func noteGone(at: Date) { nextGone = min(nextGone ?? at, at) }

    /// The earliest time a DELETING gateway is gone (nil: none is), so purging
    /// costs nothing until then. Starts in the past: a loaded state file is scanned once.
    private var nextGone: Date? = .distantPast

    /// Gateways that exist and are not being deleted.
    var count: Int { gateways.values.filter { $0.phase != .deleting }.count }

    /// Every gateway as get would answer it (tests).
    func all(now: Date) -> [Gateway] { list(updatedAfter: nil, now: now) }

    func effectiveUpdatedAt(_ g: some SimLifecycle, now: Date) -> Date {
        g.phase != .deleting && now >= g.readyAt ? max(g.updatedAt, g.readyAt) : g.updatedAt
    }

    /// The status at `now`: CREATING/UPDATING until `readyAt`, then as the fate says;
    /// a recoverable error lasts max(readyAfter, 1 s).
    func status(of g: some SimLifecycle, now: Date) -> GatewayStatusCode {
        if g.phase == .deleting || now < g.readyAt { return g.phase }
        switch g.fate ?? .ready {
        case .ready: return .ready
        case .fails: return .failed
        case .recovers:
            // At least one reader sees the error, however late it polls: tests count on it, not on timing.
            return g.errorSeen != true || now < g.readyAt.addingTimeInterval(max(configuration.readyAfter, 1)) ? .error : .ready
        }
    }

    /// The answer form: status derives from the clock, endpoints appear when READY.
    private func render(_ g: StoredGateway, now: Date) -> Gateway {
        let status = self.status(of: g, now: now)
        let ready = status == .ready
        let updated = effectiveUpdatedAt(g, now: now)
        let zone = g.spec.zones.first ?? "US-EAST-04A"
        let name = g.spec.name.lowercased().filter { $0.isLetter || $0.isNumber || $0 == "-" }
        let (reason, message): (String, String)
        switch status {
        case .ready: (reason, message) = ("Ready", "gateway is serving")
        case .deleting: (reason, message) = ("Deleting", "gateway is being deleted")
        case .error: (reason, message) = ("ProvisioningError", "load balancer not yet reachable; retrying")
        case .failed: (reason, message) = ("ProvisioningFailed", "no capacity for the gateway in \(zone)")
        default: (reason, message) = ("Provisioning", "gateway is not ready yet")
        }
        let condition = GatewayCondition(
            type: "Ready", lastUpdateTime: Timestamp.format(updated), reason: reason, message: message, zone: zone,
            status: ConditionStatus(rawValue: ready ? "True" : "False"))
        var endpoints: [String] = []
        if ready {
            endpoints = ["https://\(name.isEmpty ? "gw" : name).\((g.spec.id ?? "").prefix(8)).\(zone.lowercased()).inference.local"]
            endpoints += g.spec.endpointConfiguration?.additionalDns.map { "https://\($0)" } ?? []
        }
        var spec = g.spec
        spec.weightsAndBiasesAuth?.apiKey = nil  // never returned by the API
        return Gateway(spec: spec, status: GatewayStatus(
            createdAt: Timestamp.format(g.createdAt), updatedAt: Timestamp.format(updated),
            conditions: [condition], endpoints: endpoints, status: status))
    }

    /// Marks the state changed; the file is rewritten at most every
    /// `flushDelay` (rewriting it on every change made a batch of n creates
    /// cost O(n^2) in bytes written). A failed write fails the next change.
    func persist() throws {
        guard configuration.statePath != nil else { return }
        if let failure = writeFailure {
            writeFailure = nil
            throw failure
        }
        dirty = true
        guard !flushScheduled else { return }
        flushScheduled = true
        Task {
            try? await Task.sleep(for: SimStore.flushDelay)
            await self.flush()
        }
    }

    static let flushDelay: Duration = .milliseconds(100)
    private var dirty = false
    private var flushScheduled = false
    private var writeFailure: Error?
    /// State files written so far.
    private(set) var writes = 0

    /// Writes the state file now if anything changed (the server does on stop).
    func flush() {
        flushScheduled = false
        guard dirty, let path = configuration.statePath else { return }
        dirty = false
        do {
            let saved = order.compactMap { gateways[$0] }
            let data = resourceOrder.isEmpty ? try JSONEncoder.sim.encode(saved)
                : try JSONEncoder.sim.encode(SavedState(gateways: saved, resources: resourceOrder.compactMap { resources[$0] }))
            let url = URL(fileURLWithPath: path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try data.write(to: url, options: .atomic)
            writes += 1
        } catch {
            writeFailure = error
        }
    }
}

extension JSONEncoder {
    static var sim: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        e.dateEncodingStrategy = .iso8601
        return e
    }
}

extension JSONDecoder {
    static var sim: JSONDecoder {
        let d = JSONDecoder()
        d.dateDecodingStrategy = .iso8601
        return d
    }
}
