import CLua
import Foundation
import GatewayKit
import LuaHost
#if canImport(Glibc)
import Glibc
#endif

/// `c:plan(specs [, {prune =}])` and `c:apply(specs [, opts])`.
enum PlanApply {
    static let applyOptions = ["concurrency", "dry_run", "fail_fast", "journal", "on_result", "prefix", "prune", "replace",
                               "wait", "wait_interval", "wait_timeout"]

    // MARK: c:plan

    static func plan(_ c: LuaGatewayClient, _ call: LuaCall) throws -> Int32 {
        var prune = false
        var prefix: String?
        var replace: Set<String>? = []
        if call.count >= 3, call.type(at: 3) != .nil {
            try call.checkTable(3)
            try rejectUnknownOptions(call, 3, known: ["prefix", "prune", "replace"], function: "plan")
            call.pushRawField(3, "prune")
            prune = lua_toboolean(call.L, -1) != 0
            gwlua_pop(call.L, 1)
            prefix = try prefixOption(call)
            replace = try replaceOption(call)
        }
        let plan = try makePlan(c, call, prune: prune, prefix: prefix, replace: replace)
        pushPlan(plan, call)
        return 1
    }

    /// `prefix = "team-"` from the options table at 3.
    static func prefixOption(_ call: LuaCall) throws -> String? {
        defer { gwlua_pop(call.L, 1) }
        switch call.pushRawField(3, "prefix") {
        case LUA_TNIL: return nil
        case LUA_TSTRING:
            let prefix = LuaCall.string(at: -1, in: call.L)
            if prefix.isEmpty { throw call.argumentError(3, "prefix must not be empty") }
            return prefix
        default: throw call.argumentError(3, "prefix must be a string")
        }
    }

    /// `replace = true` (every name), `false`, or a list of names: which gateways
    /// may be replaced for a difference an update cannot make. nil means every name.
    static func replaceOption(_ call: LuaCall) throws -> Set<String>? {
        defer { gwlua_pop(call.L, 1) }
        switch call.pushRawField(3, "replace") {
        case LUA_TNIL: return []
        case LUA_TBOOLEAN: return lua_toboolean(call.L, -1) != 0 ? nil : []
        case LUA_TTABLE:
            guard case .array(let items) = LuaSpecs.document(at: lua_gettop(call.L), in: call.L) else {
                if case .object(let o) = LuaSpecs.document(at: lua_gettop(call.L), in: call.L), o.isEmpty { return [] }
                throw call.argumentError(3, "replace must be true, false or a list of gateway names")
            }
            var names = Set<String>()
            for item in items {
                guard case .string(let name) = item else { throw call.argumentError(3, "replace must list gateway names (strings)") }
                names.insert(name)
            }
            return names
        default: throw call.argumentError(3, "replace must be true, false or a list of gateway names, got \(call.typeName(at: -1))")
        }
    }

    /// Validates every spec (with the server's zone list), then plans against
    /// what exists. With a prefix, only gateways whose names start with it are
    /// considered (matched or pruned), and every spec's name must carry it.
    static func makePlan(_ c: LuaGatewayClient, _ call: LuaCall, prune: Bool, prefix: String?,
                         replace: Set<String>?) throws -> Plan {
        let documents = try readDocuments(call, 2)
        let client = c.client
        let (zones, existing) = try ClientModule.run(call) {
            async let parameters = client.parameters()
            async let gateways = client.list()
            return try await (parameters.zones, gateways)
        }
        let specs = try validate(documents, zones: zones, prefix: prefix)
        let scoped = prefix.map { p in existing.filter { $0.spec.name.hasPrefix(p) } } ?? existing
        if let replace {
            let unknown = replace.subtracting(specs.map(\.name)).sorted()
            if !unknown.isEmpty {
                throw call.argumentError(3, "replace names \(unknown.map { "'\($0)'" }.joined(separator: ", ")), which no spec has")
            }
        }
        return Planner.plan(desired: specs, existing: scoped, prune: prune, replace: replace)
    }

