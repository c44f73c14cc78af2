import Foundation
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

/// A gateway as the emulator keeps it: the spec plus the times its status derives from.
struct StoredGateway: Codable, Sendable {
    var spec: GatewaySpec
    var createdAt: Date
    var updatedAt: Date
    /// When the current CREATING/UPDATING phase ends.
    var readyAt: Date
    var phase: GatewayStatusCode
}

/// The emulator's state: gateways by id, in creation order, optionally
/// persisted to a JSON file written atomically (temporary file + rename).
actor SimStore {
    private var gateways: [String: StoredGateway] = [:]
    private var order: [String] = []
    private let configuration: SimConfiguration

    init(configuration: SimConfiguration) throws {
        self.configuration = configuration
        if let path = configuration.statePath, let data = FileManager.default.contents(atPath: path), !data.isEmpty {
            let saved = try JSONDecoder.sim.decode([StoredGateway].self, from: data)
            for g in saved {
                guard let id = g.spec.id else { continue }
                gateways[id] = g
                order.append(id)
            }
        }
    }

    enum Failure: Error {
        case notFound(String)
        case alreadyExists(String)
    }

    func create(_ spec: GatewaySpec, now: Date) throws -> Gateway {
        var spec = spec
        let id = spec.id?.lowercased() ?? GatewaySpec.newID()
        if gateways[id] != nil { throw Failure.alreadyExists(id) }
        spec.id = id
        spec.organizationId = configuration.organizationId
        let stored = StoredGateway(spec: spec, createdAt: now, updatedAt: now,
                                   readyAt: now.addingTimeInterval(configuration.readyAfter), phase: .creating)
        gateways[id] = stored
        order.append(id)
        try persist()
        return render(stored, now: now)
    }

    func get(_ id: String, now: Date) throws -> Gateway {
        guard let g = gateways[id.lowercased()] else { throw Failure.notFound(id) }
        return render(g, now: now)
    }

    func list(updatedAfter: Date?, now: Date) -> [Gateway] {
        order.compactMap { gateways[$0] }
            .filter { g in updatedAfter.map { effectiveUpdatedAt(g, now: now) > $0 } ?? true }
            .map { render($0, now: now) }
    }

    func update(_ id: String, now: Date, merge: @Sendable (GatewaySpec) throws -> GatewaySpec) throws -> Gateway {
        guard var g = gateways[id.lowercased()] else { throw Failure.notFound(id) }
        var next = try merge(g.spec)
        next.id = g.spec.id
        next.organizationId = g.spec.organizationId
        next.name = g.spec.name  // name is replace-only
        g.spec = next
        g.updatedAt = now
        g.readyAt = now.addingTimeInterval(configuration.readyAfter)
        g.phase = .updating
        gateways[id.lowercased()] = g
        try persist()
        return render(g, now: now)
    }

    func delete(_ id: String, now: Date) throws -> Gateway {
        guard var g = gateways.removeValue(forKey: id.lowercased()) else { throw Failure.notFound(id) }
        order.removeAll { $0 == id.lowercased() }
        try persist()
        g.phase = .deleting
        g.updatedAt = now
        g.readyAt = .distantFuture
        return render(g, now: now)
    }

    var count: Int { gateways.count }

    private func effectiveUpdatedAt(_ g: StoredGateway, now: Date) -> Date {
        now >= g.readyAt ? max(g.updatedAt, g.readyAt) : g.updatedAt
    }

    /// The answer form: status derives from the clock, endpoints appear when READY.
    private func render(_ g: StoredGateway, now: Date) -> Gateway {
        let ready = g.phase != .deleting && now >= g.readyAt
        let status: GatewayStatusCode = ready ? .ready : g.phase
        let updated = effectiveUpdatedAt(g, now: now)
        let zone = g.spec.zones.first ?? "US-EAST-04A"
        let name = g.spec.name.lowercased().filter { $0.isLetter || $0.isNumber || $0 == "-" }
        let condition = GatewayCondition(
            type: "Ready", lastUpdateTime: SimClock.format(updated),
            reason: ready ? "Ready" : (g.phase == .deleting ? "Deleting" : "Provisioning"),
            message: ready ? "gateway is serving" : "gateway is not ready yet", zone: zone,
            status: ConditionStatus(rawValue: ready ? "True" : "False"))
        var endpoints: [String] = []
        if ready {
            endpoints = ["https://\(name.isEmpty ? "gw" : name).\((g.spec.id ?? "").prefix(8)).\(zone.lowercased()).inference.local"]
            endpoints += g.spec.endpointConfiguration?.additionalDns.map { "https://\($0)" } ?? []
        }
        var spec = g.spec
        spec.weightsAndBiasesAuth?.apiKey = nil  // never returned by the API
        return Gateway(spec: spec, status: GatewayStatus(
            createdAt: SimClock.format(g.createdAt), updatedAt: SimClock.format(updated),
            conditions: [condition], endpoints: endpoints, status: status))
    }

    /// Marks the state changed; the file is rewritten at most every
    /// `flushDelay` (rewriting it on every change made a batch of n creates
    /// cost O(n^2) in bytes written). A failed write fails the next change.
    private func persist() throws {
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
            let data = try JSONEncoder.sim.encode(order.compactMap { gateways[$0] })
            let url = URL(fileURLWithPath: path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try data.write(to: url, options: .atomic)
            writes += 1
        } catch {
            writeFailure = error
        }
    }
}

enum SimClock {
    /// RFC 3339 in UTC with milliseconds ("2023-11-07T05:31:56.123Z"). By hand:
    /// the emulator stamps three per answer, and Foundation's ISO 8601 style
    /// cost it several percent of each request.
    static func format(_ date: Date) -> String {
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

    static func parse(_ text: String) -> Date? {
        if let d = try? Date(text, strategy: .iso8601) { return d }
        return try? Date(text, strategy: .iso8601.year().month().day().time(includingFractionalSeconds: true))
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
