#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Applying a fleet of all three kinds, in phases: gateways and claims first,
/// then deployments (their gateway names resolved to the ids the first phase
/// made), then deletes: deployments (waited out when gateways go next, as the API
/// may refuse to delete a gateway deployments route to), gateways, claims.
extension Applier {
    public static func runFleet(_ plan: Plan, client: GatewayClient, journal: Journal?, options: ApplyOptions,
                                control: ApplyControl = ApplyControl(),
                                onEvent: @escaping @Sendable (ApplyEvent) -> Void) async -> [ApplyOutcome] {
        guard plan.items.contains(where: { $0.kind != .gateway }) else {
            return await run(plan, client: client, journal: journal, options: options, control: control, onEvent: onEvent)
        }
        let items = plan.items
        func isDelete(_ i: Int) -> Bool { items[i].action == .delete }
        let phases: [[Int]] = [
            items.indices.filter { items[$0].kind != .deployment && !isDelete($0) },
            items.indices.filter { items[$0].kind == .deployment && !isDelete($0) },
            items.indices.filter { items[$0].kind == .deployment && isDelete($0) },
            items.indices.filter { items[$0].kind == .gateway && isDelete($0) },
            items.indices.filter { items[$0].kind == .capacityClaim && isDelete($0) },
        ]
        var ids = plan.gatewayIDs
        let wantedGateways = items.compactMap { $0.kind == .gateway ? $0.desired : nil }
        var outcomes: [ApplyOutcome?] = Array(repeating: nil, count: items.count)
        var announced = false
        for (number, phase) in phases.enumerated() where !phase.isEmpty {
            var sub = Plan(items: phase.map { items[$0] })
            var phaseOptions = options
            var unresolved: [Int: String] = [:]
            if number == 1 {
                // Each name to the gateway that stays: an overlapping run may have made an older one of the
                // same name and spec since, and then the one this run made (or saw) goes as its younger duplicate.
                await canonicalize(&ids, wantedGateways, client: client)
                // The fleet's gateway names become the ids they have now.
                for i in sub.items.indices {
                    guard let spec = sub.items[i].desiredResource else { continue }
                    let resolved = Planner.resolvingGateways(spec, ids)
                    sub.items[i].desiredResource = resolved
                    let missing = (resolved.fields["gatewayIds"]?.stringList ?? []).filter { !$0.withUTF8Bytes(SpecValidator.isUUID(bytes:)) }
                    if !missing.isEmpty { unresolved[i] = missing.joined(separator: ", ") }
                }
            }
            // Gateways can only go once no deployment routes to them.
            if number == 2, !phases[3].isEmpty { phaseOptions.wait = true }
            let ready = sub.items.indices.filter { unresolved[$0] == nil }
            let runnable = Plan(items: ready.map { sub.items[$0] })
            for (i, names) in unresolved {
                let outcome = ApplyOutcome(sub.items[i], index: phase[i], error: APIError(
                    code: .failedPrecondition, message: "its gateway \(names) was not made by this apply, so the deployment was not sent"))
                outcomes[outcome.index] = outcome
                onEvent(.outcome(outcome))
            }
            let map = ready.map { phase[$0] }
            var done = await run(runnable, client: client, journal: journal, options: phaseOptions, control: control,
                                 announce: !announced) { event in
                // A deployment refused for a gateway that went meanwhile is tried again below: not reported yet.
                if number == 1, case .outcome(let o) = event, Self.lostItsGateway(o) { return }
                onEvent(event.reindexed(map))
            }
            announced = true
            if number == 1 {
                // `done` is in the runnable plan's order (run answers by index).
                let retry = done.indices.filter { Self.lostItsGateway(done[$0]) }
                if !retry.isEmpty {
                    await canonicalize(&ids, wantedGateways, client: client)
                    var again = Plan(items: retry.map { runnable.items[$0] })
                    for i in again.items.indices {
                        if let spec = items[map[retry[i]]].desiredResource { again.items[i].desiredResource = Planner.resolvingGateways(spec, ids) }
                    }
                    let retryMap = retry.map { map[$0] }
                    let second = await run(again, client: client, journal: journal, options: phaseOptions, control: control,
                                           announce: false) { event in onEvent(event.reindexed(retryMap)) }
                    for var outcome in second {
                        let k = retry[outcome.index]
                        outcome.index = k
                        done[k] = outcome
                    }
                }
            }
            for var outcome in done {
                outcome.index = map[outcome.index]
                if outcome.kind == .gateway, outcome.ok, outcome.action != .delete, let id = outcome.id { ids[outcome.name] = id }
                outcomes[outcome.index] = outcome
            }
            if control.isStopped || Task.isCancelled { break }
        }
        // Phases not reached (a stop): each item says so.
        for i in outcomes.indices where outcomes[i] == nil {
            let outcome = ApplyOutcome(items[i], index: i, skipped: true, error: ApplyOutcome.notStarted)
            outcomes[i] = outcome
            onEvent(.outcome(outcome))
        }
        return outcomes.compactMap { $0 }
    }

    /// A deployment refused because a gateway it names is gone (deleted meanwhile, as a younger duplicate).
    static func lostItsGateway(_ outcome: ApplyOutcome) -> Bool {
        guard outcome.kind == .deployment, !outcome.ok, let error = outcome.error else { return false }
        return (error.code == .invalidArgument || error.code == .notFound || error.code == .failedPrecondition)
            && error.details.flatMap(\.fieldViolations).contains { $0.field.hasPrefix("gatewayIds") }
    }