    /// The list at `index` as untyped documents (read raw: no user code runs).
    static func readDocuments(_ call: LuaCall, _ index: Int32) throws -> [JSONValue] {
        try call.checkTable(index)
        let L = call.L
        let count = Int(lua_rawlen(L, index))
        if count == 0, call.pushRawField(index, "name") != LUA_TNIL {
            gwlua_pop(L, 1)
            throw call.argumentError(index, "expected a list of specs, got a single spec (wrap it: {spec})")
        } else if count == 0 {
            gwlua_pop(L, 1)
        }
        var documents: [JSONValue] = []
        documents.reserveCapacity(count)
        for i in 0..<count {
            lua_rawgeti(L, index, lua_Integer(i + 1))
            documents.append(LuaSpecs.document(at: -1, in: L))
            gwlua_pop(L, 1)
        }
        return documents
    }

    /// Every spec's issues under `[i].` (1-based), and duplicate names; throws
    /// the validation error when any is an error, so nothing is sent.
    static func validate(_ documents: [JSONValue], zones: [String], prefix: String? = nil) throws -> [GatewaySpec] {
        var specs: [GatewaySpec] = []
        specs.reserveCapacity(documents.count)
        var issues: [ValidationIssue] = []
        let context = ValidationContext(zones: zones)
        for (i, document) in documents.enumerated() {
            guard case .object = document else {
                issues.append(ValidationIssue(path: "[\(i + 1)]", message: "expected a gateway spec table, got \(document.kindName)"))
                continue
            }
            let result = SpecValidator.validate(document, context: context)
            for var issue in result.issues {
                issue.path = issue.path.isEmpty ? "[\(i + 1)]" : "[\(i + 1)].\(issue.path)"
                issues.append(issue)
            }
            if let prefix, case .string(let name)? = document["name"], !name.hasPrefix(prefix) {
                issues.append(ValidationIssue(path: "[\(i + 1)].name", message: "'\(name)' does not start with the prefix '\(prefix)' this apply manages"))
            }
            if let spec = result.spec { specs.append(spec) }
        }
        issues += Planner.duplicateNameIssues(documents.map { doc -> String in
            if case .string(let name)? = doc["name"] { return name }
            return "\u{0}unnamed-\(UUID().uuidString)"  // unnamed specs are reported by validation, not as duplicates
        })
        if issues.contains(where: { $0.severity == .error }) { throw SpecValidationError(issues: issues) }
        return specs
    }

    static func rejectUnknownOptions(_ call: LuaCall, _ index: Int32, known: [String], function: String) throws {
        guard case .object(let o) = LuaSpecs.document(at: index, in: call.L) else { return }
        for key in o.keys.sorted() where !known.contains(key) {
            throw call.argumentError(index, "unknown option '\(key)' for \(function) (known: \(known.joined(separator: ", ")))")
        }
    }

    /// `{create = {…}, update = {…}, unchanged = {…}, delete = {…}, text =, summary =}` with `show`.
    static func pushPlan(_ plan: Plan, _ call: LuaCall) {
        let L = call.L
        lua_createtable(L, 0, 6)
        for action in PlanItem.Action.allCases {
            let items = plan.items.filter { $0.action == action }
            lua_createtable(L, Int32(items.count), 0)
            for (i, item) in items.enumerated() {
                pushPlanItem(item, call)
                lua_rawseti(L, -2, lua_Integer(i + 1))
            }
            lua_setfield(L, -2, action.rawValue)
        }
        let text = plan.render()
        pushJSON(.array(plan.notes.map { .string($0) }), L)
        lua_setfield(L, -2, "notes")
        LuaSpecs.setField(L, "text", text)
        LuaSpecs.setField(L, "summary", String(text.split(separator: "\n").last ?? ""))
        setPlanMetatable(L)
    }

