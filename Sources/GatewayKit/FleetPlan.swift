/// A fleet of all three kinds: its gateways, the deployments that route to them
/// and the capacity claims they run on, planned as one.
extension Planner {
    /// Deployments or claims against those that exist, matched by name, as
    /// gateways are: the oldest of several namesakes is managed (one already as
    /// specified first), younger exact duplicates go, and with `prune` every other
    /// one goes. A difference in a field the provider replaces on (a claim's fields
    /// but instanceCount) is a replace (`-/+`), else an update.
    public static func planResources(_ kind: ResourceKind, desired: [ResourceSpec], existing: [Resource], prune: Bool) -> [PlanItem] {
        var byName: [String: [Resource]] = [:]
        for r in existing where r.statusCode != .deleting { byName[r.spec.name, default: []].append(r) }
        for (name, group) in byName where group.count > 1 { byName[name] = group.sorted { $0.ageKey < $1.ageKey } }
        let replacing = Set(ShapePaths.all(of: kind.shape).filter { $0.field.replaces }.map(\.path))
        var items: [PlanItem] = [], dedupes: [PlanItem] = []
        var managed = Set<String>()
        for (i, spec) in desired.enumerated() {
            guard let group = byName[spec.name], let oldest = group.first else {
                items.append(PlanItem(kind: kind, action: .create, name: spec.name, position: i, desired: spec, existing: nil, changes: []))
                continue
            }
            let current = group.first { spec.differences(from: $0.spec).isEmpty } ?? oldest
            if let id = current.spec.id { managed.insert(id) }
            let changes = spec.differences(from: current.spec)
            let action: PlanItem.Action = changes.isEmpty ? .unchanged : changes.contains { replacing.contains($0.path) } ? .replace : .update
            items.append(PlanItem(kind: kind, action: action, name: spec.name, position: i, desired: spec, existing: current, changes: changes))
            for duplicate in group where duplicate.spec.id != current.spec.id && current.ageKey < duplicate.ageKey
                && spec.differences(from: duplicate.spec).isEmpty {
                if let id = duplicate.spec.id { managed.insert(id) }
                dedupes.append(PlanItem(kind: kind, action: .delete, name: spec.name, position: nil, desired: nil, existing: duplicate,
                                        changes: [], duplicateOf: current.spec.id))
            }
        }
        items += dedupes
        if prune {
            let deletes = existing.filter { r in r.statusCode != .deleting && !(r.spec.id.map(managed.contains) ?? false) }
                .map { PlanItem(kind: kind, action: .delete, name: $0.spec.name, position: nil, desired: nil, existing: $0, changes: []) }
            items += deletes.sorted { ($0.name, $0.id ?? "") < ($1.name, $1.id ?? "") }
        }
        return items
    }

    /// `spec` with the fleet's gateway names in gatewayIds replaced by their ids
    /// where those gateways exist (`ids`: name to id); names of gateways still to be created stay.
    public static func resolvingGateways(_ spec: ResourceSpec, _ ids: [String: String]) -> ResourceSpec {
        guard spec.kind == .deployment, let refs = spec.fields["gatewayIds"]?.stringList else { return spec }
        var out = spec
        out.fields["gatewayIds"] = .array(refs.map { .string(ids[$0] ?? $0) })
        return out
    }

    /// The whole fleet's plan, in the order apply works in: gateways and claims,
    /// then deployments (which name them), then deletes: deployments before the
    /// gateways they route to, claims last. A gateway prune that a deployment
    /// still routes to after the plan is held back, naming the deployments.
    public static func planFleet(gateways: [GatewaySpec], deployments: [ResourceSpec], claims: [ResourceSpec],
                                 existingGateways: [Gateway], existingDeployments: [Resource], existingClaims: [Resource],
                                 prune: Bool, replace: Set<String>?, managing: Set<ResourceKind> = Set(ResourceKind.allCases)) -> Plan {
        // Prune reaches only the kinds the fleet names: a gateway-only fleet never deletes claims.
        func pruning(_ kind: ResourceKind) -> Bool { prune && managing.contains(kind) }
        let gatewayPlan = plan(desired: gateways, existing: existingGateways, prune: pruning(.gateway), replace: replace)
        let ids = gatewayPlan.gatewayIDs
        let resolved = deployments.map { resolvingGateways($0, ids) }
        let claimItems = planResources(.capacityClaim, desired: claims, existing: existingClaims, prune: pruning(.capacityClaim))
        var deploymentItems = planResources(.deployment, desired: resolved, existing: existingDeployments, prune: pruning(.deployment))
        // Items keep what the file says (gateway names): apply resolves them to the ids the gateways have then.
        for i in deploymentItems.indices {
            if let position = deploymentItems[i].position { deploymentItems[i].desiredResource = deployments[position] }
        }

        // Which gateways deployments route to once the plan is applied: the kept and changed ones' wanted
        // gateways, and those of deployments the plan does not touch (outside its prefix, or not pruned).
        var routes: [String: [String]] = [:]
        var touched = Set<String>()
        for item in deploymentItems {
            if let id = item.existingResource?.spec.id { touched.insert(id) }
            guard item.action != .delete, let position = item.position,
                  let wanted = resolved[position].fields["gatewayIds"]?.stringList else { continue }
            for ref in wanted { routes[ref.lowercased(), default: []].append(item.name) }
        }
        for d in existingDeployments where d.statusCode != .deleting && !(d.spec.id.map(touched.contains) ?? false) {
            for ref in d.spec.fields["gatewayIds"]?.stringList ?? [] { routes[ref.lowercased(), default: []].append(d.spec.name) }
        }
        var gatewayItems = gatewayPlan.items
        for i in gatewayItems.indices where gatewayItems[i].action == .delete && gatewayItems[i].duplicateOf == nil {
            guard let id = gatewayItems[i].id?.lowercased(), let users = routes[id] else { continue }
            gatewayItems[i].action = .unchanged
            gatewayItems[i].blockedBy = Array(Set(users)).sorted()
        }
        func phase(_ items: [PlanItem], deletes: Bool) -> [PlanItem] { items.filter { ($0.action == .delete) == deletes } }
        return Plan(items: phase(gatewayItems, deletes: false) + phase(claimItems, deletes: false) + phase(deploymentItems, deletes: false)
                    + phase(deploymentItems, deletes: true) + phase(gatewayItems, deletes: true) + phase(claimItems, deletes: true))
    }
}

extension Plan {
    /// The ids of the gateways the plan keeps, by name (those it creates or replaces have none yet): what the fleet's
    /// gateway names in deployments resolve to.
    public var gatewayIDs: [String: String] {
        var ids: [String: String] = [:]
        for item in items where item.kind == .gateway && item.action != .delete && item.action != .replace {
            if let id = item.existing?.spec.id { ids[item.name] = id }
        }
        return ids
    }
}
