import Foundation

/// One field that differs between a desired spec and the gateway that exists,
/// by its API path. Values are for display: a W&B apiKey is never among them.
public struct FieldChange: Sendable, Hashable {
    public var path: String
    public var old: JSONValue?
    public var new: JSONValue?
}

/// What apply will do for one name.
public struct PlanItem: Sendable {
    public enum Action: String, Sendable, CaseIterable {
        case create, update, unchanged, delete
    }

    public var action: Action
    public var name: String
    /// Position in the desired specs (0-based); nil for a delete.
    public var position: Int?
    public var desired: GatewaySpec?
    public var existing: Gateway?
    public var changes: [FieldChange]

    /// The gateway's id: the existing one's, else the one the spec asks for.
    public var id: String? { existing?.spec.id ?? desired?.id }
}

/// Desired specs against the gateways that exist, matched by name.
public struct Plan: Sendable {
    /// Desired specs in their order (each create, update or unchanged), then deletes.
    public var items: [PlanItem]

    public func count(_ action: PlanItem.Action) -> Int { items.reduce(0) { $0 + ($1.action == action ? 1 : 0) } }
    public var hasChanges: Bool { items.contains { $0.action != .unchanged } }

    /// A Terraform-like listing: `+` create, `~` update with old -> new per
    /// field, `-` delete, then `Plan: N to create, N to update, N to delete.`
    public func render(color: Bool = false) -> String {
        func paint(_ text: String, _ code: String) -> String { color ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text }
        var out = ""
        for item in items {
            switch item.action {
            case .create:
                out += paint("+ \(item.name)", "32") + "\n"
                if let spec = item.desired {
                    for (key, value) in Plan.displayFields(spec) { out += "    \(key): \(value.compactText)\n" }
                }
            case .update:
                out += paint("~ \(item.name)", "33") + " (id \(item.id ?? "?"))\n"
                for change in item.changes {
                    out += "    \(change.path): \(change.old?.compactText ?? "(none)") -> \(change.new?.compactText ?? "(none)")\n"
                }
            case .delete:
                out += paint("- \(item.name)", "31") + " (id \(item.id ?? "?"))\n"
            case .unchanged:
                continue
            }
        }
        let unchanged = count(.unchanged)
        if !hasChanges { out += "No changes. \(unchanged) gateway\(unchanged == 1 ? "" : "s") already as specified.\n" }
        out += "Plan: \(count(.create)) to create, \(count(.update)) to update, \(count(.delete)) to delete."
        if unchanged > 0 && hasChanges { out += " (\(unchanged) unchanged)" }
        return out + "\n"
    }

    /// The spec's fields as the plan shows them, in API order, apiKey redacted.
    static func displayFields(_ spec: GatewaySpec) -> [(String, JSONValue)] {
        var fields: [(String, JSONValue)] = [("zones", .array(spec.zones.map { .string($0) }))]
        if let auth = spec.authKind, let value = Planner.field(auth, of: spec) { fields.append((auth, value)) }
        if let routing = spec.routingKind, let value = Planner.field(routing, of: spec) { fields.append((routing, value)) }
        if let dns = spec.endpointConfiguration?.additionalDns, !dns.isEmpty {
            fields.append(("endpointConfiguration.additionalDns", .array(dns.map { .string($0) })))
        }
        return fields
    }
}

public enum Planner {
    /// Issues for names used by more than one desired spec, naming both positions (1-based, as Lua counts).
    public static func duplicateNameIssues(_ names: [String]) -> [ValidationIssue] {
        var first: [String: Int] = [:]
        var issues: [ValidationIssue] = []
        for (i, name) in names.enumerated() {
            if let earlier = first[name] {
                issues.append(ValidationIssue(path: "[\(i + 1)].name",
                                              message: "duplicate name '\(name)': specs [\(earlier + 1)] and [\(i + 1)] both use it (names must be unique)"))
            } else {
                first[name] = i
            }
        }
        return issues
    }

    /// Matches desired specs to existing gateways by name. Gateways already
    /// being deleted count as gone. With `prune`, gateways no spec names are deleted.
    public static func plan(desired: [GatewaySpec], existing: [Gateway], prune: Bool = false) -> Plan {
        var byName: [String: Gateway] = [:]
        for g in existing where g.status.status != .deleting && byName[g.spec.name] == nil {
            byName[g.spec.name] = g
        }
        var items: [PlanItem] = []
        items.reserveCapacity(desired.count)
        var named = Set<String>()
        for (i, spec) in desired.enumerated() {
            named.insert(spec.name)
            guard let current = byName[spec.name] else {
                items.append(PlanItem(action: .create, name: spec.name, position: i, desired: spec, existing: nil, changes: []))
                continue
            }
            let changes = differences(from: current.spec, to: spec)
            items.append(PlanItem(action: changes.isEmpty ? .unchanged : .update, name: spec.name, position: i,
                                  desired: spec, existing: current, changes: changes))
        }
        if prune {
            var deletes: [PlanItem] = []
            for g in existing where g.status.status != .deleting {
                // A second gateway with a desired name is not the one the spec manages: it goes too.
                if named.contains(g.spec.name) && byName[g.spec.name]?.spec.id == g.spec.id { continue }
                deletes.append(PlanItem(action: .delete, name: g.spec.name, position: nil, desired: nil, existing: g, changes: []))
            }
            // By name, so a plan reads the same however the server orders its list.
            items += deletes.sorted { ($0.name, $0.id ?? "") < ($1.name, $1.id ?? "") }
        }
        return Plan(items: items)
    }