    static func pushPlanItem(_ item: PlanItem, _ call: LuaCall) {
        let L = call.L
        lua_createtable(L, 0, 5)
        LuaSpecs.setField(L, "name", item.name)
        LuaSpecs.setField(L, "action", item.action.rawValue)
        if let id = item.id { LuaSpecs.setField(L, "id", id) }
        if let note = item.note { LuaSpecs.setField(L, "note", note) }
        if !item.replaceOnly.isEmpty {
            pushJSON(.array(item.replaceOnly.map(changeJSON)), L)
            lua_setfield(L, -2, "replace_only")
        }
        if let spec = item.desired {
            LuaSpecs.push(spec, in: call)
            lua_setfield(L, -2, "spec")
        }
        if !item.changes.isEmpty {
            lua_createtable(L, Int32(item.changes.count), 0)
            for (i, change) in item.changes.enumerated() {
                lua_createtable(L, 0, 3)
                LuaSpecs.setField(L, "path", change.path)
                if let old = change.old { pushJSON(old, L); lua_setfield(L, -2, "old") }
                if let new = change.new { pushJSON(new, L); lua_setfield(L, -2, "new") }
                lua_rawseti(L, -2, lua_Integer(i + 1))
            }
            lua_setfield(L, -2, "changes")
        }
    }

    static func setPlanMetatable(_ L: OpaquePointer) {
        if luaL_newmetatable(L, "gateway.plan") != 0 {
            let call = LuaCall(state: L)
            LuaState.pushFunctionTable([LuaFunction("show") { call in
                try call.checkTable(1)
                call.pushRawField(1, "text")
                let text = lua_type(call.L, -1) == LUA_TSTRING ? LuaCall.string(at: -1, in: call.L) : ""
                gwlua_pop(call.L, 1)
                Output.write(Output.colourPlan(text, enabled: Output.colourStdout), to: gwlua_stdout())
                return 0
            }], in: call)
            lua_setfield(L, -2, "__index")
            call.push(LuaFunction("__tostring") { call in
                if call.pushRawField(1, "text") != LUA_TSTRING {
                    gwlua_pop(call.L, 1)
                    call.push("gateway.plan")
                }
                return 1
            })
            lua_setfield(L, -2, "__tostring")
        }
        lua_setmetatable(L, -2)
    }

    // MARK: c:apply

    struct Options {
        var apply = ApplyOptions()
        var prune = false
        var prefix: String?
        var replace: Set<String>? = []
        var dryRun = false
        var journal: String?
        var onResult: Int32?  // stack index of the callback
    }

    static func readOptions(_ call: LuaCall, settings: GatewaySettings) throws -> Options {
        var options = Options()
        options.dryRun = settings.dryRun
        options.journal = settings.journalPath
        guard call.count >= 3, call.type(at: 3) != .nil else { return options }
        try call.checkTable(3)
        try rejectUnknownOptions(call, 3, known: applyOptions, function: "apply")
        let L = call.L
        func number(_ key: String) throws -> Double? {
            defer { gwlua_pop(L, 1) }
            switch call.pushRawField(3, key) {
            case LUA_TNIL: return nil
            case LUA_TNUMBER: return lua_tonumberx(L, -1, nil)
            default: throw call.argumentError(3, "\(key) must be a number, got \(call.typeName(at: -1))")
            }
        }
        func flag(_ key: String) throws -> Bool? {
            defer { gwlua_pop(L, 1) }
            switch call.pushRawField(3, key) {
            case LUA_TNIL: return nil
            case LUA_TBOOLEAN: return lua_toboolean(L, -1) != 0
            default: throw call.argumentError(3, "\(key) must be a boolean, got \(call.typeName(at: -1))")
            }
        }
        if let n = try number("concurrency") {
            guard n >= 1, n <= 1024, n == n.rounded() else { throw call.argumentError(3, "concurrency must be a whole number from 1 to 1024") }
            options.apply.concurrency = Int(n)
        }
        if let w = try flag("wait") { options.apply.wait = w }
        if let f = try flag("fail_fast") { options.apply.failFast = f }
        if let p = try flag("prune") { options.prune = p }
        options.prefix = try prefixOption(call)
        options.replace = try replaceOption(call)
        if let d = try flag("dry_run") { options.dryRun = options.dryRun || d }
        if let t = try number("wait_timeout") { options.apply.waitTimeout = max(0, t) }
        if let i = try number("wait_interval") { options.apply.waitInterval = max(0.05, i) }
        switch call.pushRawField(3, "journal") {
        case LUA_TNIL: gwlua_pop(L, 1)
        case LUA_TSTRING:
            options.journal = LuaCall.string(at: -1, in: L)
            gwlua_pop(L, 1)
            if settings.safe { throw LuaError.runtime("apply's journal option is disabled by --safe (the host gives one with --journal)") }
        default:
            gwlua_pop(L, 1)
            throw call.argumentError(3, "journal must be a file name")
        }
        switch call.pushRawField(3, "on_result") {
        case LUA_TNIL: gwlua_pop(L, 1)
        case LUA_TFUNCTION: options.onResult = lua_gettop(L)  // stays on the stack for the call
        default:
            gwlua_pop(L, 1)
            throw call.argumentError(3, "on_result must be a function")
        }
        return options
    }

