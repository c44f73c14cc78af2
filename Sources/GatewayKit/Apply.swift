#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import Synchronization

public struct ApplyOptions: Sendable {
    /// Actions in flight at once.
    public var concurrency: Int
    /// Wait for READY after a create or update (and for gone after a delete).
    public var wait: Bool
    public var waitTimeout: Double
    public var waitInterval: Double
    /// Stop launching new work after the first failure.
    public var failFast: Bool

    public init(concurrency: Int = 10, wait: Bool = false, waitTimeout: Double = 2700, waitInterval: Double = 5,
                failFast: Bool = false) {
        self.concurrency = max(1, concurrency)
        self.wait = wait
        self.waitTimeout = waitTimeout
        self.waitInterval = waitInterval
        self.failFast = failFast
    }
}

/// What happened to one plan item.
public struct ApplyOutcome: Sendable {
    /// Index into the plan's items.
    public var index: Int
    public var action: PlanItem.Action
    public var name: String
    public var id: String?
    public var ok: Bool
    /// Never started: fail_fast or a stop request came first.
    public var skipped: Bool
    public var gateway: Gateway?
    public var error: APIError?
    public var seconds: Double
    /// After an update: what the server kept that the spec does not want (DNS
    /// names it merged); only a replace changes those.
    public var kept: [FieldChange] = []
    /// A replace: the id of the gateway it replaced (deleted once the new one was READY).
    public var replacedID: String?
    /// What the plan said of the item beyond its action (`PlanItem.note`).
    public var planNote: String?
    /// What the item is of; a deployment's or claim's answer is `resource` (`gateway` is a gateway's).
    public var kind: ResourceKind = .gateway
    public var resource: Resource?
    /// The status its answer shows, whatever its kind.
    public var status: GatewayStatusCode? { gateway?.status.status ?? resource?.statusCode }

    /// A plain sentence about what the server kept, else the plan's note, or nil.
    public var note: String? {
        guard !kept.isEmpty else { return planNote }
        return "the API kept " + kept.map { "\($0.path) \($0.old?.compactText ?? "")" }.joined(separator: "; ")
            + " although the spec no longer lists it; removing it needs the gateway replaced (apply with replace = true)"
    }
}

extension ApplyOutcome {
    /// An outcome for plan item `item` (at `index`) from what the plan knows of it: its kind, name and id; no answer yet.
    init(_ item: PlanItem, index: Int, ok: Bool = false, skipped: Bool = false, error: APIError? = nil, planNote: String? = nil) {
        self.init(index: index, action: item.action, name: item.name, id: item.id, ok: ok, skipped: skipped, gateway: nil,
                  error: error, seconds: 0, planNote: planNote)
        kind = item.kind
    }

    /// The error of an item a stopped run never started.
    static let notStarted = APIError(code: .cancelled, message: "not started: the run was stopped before it")
}

/// What an apply reports while it runs: each item's outcome, and the statuses a
/// wait passes through (STATUS_ERROR is recoverable, and people want to see it).
public enum ApplyEvent: Sendable {
    case outcome(ApplyOutcome)
    /// Item `index` (named `name`) is waiting, and its gateway is now in this status.
    case status(index: Int, name: String, gateway: Gateway)
    /// After the creates: item `index`'s name had younger duplicates (from this run
    /// and overlapping ones); `kept` stays, the gateways in `deleted` were deleted.
    /// The outcome is the item's, updated.
    case converged(ApplyOutcome, kept: Gateway, deleted: [String])
    /// The same for a deployment or claim: the outcome names the one kept.
    case convergedResource(ApplyOutcome, deleted: [String])
}

/// Lets another thread (a signal, fail_fast) stop an apply from launching more work.
public final class ApplyControl: Sendable {
    private let stopped = Atomic<Bool>(false)
    public init() {}
    public func stopLaunching() { stopped.store(true, ordering: .releasing) }
    public var isStopped: Bool { stopped.load(ordering: .acquiring) }
}