    /// The fields that differ, compared as the API means them: zones without
    /// case, DNS names as a set, W&B without the apiKey (never returned), unset
    /// booleans as false.
    public static func differences(from current: GatewaySpec, to desired: GatewaySpec) -> [FieldChange] {
        var changes: [FieldChange] = []
        if current.zones.map({ $0.uppercased() }) != desired.zones.map({ $0.uppercased() }) {
            changes.append(FieldChange(path: "zones", old: field("zones", of: current), new: field("zones", of: desired)))
        }
        if !sameAuth(current, desired) {
            for key in ["coreWeaveAuth", "weightsAndBiasesAuth"] {
                let old = field(key, of: current), new = field(key, of: desired)
                if old != new || key == desired.authKind { changes.append(FieldChange(path: key, old: old, new: new)) }
            }
        }
        if current.routingKind != desired.routingKind || current.bodyBasedRouting != desired.bodyBasedRouting
            || current.headerBasedRouting != desired.headerBasedRouting {
            for key in ["bodyBasedRouting", "headerBasedRouting", "pathBasedRouting"] {
                let old = field(key, of: current), new = field(key, of: desired)
                if old != new { changes.append(FieldChange(path: key, old: old, new: new)) }
            }
        }
        let oldDNS = current.endpointConfiguration?.additionalDns ?? []
        let newDNS = desired.endpointConfiguration?.additionalDns ?? []
        if Set(oldDNS.map { $0.lowercased() }) != Set(newDNS.map { $0.lowercased() }) {
            changes.append(FieldChange(path: "endpointConfiguration.additionalDns",
                                       old: .array(oldDNS.map { .string($0) }), new: .array(newDNS.map { .string($0) })))
        }
        return changes
    }

    static func sameAuth(_ a: GatewaySpec, _ b: GatewaySpec) -> Bool {
        guard a.authKind == b.authKind else { return false }
        guard let x = a.weightsAndBiasesAuth, let y = b.weightsAndBiasesAuth else { return true }
        return x.serverUrl == y.serverUrl && (x.enableUsageReports ?? false) == (y.enableUsageReports ?? false)
            && (x.enableRateLimiting ?? false) == (y.enableRateLimiting ?? false)
    }

    /// One top-level field as display JSON (apiKey redacted), nil when absent.
    static func field(_ key: String, of spec: GatewaySpec) -> JSONValue? {
        switch key {
        case "zones": return .array(spec.zones.map { .string($0) })
        case "coreWeaveAuth": return spec.coreWeaveAuth.map { _ in .object([:]) }
        case "weightsAndBiasesAuth":
            guard let w = spec.weightsAndBiasesAuth else { return nil }
            var o: [String: JSONValue] = [:]
            if w.apiKey != nil { o["apiKey"] = .string("<redacted>") }
            if let v = w.serverUrl { o["serverUrl"] = .string(v) }
            if let v = w.enableUsageReports { o["enableUsageReports"] = .bool(v) }
            if let v = w.enableRateLimiting { o["enableRateLimiting"] = .bool(v) }
            return .object(o)
        case "bodyBasedRouting": return spec.bodyBasedRouting.map { .object(["apiType": .string($0.apiType.rawValue)]) }
        case "headerBasedRouting": return spec.headerBasedRouting.map { .object(["headerName": .string($0.headerName)]) }
        case "pathBasedRouting": return spec.pathBasedRouting.map { _ in .object([:]) }
        default: return nil
        }
    }

    /// The PATCH body for an update: only the changed top-level fields, with
    /// their desired values (the apiKey included: the server needs it).
    public static func patchBody(for item: PlanItem) throws -> Data {
        guard let desired = item.desired else { return Data("{}".utf8) }
        var request = desired
        request.id = nil
        request.organizationId = nil
        guard case .object(let all) = request.json else { return Data("{}".utf8) }
        var patch: [String: JSONValue] = [:]
        for change in item.changes {
            let top = String(change.path.prefix { $0 != "." })
            // A field being removed (an auth or routing replaced) is cleared by sending its replacement.
            if let value = all[top] { patch[top] = value }
        }
        return try WireJSON.encode(JSONValue.object(patch))
    }
}

extension JSONValue {
    /// Compact JSON with sorted keys, for messages and plans.
    public var compactText: String {
        (try? WireJSON.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "\(self)"
    }
}