    static func apply(_ c: LuaGatewayClient, _ call: LuaCall) throws -> Int32 {
        let settings = c.settings
        let options = try readOptions(call, settings: settings)
        let plan = try makePlan(c, call, prune: options.prune, prefix: options.prefix, replace: options.replace)
        let L = call.L
        try call.reserve(48)
        if options.dryRun { return try dryRun(plan, settings: settings, call) }
        guard let state = LuaState.owner(of: L) else { throw LuaError.runtime("no Lua state") }

        let journal: Journal?
        do { journal = try options.journal.map { try Journal(path: $0) } } catch {
            throw LuaAPIError(error: APIError(code: "JOURNAL", message: String(describing: error)))
        }
        defer { journal?.close() }

        lua_createtable(L, 0, 8)
        let result = lua_gettop(L)
        lua_createtable(L, Int32(plan.items.count), 0)
        let items = lua_gettop(L)
        let progress = settings.progress ? ProgressBar(total: plan.items.count) : nil
        var counts = Counts()
        let control = ApplyControl()
        let client = c.client
        let applyOptions = options.apply
        let clock = ContinuousClock()
        let start = clock.now

        _ = try state.wait(for: { (sink: LuaEventSink<ApplyEvent>) in
            await Applier.run(plan, client: client, journal: journal, options: applyOptions, control: control) { sink.send($0) }
        }, onEvent: { event in
            let outcome: ApplyOutcome
            switch event {
            case .status(_, let name, let gateway):
                if settings.jsonEvents { Output.event(statusEvent(name: name, gateway: gateway)) }
                if gateway.status.status == .error {
                    progress?.clear()
                    Output.write("gwlua: \(name) is STATUS_ERROR (recoverable), still waiting: \(gateway.status.conditionSummary)\n",
                                 to: gwlua_stderr())
                }
                return
            case .converged(let o, let kept, let deleted):
                // The item's table is replaced by its final state.
                pushOutcome(o, call)
                lua_rawseti(L, items, lua_Integer(o.index + 1))
                if settings.jsonEvents {
                    Output.event(.object(["event": .string("converged"), "name": .string(o.name),
                                          "id": kept.spec.id.map(JSONValue.string) ?? .null,
                                          "deleted": .array(deleted.map(JSONValue.string)),
                                          "note": o.note.map(JSONValue.string) ?? .null]))
                }
                if let note = o.note { Output.write("gwlua: \(o.name): \(note)\n", to: gwlua_stderr()) }
                return
            case .outcome(let o): outcome = o
            }
            counts.add(outcome)
            pushOutcome(outcome, call)
            lua_pushvalue(L, -1)
            lua_rawseti(L, items, lua_Integer(outcome.index + 1))
            if settings.jsonEvents { Output.event(itemEvent(outcome)) }
            if !outcome.ok, !outcome.skipped, let error = outcome.error {
                progress?.clear()
                Output.write("gwlua: \(outcome.action.rawValue) \(outcome.name) failed: \(error)\n", to: gwlua_stderr())
            }
            if let note = outcome.note {
                progress?.clear()
                Output.write("gwlua: \(outcome.name): \(note)\n", to: gwlua_stderr())
            }
            progress?.update(counts)
            if let callback = options.onResult, !state.interruption.isRequested {
                lua_pushvalue(L, callback)
                lua_rotate(L, -2, 1)
                do { try state.call(arguments: 1, results: 0) } catch {
                    // A signal's stop hook fires in the callback too; the run drains instead.
                    if state.interruption.isRequested { return }
                    throw error
                }
            } else {
                gwlua_pop(L, 1)
            }
        }, onInterruption: {
            control.stopLaunching()
            progress?.clear()
            Output.write("gwlua: stopping: no new work is started; waiting for requests in flight (a second signal ends at once)\n",
                         to: gwlua_stderr())
            return true
        })
        progress?.clear()
        let elapsed = clock.now - start
        let seconds = elapsed.inSeconds
        let interrupted = state.interruption.isRequested
        settings.report.add(failed: counts.failed, succeeded: counts.succeeded, codes: counts.failureCodes, items: counts.byAction)

        for (key, value) in [("created", counts.created), ("updated", counts.updated), ("replaced", counts.replaced),
                             ("unchanged", counts.unchanged), ("deleted", counts.deleted), ("failed", counts.failed),
                             ("skipped", counts.skipped)] {
            lua_pushinteger(L, lua_Integer(value))
            lua_setfield(L, result, key)
        }
        lua_pushnumber(L, seconds)
        lua_setfield(L, result, "duration")
        lua_pushvalue(L, items)
        lua_setfield(L, result, "items")
        let summary = counts.summary(seconds: seconds, interrupted: interrupted)
        if settings.jsonEvents { Output.event(counts.summaryEvent(seconds: seconds, interrupted: interrupted, dryRun: false)) }
        Output.write("gwlua: \(summary)\n", to: gwlua_stderr())
        if interrupted { throw LuaError.interrupted("interrupted!") }
        lua_settop(L, result)
        return 1
    }

