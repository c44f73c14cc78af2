#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

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
        /// `replace`: create a new gateway, wait for READY, then delete the old one
        /// (`-/+`), for a difference an update cannot make.
        case create, update, unchanged, delete, replace
    }

    public var action: Action
    public var name: String
    /// Position in the desired specs (0-based); nil for a delete.
    public var position: Int?
    public var desired: GatewaySpec?
    public var existing: Gateway?
    public var changes: [FieldChange]
    /// Differences an update cannot make (the API merges DNS names, so a name
    /// cannot be removed by update): only a replace changes them.
    public var replaceOnly: [FieldChange] = []
    /// Other gateways with the same name, which the plan does not manage
    /// (it manages the oldest); prune deletes them.
    public var sameName: [Gateway] = []
    /// A delete of a younger exact duplicate (same name and spec, say from two
    /// overlapping runs): the id of the gateway that stays.
    public var duplicateOf: String?
    /// What the item is of; a deployment's or claim's spec and resource are in
    /// `desiredResource` and `existingResource` (`desired` and `existing` are the gateway's).
    public var kind: ResourceKind = .gateway
    public var desiredResource: ResourceSpec?
    public var existingResource: Resource?
    /// A prune the plan holds back: the deployments that still route to this gateway.
    public var blockedBy: [String] = []

    public init(action: Action, name: String, position: Int?, desired: GatewaySpec?, existing: Gateway?,
                changes: [FieldChange], replaceOnly: [FieldChange] = [], sameName: [Gateway] = [], duplicateOf: String? = nil) {
        self.duplicateOf = duplicateOf
        self.action = action
        self.name = name
        self.position = position
        self.desired = desired
        self.existing = existing
        self.changes = changes
        self.replaceOnly = replaceOnly
        self.sameName = sameName
    }

    /// A deployment's or claim's item.
    public init(kind: ResourceKind, action: Action, name: String, position: Int?, desired: ResourceSpec?, existing: Resource?,
                changes: [FieldChange], duplicateOf: String? = nil) {
        self.init(action: action, name: name, position: position, desired: nil, existing: nil, changes: changes, duplicateOf: duplicateOf)
        self.kind = kind
        desiredResource = desired
        existingResource = existing
    }

    /// The resource's id: the existing one's, else (a gateway) the one the spec asks for.
    public var id: String? { existing?.spec.id ?? desired?.id ?? existingResource?.spec.id }

    /// What the plan says about the item beyond its action (the `!` lines), or nil.
    public var note: String? {
        let notes = [blockedNote, replaceOnlyNote, sameNameNote, unknownFieldsNote].compactMap { $0 }
        return notes.isEmpty ? nil : notes.joined(separator: "; ")
    }

    /// Why a prune is held back.
    public var blockedNote: String? {
        guard !blockedBy.isEmpty else { return nil }
        return "not pruned: deployment\(blockedBy.count == 1 ? "" : "s") \(blockedBy.joined(separator: ", ")) still route\(blockedBy.count == 1 ? "s" : "") to it "
            + "(delete or move \(blockedBy.count == 1 ? "it" : "them") first)"
    }

    /// The kind as plans label it: "" for gateways (as always), else "deployment ", "capacity claim ".
    var label: String { kind == .gateway ? "" : kind.noun + " " }

    /// The differences only a replace can make, when the plan does not replace.
    public var replaceOnlyNote: String? {
        guard !replaceOnly.isEmpty && action != .replace else { return nil }
        return replaceOnly.map { "\($0.path) keeps \($0.old?.compactText ?? "")" }.joined(separator: "; ")
            + ": the API merges DNS names on update, so removing one needs the gateway replaced (apply with replace = true)"
    }

    /// The fields gwlua does not know that an update or replace sends back as the gateway holds them.
    public var unknownFieldsNote: String? {
        guard action == .update || action == .replace,
              let paths = existing?.spec.unknownFieldPaths ?? existingResource?.spec.unknownFieldPaths, !paths.isEmpty else { return nil }
        return "the \(action == .update ? "update" : "new \(kind.noun)") keeps \(paths.count == 1 ? "a field" : "fields") gwlua does not know, "
            + "as the API holds \(paths.count == 1 ? "it" : "them"): \(paths.joined(separator: ", "))"
    }

    /// The other gateways with this name, when there are any.
    public var sameNameNote: String? {
        guard !sameName.isEmpty else { return nil }
        let ids = ([existing?.spec.id] + sameName.map(\.spec.id)).compactMap { $0 }
        return "\(ids.count) gateways are named '\(name)' (\(ids.joined(separator: ", "))); the plan manages "
            + "\(existing?.spec.id ?? "?"), and deletes the others only with prune"
    }
}

