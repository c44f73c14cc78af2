#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import GatewayKit

/// A deployment or capacity claim as the emulator keeps it.
struct StoredResource: Codable, Sendable, SimLifecycle {
    var kind: ResourceKind
    var id: String
    var fields: [String: JSONValue]
    var createdAt: Date
    var updatedAt: Date
    var readyAt: Date
    var phase: GatewayStatusCode
    var fate: StoredGateway.Fate?
    var goneAt: Date?
    var errorSeen: Bool?
    /// Whether a read has shown the deployment READY with ResourcesApplied still False (`--applied-after`).
    var notAppliedSeen: Bool?

    var name: String { fields["name"]?.stringValue ?? "" }
}

/// Deployments and capacity claims: the same lifecycle as gateways (CREATING,
/// READY, UPDATING, ERROR, FAILED, DELETING then 404), the references between
/// deployments and gateways, and the answers the docs leave open (`SimConfiguration`).
extension SimStore {
    func createResource(_ kind: ResourceKind, _ fields: [String: JSONValue], fate: StoredGateway.Fate, now: Date) throws -> Resource {
        purge(now: now)
        let name = fields["name"]?.stringValue ?? ""
        if isTaken(kind, name) { throw Failure.nameTaken(kind, name) }
        if kind == .deployment { try checkGatewayReferences(fields) }
        let id = GatewaySpec.newID()
        var fields = fields
        fields["id"] = .string(id)
        fields["organizationId"] = .string(configuration.organizationId)
        let stored = StoredResource(kind: kind, id: id, fields: fields, createdAt: now, updatedAt: now,
                                    readyAt: now.addingTimeInterval(configuration.readyAfter), phase: .creating, fate: fate)
        resources[id] = stored
        resourceOrder.append(id)
        try persist()
        return render(stored, now: now)
    }

    func resource(_ kind: ResourceKind, _ id: String, now: Date) throws -> Resource {
        purge(now: now)
        guard let r = resources[id.lowercased()], r.kind == kind else { throw Failure.resourceNotFound(kind, id) }
        return shown(r, now: now)
    }

    func listResources(_ kind: ResourceKind, now: Date) -> [Resource] {
        purge(now: now)
        return resourceOrder.compactMap { resources[$0] }.filter { $0.kind == kind }.map { shown($0, now: now) }
    }

    /// Replaces the spec (an update sends it whole). A claim's fields but
    /// instanceCount are replace-only in the provider: `--claim-replace-fields`
    /// decides whether the API refuses or changes them.
    func updateResource(_ kind: ResourceKind, _ id: String, to fields: [String: JSONValue], now: Date) throws -> Resource {
        purge(now: now)
        guard var r = resources[id.lowercased()], r.kind == kind else { throw Failure.resourceNotFound(kind, id) }
        if r.phase == .deleting { throw Failure.deleting(id) }
        if kind == .deployment { try checkGatewayReferences(fields) }
        if kind == .capacityClaim, configuration.claimReplaceFields == .refuse {
            let have = ResourceSpec(kind: kind, fields: r.fields), want = ResourceSpec(kind: kind, fields: fields)
            let replaceOnly = Set(ShapePaths.all(of: kind.shape).filter { $0.field.replaces }.map(\.path))
            let refused = want.differences(from: have).filter { replaceOnly.contains($0.path) }
            if !refused.isEmpty {
                throw Failure.invalid("a capacity claim's \(refused.map(\.path).joined(separator: ", ")) cannot be changed: delete the claim and create it again",
                                      refused.map { FieldViolation(field: $0.path, description: "immutable: only resources.instanceCount changes in place") })
            }
        }
        if let name = fields["name"]?.stringValue, name != r.name, isTaken(kind, name) { throw Failure.nameTaken(kind, name) }
        var fields = fields
        fields["id"] = .string(r.id)
        fields["organizationId"] = .string(configuration.organizationId)
        r.fields = fields
        r.updatedAt = now
        r.readyAt = now.addingTimeInterval(configuration.updatingSeconds ?? configuration.readyAfter)
        r.phase = .updating
        r.fate = .ready
        r.notAppliedSeen = nil
        resources[r.id] = r
        try persist()
        return render(r, now: now)
    }

    func deleteResource(_ kind: ResourceKind, _ id: String, now: Date) throws -> Resource {
        purge(now: now)
        guard var r = resources[id.lowercased()], r.kind == kind else { throw Failure.resourceNotFound(kind, id) }
        if r.phase != .deleting {
            r.phase = .deleting
            r.updatedAt = now
            let goneAt = now.addingTimeInterval(configuration.deleteAfter)
            r.goneAt = goneAt
            noteGone(at: goneAt)
            resources[r.id] = r
            try persist()
        }
        return render(r, now: now)
    }

    /// Names of the deployments (in any phase) that route to gateway `id`.
    func deployments(routingTo id: String) -> [String] {
        resourceOrder.compactMap { resources[$0] }.filter { r in
            r.kind == .deployment && (r.fields["gatewayIds"]?.stringList ?? []).contains { $0.lowercased() == id.lowercased() }
        }.map(\.name)
    }

    /// Whether `--resource-names unique` refuses `name` for a new (or renamed) resource of `kind`.
    private func isTaken(_ kind: ResourceKind, _ name: String) -> Bool {
        configuration.resourceNames == .unique
            && resources.values.contains { $0.kind == kind && $0.name == name && $0.phase != .deleting }
    }

