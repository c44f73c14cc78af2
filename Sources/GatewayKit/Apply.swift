import Foundation
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
                           control: ApplyControl = ApplyControl(),
                           onOutcome: @escaping @Sendable (ApplyOutcome) -> Void) async -> [ApplyOutcome] {
        let earlierIDs = journal?.createIDs() ?? [:]
        if let journal {
            try? await journal.append(JournalRecord(event: "run", pid: getpid(), items: plan.items.count))
        }
        var outcomes: [ApplyOutcome?] = Array(repeating: nil, count: plan.items.count)
        await withTaskGroup(of: ApplyOutcome.self) { group in
            var running = 0
            func record(_ outcome: ApplyOutcome) {
                outcomes[outcome.index] = outcome
                if !outcome.ok && !outcome.skipped && options.failFast { control.stopLaunching() }
                if outcome.error?.code == "JOURNAL" { control.stopLaunching() }
                onOutcome(outcome)
            }
            for (index, item) in plan.items.enumerated() {
                let needsWork = item.action != .unchanged || (options.wait && item.existing?.status.status != .ready)
                if !needsWork {
                    record(ApplyOutcome(index: index, action: item.action, name: item.name, id: item.id, ok: true,
                                        skipped: false, gateway: item.existing, error: nil, seconds: 0))
                    continue
                }
                while running >= options.concurrency, let done = await group.next() {
                    running -= 1
                    record(done)
                }
                if control.isStopped || Task.isCancelled {
                    record(ApplyOutcome(index: index, action: item.action, name: item.name, id: item.id, ok: false, skipped: true,
                                        gateway: nil, error: APIError(code: "CANCELLED", message: "not started: the run was stopped before it"),
                                        seconds: 0))
                    continue
                }
                var item = item
                if item.action == .create, item.desired?.id == nil {
                    // The id goes into the journal before the request: a resumed run re-sends the same one.
                    item.desired?.id = earlierIDs[item.name] ?? GatewaySpec.newID()
                }
                let work = item
                running += 1
                group.addTask { await perform(work, index: index, client: client, journal: journal, options: options) }
            }
            for await done in group { record(done) }
        }
        return outcomes.compactMap { $0 }
    }

    static func perform(_ item: PlanItem, index: Int, client: GatewayClient, journal: Journal?,
                        options: ApplyOptions) async -> ApplyOutcome {
        let clock = ContinuousClock()
        let start = clock.now
        var outcome = ApplyOutcome(index: index, action: item.action, name: item.name, id: item.id, ok: false,
                                   skipped: false, gateway: nil, error: nil, seconds: 0)
        do {
            if let journal, item.action != .unchanged {
                do {
                    try await journal.append(JournalRecord(event: "intent", action: item.action.rawValue, name: item.name, id: item.id))
                } catch {
                    throw APIError(code: "JOURNAL", message: "\(error); nothing was sent for \(item.name)")
                }
            }
            outcome.gateway = try await act(item, client: client, options: options)
            outcome.ok = true
        } catch let error as APIError {
            outcome.error = error
        } catch {
            outcome.error = APIError(code: "INTERNAL", message: String(describing: error))
        }
        outcome.id = outcome.gateway?.spec.id ?? item.id
        let elapsed = clock.now - start
        outcome.seconds = elapsed.inSeconds
        if let journal, item.action != .unchanged, outcome.error?.code != "JOURNAL" {
            let record = JournalRecord(event: "outcome", action: item.action.rawValue, name: item.name, id: outcome.id,
                                       ok: outcome.ok, status: outcome.gateway?.status.status.rawValue,
                                       code: outcome.error?.code, message: outcome.error?.message)
            if (try? await journal.append(record)) == nil, outcome.ok {
                outcome.ok = false
                outcome.error = APIError(code: "JOURNAL", message: "\(item.action.rawValue) of \(item.name) succeeded but its outcome could not be journalled")
            }
        }
        return outcome
    }

    static func act(_ item: PlanItem, client: GatewayClient, options: ApplyOptions) async throws -> Gateway? {
        switch item.action {
        case .create:
            guard let spec = item.desired else { return nil }
            let created = try await client.create(spec)
            guard options.wait, created.status.status != .ready, let id = created.spec.id else { return created }
            return try await client.waitUntilReady(id, timeout: options.waitTimeout, interval: options.waitInterval)
        case .update:
            guard let id = item.id else { return nil }
            let updated = try await client.patch(id, body: try Planner.patchBody(for: item))
            guard options.wait, updated.status.status != .ready else { return updated }
            return try await client.waitUntilReady(id, timeout: options.waitTimeout, interval: options.waitInterval)
        case .unchanged:
            guard let id = item.id else { return item.existing }
            return try await client.waitUntilReady(id, timeout: options.waitTimeout, interval: options.waitInterval)
        case .delete:
            guard let id = item.id else { return nil }
            let final: Gateway?
            do { final = try await client.delete(id) } catch let error as APIError where error.code == "NOT_FOUND" {
                return item.existing  // already gone: what a delete wants
            }
            if options.wait { try await client.waitUntilGone(id, timeout: options.waitTimeout, interval: options.waitInterval) }
            return final
        }
    }
}
