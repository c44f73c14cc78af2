#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import TextSupport

/// What an apply did, tallied as outcomes arrive: the counts of the result table,
/// the summary line, and the failure codes that decide the exit status.
public struct ApplyTally: Sendable {
    public var created = 0, updated = 0, replaced = 0, unchanged = 0, deleted = 0, failed = 0, skipped = 0
    public var failureCodes: Set<APIError.Code> = []
    /// By plan action and result, for the run's metrics (see `count(_:_:)`).
    public var byAction: [String: Int] = [:]

    /// What became of an item: its result, as the metrics label it.
    public enum Result: String, Sendable, CaseIterable { case ok, failed, skipped }

    static func key(_ action: PlanItem.Action, _ result: Result) -> String { "\(action.rawValue)/\(result.rawValue)" }

    /// Items of `action` that ended as `result`.
    public func count(_ action: PlanItem.Action, _ result: Result) -> Int { byAction[Self.key(action, result)] ?? 0 }

    public init() {}

    public var done: Int { created + updated + replaced + unchanged + deleted + failed + skipped }
    public var succeeded: Int { created + updated + replaced + unchanged + deleted }

    public mutating func add(_ outcome: ApplyOutcome) {
        byAction[Self.key(outcome.action, outcome.skipped ? .skipped : outcome.ok ? .ok : .failed), default: 0] += 1
        if outcome.skipped {
            skipped += 1
        } else if !outcome.ok {
            failed += 1
            if let code = outcome.error?.code { failureCodes.insert(code) }
        } else {
            switch outcome.action {
            case .create: created += 1
            case .update: updated += 1
            case .unchanged: unchanged += 1
            case .delete: deleted += 1
            case .replace: replaced += 1
            }
        }
    }

    /// The counts under the names the result table and the summary event use.
    public var counts: [(String, Int)] {
        [("created", created), ("updated", updated), ("replaced", replaced), ("unchanged", unchanged), ("deleted", deleted),
         ("failed", failed), ("skipped", skipped)]
    }

    /// `apply: 3 created, 0 updated, 5 unchanged, 0 deleted, 0 failed (1.2 s)`.
    public func summary(seconds: Double, interrupted: Bool) -> String {
        var text = interrupted ? "apply interrupted: " : "apply: "
        text += "\(created) created, \(updated) updated, "
        if replaced > 0 { text += "\(replaced) replaced, " }
        text += "\(unchanged) unchanged, \(deleted) deleted, \(failed) failed"
        if skipped > 0 { text += ", \(skipped) not started" }
        return text + " (\(DecimalText.fixed(seconds, digits: 1)) s)"
    }
}

/// The JSON Lines events of `--json` (docs/cli.md): one per item, the statuses a
/// wait passes through, what overlapping runs changed, and a summary.
public enum ApplyEvents {
    static func milliseconds(_ seconds: Double) -> JSONValue { .double((seconds * 1000).rounded() / 1000) }

    public static func change(_ change: FieldChange) -> JSONValue {
        var o: [String: JSONValue] = ["path": .string(change.path)]
        if let old = change.old { o["old"] = old }
        if let new = change.new { o["new"] = new }
        return .object(o)
    }

    public static func error(_ error: APIError) -> JSONValue {
        var o: [String: JSONValue] = ["code": .string(error.code.rawValue), "message": .string(error.message)]
        if let status = error.httpStatus { o["http_status"] = .integer(Int64(status)) }
        return .object(o)
    }