/// Desired specs against the gateways that exist, matched by name.
public struct Plan: Sendable {
    /// Desired specs in their order (each create, update or unchanged), then deletes.
    public var items: [PlanItem]
    /// What the plan was made from, for applying it later only while that holds.
    public var fingerprint: PlanFingerprint?

    public init(items: [PlanItem], fingerprint: PlanFingerprint? = nil) {
        self.items = items
        self.fingerprint = fingerprint
    }

    public func count(_ action: PlanItem.Action) -> Int { items.reduce(0) { $0 + ($1.action == action ? 1 : 0) } }
    public var hasChanges: Bool { items.contains { $0.action != .unchanged } }
    /// The `!` lines: what the plan will not change and why.
    public var notes: [String] { items.compactMap { item in item.note.map { "\(item.name): \($0)" } } }

    /// A Terraform-like listing: `+` create, `~` update with old -> new per
    /// field, `-` delete, then `Plan: N to create, N to update, N to delete.`
    public func render(color: Bool = false) -> String {
        func paint(_ text: String, _ code: String) -> String { color ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text }
        var out = ""
        for item in items {
            let label = item.label
            switch item.action {
            case .create:
                out += paint("+ \(label)\(item.name)", "32") + "\n"
                if let spec = item.desired {
                    for (key, value) in Plan.displayFields(spec) { out += "    \(key): \(value.compactText)\n" }
                } else if let spec = item.desiredResource {
                    for (key, value) in Plan.displayFields(spec) { out += "    \(key): \(value.compactText)\n" }
                }
            case .update, .replace:
                out += item.action == .update ? paint("~ \(label)\(item.name)", "33") : paint("-/+ \(label)\(item.name)", "35")
                out += " (id \(item.id ?? "?"))\n"
                for change in item.changes {
                    out += "    \(change.path): \(change.old?.compactText ?? "(none)") -> \(change.new?.compactText ?? "(none)")\n"
                }
                if item.action == .replace {
                    out += item.kind == .gateway ? "    (a new gateway is created and made READY, then this one is deleted)\n"
                        : "    (the provider replaces a \(item.kind.noun) for this change: this one is deleted, then a new one created)\n"
                }
            case .delete:
                out += paint("- \(label)\(item.name)", "31") + " (id \(item.id ?? "?"))"
                out += item.duplicateOf.map { ": a younger duplicate of \($0) (same name and spec)\n" } ?? "\n"
            case .unchanged:
                break
            }
            if let note = item.note { out += paint("! \(item.label)\(item.name)", "33") + ": \(note)\n" }
        }
        let unchanged = count(.unchanged)
        if !hasChanges {
            let held = items.filter { $0.action == .unchanged && !$0.replaceOnly.isEmpty }.count
            let what = items.contains { $0.kind != .gateway } ? "resource" : "gateway"
            out += "No changes. \(unchanged - held) \(what)\(unchanged - held == 1 ? "" : "s") already as specified"
            out += held > 0 ? "; \(held) differ\(held == 1 ? "s" : "") only where a replace is needed (see ! above).\n" : ".\n"
        }
        out += "Plan: \(count(.create)) to create, \(count(.update)) to update, \(count(.delete)) to delete"
        out += count(.replace) > 0 ? ", \(count(.replace)) to replace." : "."
        if unchanged > 0 && hasChanges { out += " (\(unchanged) unchanged)" }
        return out + "\n"
    }