    /// `--dry-run`: prints the plan and returns what would happen; sends nothing.
    static func dryRun(_ plan: Plan, settings: GatewaySettings, _ call: LuaCall) throws -> Int32 {
        let L = call.L
        if settings.jsonEvents {
            for item in plan.items {
                var event: [String: JSONValue] = ["event": .string("plan"), "name": .string(item.name),
                                                  "action": .string(item.action.rawValue)]
                if let id = item.id { event["id"] = .string(id) }
                if !item.changes.isEmpty { event["changes"] = .array(item.changes.map(changeJSON)) }
                if let note = item.note { event["note"] = .string(note) }
                Output.event(.object(event))
            }
            Output.write(plan.render(), to: gwlua_stderr())
        } else {
            Output.write(Output.colourPlan(plan.render(), enabled: Output.colourStdout), to: gwlua_stdout())
        }
        var counts = Counts()
        lua_createtable(L, 0, 10)
        lua_createtable(L, Int32(plan.items.count), 0)
        for (i, item) in plan.items.enumerated() {
            pushPlanItem(item, call)
            lua_pushboolean(L, 1)
            lua_setfield(L, -2, "ok")
            lua_rawseti(L, -2, lua_Integer(i + 1))
        }
        lua_setfield(L, -2, "items")
        for key in ["created", "updated", "replaced", "unchanged", "deleted", "failed", "skipped"] {
            lua_pushinteger(L, 0)
            lua_setfield(L, -2, key)
        }
        lua_pushboolean(L, 1)
        lua_setfield(L, -2, "dry_run")
        pushPlan(plan, call)
        lua_setfield(L, -2, "plan")
        counts.unchanged = plan.count(.unchanged)
        if settings.jsonEvents {
            var event = counts.summaryEvent(seconds: 0, interrupted: false, dryRun: true)
            if case .object(var o) = event {
                o["planned"] = .object(Dictionary(uniqueKeysWithValues: PlanItem.Action.allCases.map {
                    ($0.rawValue, JSONValue.integer(Int64(plan.count($0))))
                }))
                event = .object(o)
            }
            Output.event(event)
        }
        return 1
    }