    /// Every gateway a deployment names must exist and not be going.
    private func checkGatewayReferences(_ fields: [String: JSONValue]) throws {
        var violations: [FieldViolation] = []
        for (i, id) in (fields["gatewayIds"]?.stringList ?? []).enumerated() {
            if !isLiveGateway(id) {
                let why = hasGateway(id) ? "gateway '\(id)' is being deleted" : "no gateway '\(id)'"
                violations.append(FieldViolation(field: "gatewayIds[\(i)]", description: why))
            }
        }
        if !violations.isEmpty {
            throw Failure.invalid("a deployment must name existing gateways: " + violations.map(\.description).joined(separator: "; "), violations)
        }
    }

    /// The answer for a read, noting that a recoverable error has been seen.
    private func shown(_ r: StoredResource, now: Date) -> Resource {
        let answer = render(r, now: now)
        if answer.statusCode == .error, r.errorSeen != true { resources[r.id]?.errorSeen = true }
        if answer.statusCode == .ready, !answer.isDone, r.notAppliedSeen != true { resources[r.id]?.notAppliedSeen = true }
        return answer
    }

    /// The answer form: status and conditions from the clock; a deployment's
    /// ResourcesApplied condition turns True `appliedAfter` seconds after READY; a
    /// claim's instances are allocated when READY.
    private func render(_ r: StoredResource, now: Date) -> Resource {
        let status = self.status(of: r, now: now)
        let updated = effectiveUpdatedAt(r, now: now)
        let ready = status == .ready
        let (reason, message): (String, String)
        switch status {
        case .ready: (reason, message) = ("Ready", "\(r.kind.noun) is ready")
        case .deleting: (reason, message) = ("Deleting", "\(r.kind.noun) is being deleted")
        case .error: (reason, message) = ("ProvisioningError", "instances not yet healthy; retrying")
        case .failed: (reason, message) = ("ProvisioningFailed", "no capacity for the \(r.kind.noun)")
        default: (reason, message) = ("Provisioning", "\(r.kind.noun) is not ready yet")
        }
        func condition(_ type: String, _ on: Bool, _ reason: String, _ message: String) -> JSONValue {
            .object(["type": .string(type), "status": .string(on ? "True" : "False"), "reason": .string(reason),
                     "message": .string(message), "lastUpdateTime": .string(Timestamp.format(updated))])
        }
        var conditions = [condition("Ready", ready, reason, message)]
        var out: [String: JSONValue] = [
            "createdAt": .string(Timestamp.format(r.createdAt)), "updatedAt": .string(Timestamp.format(updated)),
            "status": .string(status.rawValue),
        ]
        switch r.kind {
        case .deployment:
            if configuration.resourcesAppliedCondition {
                // At least one reader sees READY with the condition False, however late it polls: tests count on it, not on timing.
                let applied = ready && (configuration.appliedAfter == 0
                    || (r.notAppliedSeen == true && now >= r.readyAt.addingTimeInterval(configuration.appliedAfter)))
                conditions.append(condition(Resource.resourcesApplied, applied, applied ? "Applied" : "Applying",
                                            applied ? "every resource is applied" : "resources are being applied"))
            }
        case .capacityClaim:
            let count = r.fields["resources"]?["instanceCount"]?.wholeNumber ?? 0
            out["allocatedInstances"] = .integer(ready ? count : 0)
            out["pendingInstances"] = .integer(ready || status == .deleting ? 0 : count)
        case .gateway:
            break
        }
        out["conditions"] = .array(conditions)
        return Resource(spec: ResourceSpec(kind: r.kind, fields: r.fields), status: out)
    }

    /// What `/deployments/parameters` or `/capacityclaims/parameters` answers, in
    /// the form `--parameters-shape` picks.
    func parametersAnswer(_ kind: ResourceKind) -> JSONValue {
        let c = configuration
        let opaque = c.parametersShape == .opaque
        switch kind {
        case .gateway:
            return .object(["zones": .array(c.zones.map(JSONValue.string))])
        case .deployment:
            let engines = c.engines.keys.sorted()
            if opaque {
                // Keyed by something gwlua does not expect: it must turn the checks off, with one warning.
                return .object([
                    "instanceTypes": .object(Dictionary(uniqueKeysWithValues: c.instanceTypes.map { ($0, .object(["gpus": .integer(8)])) })),
                    "engineEnvOptions": .string(engines.joined(separator: ",")),
                ])
            }
            return .object([
                "gatewayIds": .array(liveGatewayIDs().map(JSONValue.string)),
                "instanceTypes": .array(c.instanceTypes.map(JSONValue.string)),
                "runtimeVersions": .array(engines.flatMap { e in
                    (c.engines[e]?.versions ?? []).map { .object(["engine": .string(e), "version": .string($0)]) }
                }),
                "runtimeConfigOptions": .array([.string("max-model-len"), .string("tensor-parallel-size"), .string("gpu-memory-utilization")]),
                "engineEnvOptions": .object(Dictionary(uniqueKeysWithValues: engines.map { e in
                    (e, .object(["allowedNames": .array((c.engines[e]?.envNames ?? []).map(JSONValue.string))]))
                })),
            ])
        case .capacityClaim:
            let types = JSONValue.array(c.claimInstanceTypes.map(JSONValue.string))
            if opaque { return .object(["zoneInstanceTypes": .string("see the console")]) }
            return .object(["zoneInstanceTypes": .object(Dictionary(uniqueKeysWithValues: c.zones.map { ($0, types) }))])
        }
    }
}