/// Runs a plan's actions with bounded concurrency, journalling each intent
/// (with the id it will use) before its request and each outcome after.
public enum Applier {
    public static func run(_ plan: Plan, client: GatewayClient, journal: Journal?, options: ApplyOptions,
                           control: ApplyControl = ApplyControl(), announce: Bool = true,
                           onEvent: @escaping @Sendable (ApplyEvent) -> Void) async -> [ApplyOutcome] {
        let started = Date()
        let earlierIDs = journal?.createIDs() ?? [:]
        if let journal, announce {
            try? await journal.append(JournalRecord(event: "run", pid: getpid(), items: plan.items.count))
        }
        var outcomes: [ApplyOutcome?] = Array(repeating: nil, count: plan.items.count)
        await withTaskGroup(of: ApplyOutcome.self) { group in
            var running = 0
            func record(_ outcome: ApplyOutcome) {
                outcomes[outcome.index] = outcome
                if !outcome.ok && !outcome.skipped && options.failFast { control.stopLaunching() }
                if outcome.error?.code == .journal { control.stopLaunching() }
                onEvent(.outcome(outcome))
            }
            for (index, item) in plan.items.enumerated() {
                let done = item.kind == .gateway ? item.existing?.status.status == .ready : item.existingResource?.isDone == true
                let needsWork = item.action != .unchanged || (options.wait && !done && item.blockedBy.isEmpty)
                if !needsWork {
                    var outcome = ApplyOutcome(item, index: index, ok: true, planNote: item.note)
                    (outcome.gateway, outcome.resource) = (item.existing, item.existingResource)
                    record(outcome)
                    continue
                }
                while running >= options.concurrency, let done = await group.next() {
                    running -= 1
                    record(done)
                }
                if control.isStopped || Task.isCancelled {
                    record(ApplyOutcome(item, index: index, skipped: true, error: ApplyOutcome.notStarted))
                    continue
                }
                var item = item
                if item.kind == .gateway, item.action == .create || item.action == .replace, item.desired?.id == nil {
                    // The id goes into the journal before the request: a resumed run re-sends the same one.
                    item.desired?.id = earlierIDs[item.name] ?? GatewaySpec.newID()
                }
                let work = item
                running += 1
                group.addTask {
                    await perform(work, index: index, client: client, journal: journal, options: options) { gateway in
                        onEvent(.status(index: index, name: work.name, gateway: gateway))
                    }
                }
            }
            for await done in group { record(done) }
        }
        var finished = outcomes.compactMap { $0 }
        if !control.isStopped, !Task.isCancelled {
            await converge(&finished, plan: plan, client: client, journal: journal, since: started, onEvent: onEvent)
        }
        return finished
    }

    /// Overlapping runs converge: for each name this run created, the oldest gateway
    /// of that name and spec (createdAt, then id: every run agrees) stays, and the
    /// younger ones made since this run started — by this run or by an overlapping
    /// one that planned the same create — are deleted. Each younger gateway's
    /// creator checks after its own create, when the older one already exists, so
    /// at most a run killed in between leaves a duplicate, which the next plan
    /// deletes. Outcomes whose gateway went are pointed at the one that stays.
    static func converge(_ outcomes: inout [ApplyOutcome], plan: Plan, client: GatewayClient, journal: Journal?,
                         since started: Date, onEvent: @Sendable (ApplyEvent) -> Void) async {
        for kind in [ResourceKind.deployment, .capacityClaim] where outcomes.contains(where: { $0.kind == kind }) {
            await convergeResources(kind, &outcomes, plan: plan, client: client, journal: journal, since: started, onEvent: onEvent)
        }
        let created = outcomes.indices.filter { outcomes[$0].kind == .gateway && outcomes[$0].action == .create && outcomes[$0].ok }
        guard !created.isEmpty else { return }
        let all: [Gateway]
        do {
            // Names first: only when a created name has more than one live gateway is the whole list read.
            let names = Set(created.map { outcomes[$0].name })
            var seen: [String: Int] = [:]
            for listed in try await client.listNames(.gateway) where !listed.deleting && names.contains(listed.name) {
                seen[listed.name, default: 0] += 1
            }
            guard seen.values.contains(where: { $0 > 1 }) else { return }
            all = try await client.list()
        } catch {
            for i in created {
                outcomes[i].planNote = "could not check for duplicates from overlapping runs (\(error)); the next plan names any"
            }
            return
        }
        // A gateway made a little before this run started (clock skew) still counts as an overlapping run's.
        let earliest = started.addingTimeInterval(-GatewayClient.clockSkewMargin)
        let byName = Dictionary(grouping: all, by: \.spec.name)
        for i in created {
            guard let desired = plan.items[outcomes[i].index].desired, let ours = outcomes[i].gateway?.spec.id else { continue }
            let same = Gateway.matching(desired, in: byName[outcomes[i].name] ?? [])
            guard let kept = same.first, same.count > 1 else { continue }
            let younger = same.dropFirst().filter { g in
                g.spec.id == ours || (g.status.createdDate.map { $0 >= earliest } ?? false)
            }
            var deleted: [String] = []
            for g in younger {
                guard let id = g.spec.id else { continue }
                if await deleteDuplicate(.gateway, name: g.spec.name, id: id, keptID: kept.spec.id, client: client, journal: journal) {
                    deleted.append(id)
                }
            }
            guard !deleted.isEmpty else { continue }
            if deleted.contains(ours) {
                outcomes[i].gateway = kept
                outcomes[i].id = kept.spec.id
            }
            outcomes[i].planNote = convergeNote(.gateway, name: outcomes[i].name, ours: ours, keptID: kept.spec.id, deleted: deleted)
            onEvent(.converged(outcomes[i], kept: kept, deleted: deleted))
        }
    }