    /// `{name, action, ok, id, gateway, error, skipped, duration}` for one outcome.
    static func pushOutcome(_ outcome: ApplyOutcome, _ call: LuaCall) {
        let L = call.L
        lua_createtable(L, 0, 8)
        LuaSpecs.setField(L, "name", outcome.name)
        LuaSpecs.setField(L, "action", outcome.action.rawValue)
        lua_pushboolean(L, outcome.ok ? 1 : 0)
        lua_setfield(L, -2, "ok")
        if outcome.skipped {
            lua_pushboolean(L, 1)
            lua_setfield(L, -2, "skipped")
        }
        if let id = outcome.id { LuaSpecs.setField(L, "id", id) }
        if let replaced = outcome.replacedID { LuaSpecs.setField(L, "replaced_id", replaced) }
        if let note = outcome.note {
            LuaSpecs.setField(L, "note", note)
            pushJSON(.array(outcome.kept.map(changeJSON)), L)
            lua_setfield(L, -2, "kept")
        }
        if let gateway = outcome.gateway {
            ClientModule.pushGateway(gateway, call)
            lua_setfield(L, -2, "gateway")
        }
        if let error = outcome.error {
            LuaAPIError(error: error, positioned: false).pushErrorValue(in: call)
            lua_setfield(L, -2, "error")
        }
        lua_pushnumber(L, outcome.seconds)
        lua_setfield(L, -2, "duration")
    }

    static func itemEvent(_ outcome: ApplyOutcome) -> JSONValue {
        var event: [String: JSONValue] = [
            "event": .string("item"), "name": .string(outcome.name), "action": .string(outcome.action.rawValue),
            "ok": .bool(outcome.ok), "duration": .double((outcome.seconds * 1000).rounded() / 1000),
        ]
        if outcome.skipped { event["skipped"] = .bool(true) }
        if let id = outcome.id { event["id"] = .string(id) }
        if let status = outcome.gateway?.status.status.rawValue { event["status"] = .string(status) }
        if let replaced = outcome.replacedID { event["replaced_id"] = .string(replaced) }
        if let note = outcome.note {
            event["note"] = .string(note)
            event["kept"] = .array(outcome.kept.map(changeJSON))
        }
        if let error = outcome.error {
            event["error"] = .object(["code": .string(error.code), "message": .string(error.message)]
                .merging(error.httpStatus.map { ["http_status": JSONValue.integer(Int64($0))] } ?? [:]) { a, _ in a })
        }
        return .object(event)
    }

    /// A status a wait passed through: `{"event": "status", "name", "id", "status", "message"}`.
    static func statusEvent(name: String, gateway: Gateway) -> JSONValue {
        var event: [String: JSONValue] = ["event": .string("status"), "name": .string(name),
                                          "status": .string(gateway.status.status.rawValue)]
        if let id = gateway.spec.id { event["id"] = .string(id) }
        let summary = gateway.status.conditionSummary
        if !summary.isEmpty { event["message"] = .string(summary) }
        return .object(event)
    }

    static func changeJSON(_ change: FieldChange) -> JSONValue {
        var o: [String: JSONValue] = ["path": .string(change.path)]
        if let old = change.old { o["old"] = old }
        if let new = change.new { o["new"] = new }
        return .object(o)
    }

    static func pushJSON(_ value: JSONValue, _ L: OpaquePointer) {
        switch value {
        case .null, .unsupported: lua_pushnil(L)
        case .bool(let b): lua_pushboolean(L, b ? 1 : 0)
        case .integer(let i): lua_pushinteger(L, i)
        case .double(let d): lua_pushnumber(L, d)
        case .string(let s): LuaCall(state: L).push(s)
        case .array(let a):
            lua_createtable(L, Int32(a.count), 0)
            for (i, v) in a.enumerated() {
                pushJSON(v, L)
                lua_rawseti(L, -2, lua_Integer(i + 1))
            }
        case .object(let o):
            lua_createtable(L, 0, Int32(o.count))
            for (k, v) in o {
                pushJSON(v, L)
                lua_setfield(L, -2, k)
            }
        }
    }
}