    /// A deployment's or claim's fields as the plan shows them, in declared order.
    static func displayFields(_ spec: ResourceSpec) -> [(String, JSONValue)] {
        var fields: [(String, JSONValue)] = []
        for (path, field) in ShapePaths.all(of: spec.kind.shape)
        where field.record == nil && field.access == .readWrite && field.comparison != .ignored && path != "name" {
            guard let value = spec[path: path], value != .null, let shown = ShapeCompare.display(value, field) else { continue }
            fields.append((path, shown))
        }
        for path in spec.unknownFieldPaths { fields.append((path + " (kept, not known to gwlua)", spec[path: path] ?? .null)) }
        return fields
    }

    /// The spec's fields as the plan shows them, in API order, apiKey redacted.
    static func displayFields(_ spec: GatewaySpec) -> [(String, JSONValue)] {
        var fields: [(String, JSONValue)] = []
        for field in GatewayShape.spec.fields where field.access == .readWrite && field.comparison != .ignored && field.name != "name" {
            guard let value = spec.fields[field.name], value != .null else { continue }
            if let record = field.record, field.oneOf == nil, case .object(let o) = value {
                for sub in record.fields {
                    guard let v = o[sub.name], v != .null, v != .array([]), let shown = ShapeCompare.display(v, sub) else { continue }
                    fields.append(("\(field.name).\(sub.name)", shown))
                }
            } else if let shown = ShapeCompare.display(value, field) {
                fields.append((field.name, shown))
            }
        }
        for path in spec.unknownFieldPaths { fields.append((path + " (kept, not known to gwlua)", spec[path: path] ?? .null)) }
        return fields
    }
}

public enum Planner {
    /// Issues for names used by more than one desired spec, naming both positions (1-based, as Lua counts).
    /// `label` names the list in a fleet table (`deployments`).
    public static func duplicateNameIssues(_ names: [String], label: String = "") -> [ValidationIssue] {
        var first: [String: Int] = [:]
        var issues: [ValidationIssue] = []
        for (i, name) in names.enumerated() {
            if let earlier = first[name] {
                issues.append(ValidationIssue(path: "\(label)[\(i + 1)].name",
                                              message: "duplicate name '\(name)': specs \(label)[\(earlier + 1)] and \(label)[\(i + 1)] both use it (names must be unique)"))
            } else {
                first[name] = i
            }
        }
        return issues
    }