    /// Deletes a younger duplicate, journalled as intent and outcome; true when it is gone (or already was).
    static func deleteDuplicate(_ kind: ResourceKind, name: String, id: String, keptID: String?, client: GatewayClient,
                                journal: Journal?) async -> Bool {
        var intent = JournalRecord(event: "intent", action: "delete", name: name, id: id, message: "younger duplicate of \(keptID ?? "?")")
        intent.kind = kind == .gateway ? nil : kind.rawValue
        try? await journal?.append(intent)
        let ok: Bool
        do {
            if kind == .gateway { _ = try await client.delete(id) } else { _ = try await client.delete(kind, id) }
            ok = true
        } catch let error as APIError where error.code == .notFound {
            ok = true  // another run deleted it first
        } catch {
            ok = false
        }
        var record = JournalRecord(event: "outcome", action: "delete", name: name, id: id, ok: ok)
        record.kind = intent.kind
        try? await journal?.append(record)
        return ok
    }

    /// What an item's note says after convergence deleted `deleted` (this run's `ours` among them, or not).
    static func convergeNote(_ kind: ResourceKind, name: String, ours: String, keptID: String?, deleted: [String]) -> String {
        if deleted.contains(ours) {
            return "an overlapping run made \(kind == .gateway ? "" : kind.noun + " ")\(name) first (id \(keptID ?? "?")); "
                + "this run's \(kind == .gateway ? "gateway " : "")\(ours) was deleted as its younger duplicate"
        }
        return "deleted \(deleted.count) younger duplicate\(deleted.count == 1 ? "" : "s") (\(deleted.joined(separator: ", "))) made by an overlapping run"
    }