/// Tallies of an apply, as the result table and the summary give them.
struct Counts {
    var created = 0, updated = 0, replaced = 0, unchanged = 0, deleted = 0, failed = 0, skipped = 0
    var failureCodes: Set<String> = []
    /// By action and result, for the run's metrics.
    var byAction: [RunReport.ItemKey: Int] = [:]
    var done: Int { created + updated + replaced + unchanged + deleted + failed + skipped }
    var succeeded: Int { created + updated + replaced + unchanged + deleted }

    mutating func add(_ outcome: ApplyOutcome) {
        let result = outcome.skipped ? "skipped" : outcome.ok ? "ok" : "failed"
        byAction[RunReport.ItemKey(action: outcome.action.rawValue, result: result), default: 0] += 1
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

    func summary(seconds: Double, interrupted: Bool) -> String {
        var text = interrupted ? "apply interrupted: " : "apply: "
        text += "\(created) created, \(updated) updated, "
        if replaced > 0 { text += "\(replaced) replaced, " }
        text += "\(unchanged) unchanged, \(deleted) deleted, \(failed) failed"
        if skipped > 0 { text += ", \(skipped) not started" }
        return text + String(format: " (%.1f s)", seconds)
    }

    func summaryEvent(seconds: Double, interrupted: Bool, dryRun: Bool) -> JSONValue {
        .object([
            "event": .string("summary"), "created": .integer(Int64(created)), "updated": .integer(Int64(updated)),
            "replaced": .integer(Int64(replaced)),
            "unchanged": .integer(Int64(unchanged)), "deleted": .integer(Int64(deleted)), "failed": .integer(Int64(failed)),
            "skipped": .integer(Int64(skipped)), "total": .integer(Int64(done)),
            "duration": .double((seconds * 1000).rounded() / 1000), "interrupted": .bool(interrupted), "dry_run": .bool(dryRun),
        ])
    }
}

/// Writes to the C streams Lua's print uses, so the order of lines holds.
enum Output {
    static func write(_ text: String, to stream: UnsafeMutablePointer<FILE>?) {
        fputs(text, stream)
        fflush(stream)
    }

    /// One JSON Lines event on stdout.
    static func event(_ value: JSONValue) {
        write(value.compactText + "\n", to: gwlua_stdout())
    }

    static var colourStdout: Bool {
        isatty(STDOUT_FILENO) == 1 && (getenv("NO_COLOR").map { $0.pointee == 0 } ?? true)
    }

    /// Colours a rendered plan's `+`, `~` and `-` lines.
    static func colourPlan(_ text: String, enabled: Bool) -> String {
        guard enabled else { return text }
        return text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            switch line.first {
            case "+": return "\u{1B}[32m\(line)\u{1B}[0m"
            case "~": return "\u{1B}[33m\(line)\u{1B}[0m"
            case "-": return "\u{1B}[31m\(line)\u{1B}[0m"
            default: return String(line)
            }
        }.joined(separator: "\n")
    }
}

/// `[#####-----] 120/2000  310/s  2 failed  ETA 6s` on stderr, redrawn at most 10 times a second.
final class ProgressBar {
    let total: Int
    let start = Date()
    var lastDraw = Date.distantPast
    var drawn = false

    init(total: Int) { self.total = total }

    func update(_ counts: Counts) {
        let now = Date()
        guard now.timeIntervalSince(lastDraw) >= 0.1 || counts.done == total else { return }
        lastDraw = now
        let elapsed = max(now.timeIntervalSince(start), 0.001)
        let rate = Double(counts.done) / elapsed
        let width = 24
        let filled = total == 0 ? width : min(width, counts.done * width / total)
        let eta = rate > 0 ? Double(total - counts.done) / rate : 0
        var line = "\r[" + String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled) + "] "
        line += "\(counts.done)/\(total)  \(Int(rate))/s"
        if counts.failed > 0 { line += "  \(counts.failed) failed" }
        line += counts.done < total ? "  ETA \(Int(eta.rounded()))s" : ""
        Output.write(line + "\u{1B}[K", to: gwlua_stderr())
        drawn = true
    }

    func clear() {
        if drawn { Output.write("\r\u{1B}[K", to: gwlua_stderr()) }
        drawn = false
    }
}