    /// Points each fleet gateway name at the gateway of that name and spec that stays (the oldest), from a fresh list.
    static func canonicalize(_ ids: inout [String: String], _ wanted: [GatewaySpec], client: GatewayClient) async {
        guard !wanted.isEmpty, let live = try? await client.list() else { return }
        let byName = Dictionary(grouping: live, by: \.spec.name)
        for spec in wanted {
            if let kept = Gateway.matching(spec, in: byName[spec.name] ?? []).first?.spec.id { ids[spec.name] = kept }
        }
    }

    /// One deployment or claim item: create, update (whole spec over what it
    /// holds), delete, or replace (delete, wait until gone, create: the provider's
    /// way, and the only one where names must be unique), waiting when asked.
    static func actResource(_ item: PlanItem, client: GatewayClient, options: ApplyOptions) async throws -> Resource? {
        let kind = item.kind
        func ready(_ r: Resource) async throws -> Resource {
            guard options.wait, !r.isDone, let id = r.spec.id else { return r }
            return try await client.waitUntilReady(kind, id, timeout: options.waitTimeout, interval: options.waitInterval)
        }
        switch item.action {
        case .create:
            guard let spec = item.desiredResource else { return nil }
            return try await ready(try await client.create(spec))
        case .update:
            guard let id = item.id, let spec = item.desiredResource else { return nil }
            return try await ready(try await client.update(id, spec, base: item.existingResource?.spec))
        case .unchanged:
            guard let r = item.existingResource else { return nil }
            return try await ready(r)
        case .delete:
            guard let id = item.id else { return nil }
            let deleting: Resource
            do { deleting = try await client.delete(kind, id) } catch let error as APIError where error.code == .notFound {
                return item.existingResource
            }
            if options.wait { try await client.waitUntilGone(kind, id, timeout: options.waitTimeout, interval: options.waitInterval) }
            return deleting
        case .replace:
            guard let old = item.id, let desired = item.desiredResource else { return nil }
            // What the old one holds that the spec does not manage goes to the new one.
            let spec = item.existingResource.map { desired.merged(over: $0.spec) } ?? desired
            do { _ = try await client.delete(kind, old) } catch let error as APIError where error.code == .notFound {}
            try await client.waitUntilGone(kind, old, timeout: options.waitTimeout, interval: options.waitInterval)
            var fresh = spec
            fresh.id = nil
            return try await ready(try await client.create(fresh))
        }
    }

    /// Overlapping runs converge for deployments and claims as for gateways: of
    /// several of one name and spec, the oldest stays and the younger ones made
    /// since this run started go.
    static func convergeResources(_ kind: ResourceKind, _ outcomes: inout [ApplyOutcome], plan: Plan, client: GatewayClient,
                                  journal: Journal?, since started: Date, onEvent: @Sendable (ApplyEvent) -> Void) async {
        let created = outcomes.indices.filter { outcomes[$0].kind == kind && outcomes[$0].action == .create && outcomes[$0].ok }
        guard !created.isEmpty else { return }
        let all: [Resource]
        do {
            // Names first, as for gateways: the whole list only when a created name has company.
            let names = Set(created.map { outcomes[$0].name })
            var seen: [String: Int] = [:]
            for listed in try await client.listNames(kind) where !listed.deleting && names.contains(listed.name) {
                seen[listed.name, default: 0] += 1
            }
            guard seen.values.contains(where: { $0 > 1 }) else { return }
            all = try await client.list(kind)
        } catch {
            for i in created { outcomes[i].planNote = "could not check for duplicates from overlapping runs (\(error)); the next plan names any" }
            return
        }
        let earliest = started.addingTimeInterval(-GatewayClient.clockSkewMargin)
        let byName = Dictionary(grouping: all.filter { $0.statusCode != .deleting }, by: \.spec.name)
        for i in created {
            guard let ours = outcomes[i].resource?.spec.id, let desired = outcomes[i].resource?.spec else { continue }
            let same = (byName[outcomes[i].name] ?? []).filter { desired.isSatisfied(by: $0.spec) }.sorted { $0.ageKey < $1.ageKey }
            guard let kept = same.first, same.count > 1 else { continue }
            let younger = same.dropFirst().filter { r in r.spec.id == ours || (r.parsedStatus.createdDate.map { $0 >= earliest } ?? false) }
            var deleted: [String] = []
            for r in younger {
                guard let id = r.spec.id else { continue }
                if await deleteDuplicate(kind, name: r.spec.name, id: id, keptID: kept.spec.id, client: client, journal: journal) {
                    deleted.append(id)
                }
            }
            guard !deleted.isEmpty else { continue }
            if deleted.contains(ours) {
                outcomes[i].resource = kept
                outcomes[i].id = kept.spec.id
            }
            outcomes[i].planNote = convergeNote(kind, name: outcomes[i].name, ours: ours, keptID: kept.spec.id, deleted: deleted)
            onEvent(.convergedResource(outcomes[i], deleted: deleted))
        }
    }
}

extension ApplyEvent {
    /// The event with its item index mapped from a phase's plan to the fleet's.
    func reindexed(_ map: [Int]) -> ApplyEvent {
        switch self {
        case .outcome(var o):
            o.index = map[o.index]
            return .outcome(o)
        case .status(let index, let name, let gateway):
            return .status(index: map[index], name: name, gateway: gateway)
        case .converged(var o, let kept, let deleted):
            o.index = map[o.index]
            return .converged(o, kept: kept, deleted: deleted)
        case .convergedResource(var o, let deleted):
            o.index = map[o.index]
            return .convergedResource(o, deleted: deleted)
        }
    }
}