    /// Matches desired specs to existing gateways by name. Gateways already being
    /// deleted count as gone. Where several gateways share a name (the API does not
    /// promise unique names), the one managed is the oldest (createdAt, then id) of
    /// those already as specified, else the oldest.
    /// A difference an update cannot make (a DNS name to remove) is a replace for
    /// the names in `replace` (nil: every name), else a note on the item. With
    /// `prune`, gateways no spec manages are deleted.
    public static func plan(desired: [GatewaySpec], existing: [Gateway], prune: Bool = false,
                            replace: Set<String>? = []) -> Plan {
        var byName: [String: [Gateway]] = [:]
        for g in existing where g.status.status != .deleting { byName[g.spec.name, default: []].append(g) }
        for (name, group) in byName where group.count > 1 { byName[name] = Gateway.oldestFirst(group) }
        var items: [PlanItem] = []
        items.reserveCapacity(desired.count)
        var managed = Set<String>()
        var dedupes: [PlanItem] = []
        for (i, spec) in desired.enumerated() {
            guard let group = byName[spec.name], let oldest = group.first else {
                items.append(PlanItem(action: .create, name: spec.name, position: i, desired: spec, existing: nil, changes: []))
                continue
            }
            // Among namesakes, one already as specified wins (say a replace whose old gateway
            // could not be deleted); else the oldest. Both rules give every reader the same answer.
            let current = group.count == 1 ? oldest : group.first { g in
                differences(from: g.spec, to: spec).isEmpty && replaceOnly(from: g.spec, to: spec).isEmpty
            } ?? oldest
            if let id = current.spec.id { managed.insert(id) }
            let changes = differences(from: current.spec, to: spec)
            let held = replaceOnly(from: current.spec, to: spec)
            let action: PlanItem.Action
            if !held.isEmpty && (replace?.contains(spec.name) ?? true) {
                action = .replace
            } else if changes.contains(where: { !held.isEmpty && $0.path == dnsPath ? addsDNS(current.spec, spec) : true }) {
                action = .update
            } else {
                action = .unchanged
            }
            // Younger exact duplicates (what overlapping runs leave) go, prune or not: they differ in nothing.
            let others = group.filter { $0.spec.id != current.spec.id }
            let duplicates = others.filter { g in
                Gateway.olderFirst(current, g) && differences(from: g.spec, to: spec).isEmpty && replaceOnly(from: g.spec, to: spec).isEmpty
            }
            items.append(PlanItem(action: action, name: spec.name, position: i, desired: spec, existing: current,
                                  changes: action == .unchanged ? [] : changes, replaceOnly: held,
                                  sameName: others.filter { g in !duplicates.contains { $0.spec.id == g.spec.id } }))
            for duplicate in duplicates {
                if let id = duplicate.spec.id { managed.insert(id) }
                dedupes.append(PlanItem(action: .delete, name: spec.name, position: nil, desired: nil, existing: duplicate,
                                        changes: [], duplicateOf: current.spec.id))
            }
        }
        items += dedupes
        if prune {
            var deletes: [PlanItem] = []
            for g in existing where g.status.status != .deleting {
                // A second gateway with a desired name is not the one the spec manages: it goes too.
                if let id = g.spec.id, managed.contains(id) { continue }
                deletes.append(PlanItem(action: .delete, name: g.spec.name, position: nil, desired: nil, existing: g, changes: []))
            }
            // By name, so a plan reads the same however the server orders its list.
            items += deletes.sorted { ($0.name, $0.id ?? "") < ($1.name, $1.id ?? "") }
        }
        return Plan(items: items)
    }

    static let dnsPath = "endpointConfiguration.additionalDns"

    /// Whether `desired` has DNS names `current` lacks (which an update can add).
    static func addsDNS(_ current: GatewaySpec, _ desired: GatewaySpec) -> Bool {
        let have = Set((current.endpointConfiguration?.additionalDns ?? []).map { $0.lowercased() })
        return (desired.endpointConfiguration?.additionalDns ?? []).contains { !have.contains($0.lowercased()) }
    }

    /// What an update cannot change: DNS names the gateway has and the spec does
    /// not (the API merges DNS names on update). `old` lists the names that stay.
    public static func replaceOnly(from current: GatewaySpec, to desired: GatewaySpec) -> [FieldChange] {
        let wanted = Set((desired.endpointConfiguration?.additionalDns ?? []).map { $0.lowercased() })
        let extra = (current.endpointConfiguration?.additionalDns ?? []).filter { !wanted.contains($0.lowercased()) }
        return extra.isEmpty ? [] : [FieldChange(path: dnsPath, old: .array(extra.map { .string($0) }), new: nil)]
    }

    /// The fields that differ, compared as the declared shape says (see `ShapeCompare`):
    /// zones and DNS names as sets without case, source ranges as sets of networks,
    /// W&B without the apiKey (never returned), unset optional fields not at all.
    public static func differences(from current: GatewaySpec, to desired: GatewaySpec) -> [FieldChange] {
        ShapeCompare.differences(from: current, to: desired)
    }
}

extension JSONValue {
    /// Compact JSON with sorted keys, for messages and plans.
    public var compactText: String {
        (try? WireJSON.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "\(self)"
    }
}