    public static func item(_ outcome: ApplyOutcome) -> JSONValue {
        var event: [String: JSONValue] = [
            "event": .string("item"), "name": .string(outcome.name), "action": .string(outcome.action.rawValue),
            "ok": .bool(outcome.ok), "duration": milliseconds(outcome.seconds),
        ]
        if outcome.kind != .gateway { event["kind"] = .string(outcome.kind.rawValue) }
        if outcome.skipped { event["skipped"] = .bool(true) }
        if let id = outcome.id { event["id"] = .string(id) }
        if let status = outcome.status?.rawValue { event["status"] = .string(status) }
        if let replaced = outcome.replacedID { event["replaced_id"] = .string(replaced) }
        if let note = outcome.note {
            event["note"] = .string(note)
            event["kept"] = .array(outcome.kept.map(change))
        }
        if let error = outcome.error { event["error"] = self.error(error) }
        return .object(event)
    }

    /// A status a wait passed through: `{"event": "status", "name", "id", "status", "message"}`.
    public static func status(name: String, gateway: Gateway) -> JSONValue {
        var event: [String: JSONValue] = ["event": .string("status"), "name": .string(name),
                                          "status": .string(gateway.status.status.rawValue)]
        if let id = gateway.spec.id { event["id"] = .string(id) }
        let summary = gateway.status.conditionSummary
        if !summary.isEmpty { event["message"] = .string(summary) }
        return .object(event)
    }

    public static func converged(_ outcome: ApplyOutcome, kept: Gateway, deleted: [String]) -> JSONValue {
        .object(["event": .string("converged"), "name": .string(outcome.name), "id": kept.spec.id.map(JSONValue.string) ?? .null,
                 "deleted": .array(deleted.map(JSONValue.string)), "note": outcome.note.map(JSONValue.string) ?? .null])
    }

    /// A deployment's or claim's convergence: `kind` added, `id` the one kept.
    public static func converged(_ outcome: ApplyOutcome, deleted: [String]) -> JSONValue {
        .object(["event": .string("converged"), "kind": .string(outcome.kind.rawValue), "name": .string(outcome.name),
                 "id": outcome.id.map(JSONValue.string) ?? .null, "deleted": .array(deleted.map(JSONValue.string)),
                 "note": outcome.note.map(JSONValue.string) ?? .null])
    }

    /// One planned item of a dry run.
    public static func planned(_ item: PlanItem) -> JSONValue {
        var event: [String: JSONValue] = ["event": .string("plan"), "name": .string(item.name), "action": .string(item.action.rawValue)]
        if item.kind != .gateway { event["kind"] = .string(item.kind.rawValue) }
        if let id = item.id { event["id"] = .string(id) }
        if !item.changes.isEmpty { event["changes"] = .array(item.changes.map(change)) }
        if let note = item.note { event["note"] = .string(note) }
        return .object(event)
    }

    /// A plan's closing line in JSON: counts by action, whether anything changes, and its fingerprint.
    public static func planSummary(_ plan: Plan) -> JSONValue {
        var event: [String: JSONValue] = ["event": .string("plan_summary"), "changes": .bool(plan.hasChanges)]
        for action in PlanItem.Action.allCases { event[action.rawValue] = .integer(Int64(plan.count(action))) }
        if let fingerprint = plan.fingerprint { event["fingerprint"] = fingerprint.json }
        return .object(event)
    }

    /// A plan as JSON Lines: one `plan` event per item, then the `plan_summary`.
    public static func planLines(_ plan: Plan) -> String {
        (plan.items.map(planned) + [planSummary(plan)]).map { $0.compactText + "\n" }.joined()
    }

    public static func summary(_ tally: ApplyTally, seconds: Double, interrupted: Bool, plan: Plan? = nil) -> JSONValue {
        var event: [String: JSONValue] = ["event": .string("summary"), "total": .integer(Int64(tally.done)),
                                          "duration": milliseconds(seconds), "interrupted": .bool(interrupted),
                                          "dry_run": .bool(plan != nil)]
        for (key, value) in tally.counts { event[key] = .integer(Int64(value)) }
        if let plan {
            event["planned"] = .object(Dictionary(uniqueKeysWithValues: PlanItem.Action.allCases.map {
                ($0.rawValue, JSONValue.integer(Int64(plan.count($0))))
            }))
        }
        return .object(event)
    }
}
