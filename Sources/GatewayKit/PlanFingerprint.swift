import Crypto
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import TextSupport

/// What a plan was made from, as two digests: the desired side (the validated
/// specs and the plan's scope) and the existing side (the gateways the planner
/// saw, as it compares them). A plan applied later (a saved plan, or one a person confirmed) is
/// applied only while both still match, so nothing is changed on stale grounds.
/// SHA-256, so the W&B apiKey in the specs cannot be read back from it.
public struct PlanFingerprint: Sendable, Hashable {
    public var desired: String
    public var existing: String

    public init(desired: String, existing: String) {
        self.desired = desired
        self.existing = existing
    }

    /// `scope` holds the plan's options (prune, prefix, replace, targets) as JSON.
    /// Deployments and claims, when the fleet has them, count on both sides too.
    public init(desired specs: [GatewaySpec], scope: JSONValue, existing gateways: [Gateway],
                resources: [ResourceSpec] = [], existingResources: [Resource] = []) {
        var wantedFields: [String: JSONValue] = ["specs": .array(specs.map(\.json)), "scope": scope]
        if !resources.isEmpty || !existingResources.isEmpty {
            wantedFields["resources"] = .array(resources.map { .object(["kind": .string($0.kind.rawValue), "spec": $0.json]) })
        }
        let wanted = JSONValue.object(wantedFields)
        // The planner's inputs as it sees them: gateways being deleted count as gone, the age decides
        // among namesakes, and each spec as it is compared, so the order a server answers in changes nothing.
        let seen = gateways.filter { $0.status.status != .deleting }
            .sorted { ($0.spec.id ?? "", $0.spec.name) < ($1.spec.id ?? "", $1.spec.name) }
            .map { g -> JSONValue in
                .object(["spec": ShapeCompare.comparable(g.spec).json, "createdAt": g.status.createdAt.map(JSONValue.string) ?? .null])
            }
        let others = existingResources.filter { $0.statusCode != .deleting }
            .sorted { ($0.kind.rawValue, $0.spec.id ?? "") < ($1.kind.rawValue, $1.spec.id ?? "") }
            .map { r -> JSONValue in
                .object(["kind": .string(r.kind.rawValue), "spec": .object(ShapeCompare.comparable(r.spec.fields, r.kind.shape)),
                         "createdAt": r.status["createdAt"] ?? .null])
            }
        self.init(desired: PlanFingerprint.digest(wanted), existing: PlanFingerprint.digest(.array(seen + others)))
    }

    static func digest(_ value: JSONValue) -> String {
        let text = value.compactText  // sorted keys: one text per value
        return "sha256:" + HexText.bytes(SHA256.hash(data: Data(text.utf8)))
    }

    /// What changed between `self` (the plan's) and `now`, as a sentence, or nil when nothing did.
    public func staleness(against now: PlanFingerprint) -> String? {
        switch (desired == now.desired, existing == now.existing) {
        case (true, true): return nil
        case (false, true): return "the fleet's specs (or the plan's options) changed since the plan was made"
        case (true, false): return "the gateways that exist changed since the plan was made"
        case (false, false): return "both the fleet's specs and the gateways that exist changed since the plan was made"
        }
    }

    public var json: JSONValue { .object(["desired": .string(desired), "existing": .string(existing)]) }
}