    static func perform(_ item: PlanItem, index: Int, client: GatewayClient, journal: Journal?,
                        options: ApplyOptions, onStatus: @escaping @Sendable (Gateway) -> Void) async -> ApplyOutcome {
        let clock = ContinuousClock()
        let start = clock.now
        var outcome = ApplyOutcome(item, index: index, planNote: item.note)
        let kindLabel = item.kind == .gateway ? nil : item.kind.rawValue
        do {
            if let journal, item.action != .unchanged {
                do {
                    // A replace journals the new gateway's id (a resumed run re-sends it) and names the old one.
                    var record = item.action == .replace && item.kind == .gateway
                        ? JournalRecord(event: "intent", action: item.action.rawValue, name: item.name, id: item.desired?.id,
                                        message: "replaces \(item.id ?? "?")")
                        : JournalRecord(event: "intent", action: item.action.rawValue, name: item.name, id: item.id)
                    record.kind = kindLabel
                    try await journal.append(record)
                } catch {
                    throw APIError(code: .journal, message: "\(error); nothing was sent for \(item.name)")
                }
            }
            if item.kind == .gateway {
                outcome.gateway = try await act(item, client: client, options: options, onStatus: onStatus)
            } else {
                outcome.resource = try await actResource(item, client: client, options: options)
            }
            outcome.ok = true
            if item.action == .update, let desired = item.desired, let answer = outcome.gateway?.spec {
                // What the server answered supersedes what the plan expected it to keep.
                outcome.kept = Planner.replaceOnly(from: answer, to: desired)
                outcome.planNote = item.sameNameNote
            }
            if item.action == .replace { outcome.replacedID = item.id }
        } catch let error as APIError {
            outcome.error = error
        } catch {
            outcome.error = APIError(code: .internal, message: String(describing: error))
        }
        outcome.id = outcome.gateway?.spec.id ?? outcome.resource?.spec.id ?? (item.action == .replace ? item.desired?.id : item.id)
        if item.kind != .gateway, item.action == .replace, outcome.ok { outcome.replacedID = item.id }
        let elapsed = clock.now - start
        outcome.seconds = elapsed.inSeconds
        if let journal, item.action != .unchanged, outcome.error?.code != .journal {
            var record = JournalRecord(event: "outcome", action: item.action.rawValue, name: item.name, id: outcome.id,
                                       ok: outcome.ok, status: outcome.status?.rawValue,
                                       code: outcome.error?.code.rawValue, message: outcome.error?.message ?? outcome.note)
            record.kind = kindLabel
            if (try? await journal.append(record)) == nil, outcome.ok {
                outcome.ok = false
                outcome.error = APIError(code: .journal, message: "\(item.action.rawValue) of \(item.name) succeeded but its outcome could not be journalled")
            }
        }
        return outcome
    }

    static func act(_ item: PlanItem, client: GatewayClient, options: ApplyOptions,
                    onStatus: @escaping @Sendable (Gateway) -> Void) async throws -> Gateway? {
        func ready(_ id: String) async throws -> Gateway {
            try await client.waitUntilReady(id, timeout: options.waitTimeout, interval: options.waitInterval, onStatus: onStatus)
        }
        switch item.action {
        case .create:
            guard let spec = item.desired else { return nil }
            let created = try await client.create(spec)
            guard options.wait, created.status.status != .ready, let id = created.spec.id else { return created }
            do { return try await ready(id) } catch let error as APIError where error.gateway?.status.status == .deleting {
                // An overlapping run deleted it as a younger duplicate: wait on the one that stays.
                guard let kept = Gateway.matching(spec, in: try await client.list()).first?.spec.id else { throw error }
                return try await ready(kept)
            }
        case .update:
            // The whole spec: the API takes no field mask (docs/api-compatibility.md).
            guard let id = item.id, let spec = item.desired else { return nil }
            let updated = try await client.update(id, spec, base: item.existing?.spec)
            guard options.wait, updated.status.status != .ready else { return updated }
            return try await ready(id)
        case .unchanged:
            guard let id = item.id else { return item.existing }
            return try await ready(id)
        case .delete:
            guard let id = item.id else { return nil }
            return try await delete(id, existing: item.existing, client: client, options: options)
        case .replace:
            guard let old = item.id, let desired = item.desired else { return nil }
            // The new gateway keeps what the old one holds that the spec does not manage.
            let spec = item.existing.map { desired.merged(over: $0.spec) } ?? desired
            let created = try await client.create(spec)
            guard let id = created.spec.id else { return created }
            // The old gateway serves until the new one does.
            let serving: Gateway
            do { serving = created.status.status == .ready ? created : try await ready(id) } catch let error as APIError {
                var error = error
                error.message = "replacing \(item.name): the new gateway \(id) did not become READY, so the old one \(old) was kept: \(error.message)"
                throw error
            }
            _ = try await delete(old, existing: item.existing, client: client, options: options)
            return serving
        }
    }

    private static func delete(_ id: String, existing: Gateway?, client: GatewayClient, options: ApplyOptions) async throws -> Gateway? {
        let final: Gateway?
        do { final = try await client.delete(id) } catch let error as APIError where error.code == .notFound {
            return existing  // already gone: what a delete wants
        }
        if options.wait { try await client.waitUntilGone(id, timeout: options.waitTimeout, interval: options.waitInterval) }
        return final
    }
}
