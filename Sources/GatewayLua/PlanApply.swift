#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import GatewayKit
import LuaHost

/// `c:plan(specs [, opts])` and `c:apply(specs [, opts])`: the Lua side of
/// GatewayKit's Planner and Applier. Options, results and events are declared
/// here; tallies and JSON events are GatewayKit's (ApplyReport), terminal output
/// the Console's.
enum PlanApply {
    static let planOptions = LuaOptions("c:plan", [
        .boolean("prune", "delete gateways no spec names"), .string("prefix", "consider only gateways named prefix…"),
        .flagOrStrings("replace", "replace gateways whose difference an update cannot make (true or a list of names)"),
        .strings("target", "only these names' items (as Terraform's -target)"),
    ])
    static let applyOptions = LuaOptions("c:apply", [
        .integer("concurrency", in: 1...1024, "actions in flight at once"),
        .boolean("wait", "wait for READY after creates and updates, for 404 after deletes"),
        .number("wait_timeout", in: 0...86_400), .number("wait_interval", in: 0.05...3600),
        .boolean("fail_fast", "the first failure stops new work"), .string("journal", "a JSON Lines journal to resume from"),
        .boolean("prune"), .string("prefix"), .flagOrStrings("replace"), .strings("target"),
        .stringRecord("expect", keys: ["desired", "existing"], "apply only while a plan's fingerprint (plan.fingerprint) still holds"),
        .boolean("dry_run", "print the plan, change nothing"),
        .function("on_result", "called with each item as it finishes"),
    ])

    static let showOptions = LuaOptions("p:show", [.boolean("json", "write the plan as JSON Lines (plan.json) instead of text")])

    static let planMetatable = LuaMetatable("gateway.plan", methods: [
        LuaFunction("show") { call in
            try call.checkTable(1)
            if try showOptions.read(call, at: 2).bool("json") == true {
                if case .string(let lines) = call.field(1, "json") { Console.write(lines, to: .output) }
                return 0
            }
            let text: String
            if case .string(let t) = call.field(1, "text") { text = t } else { text = "" }
            Console.write(Console.colourPlan(text, enabled: Console.colourStdout), to: .output)
            return 0
        },
    ], display: "text", tostring: { call in
        if case .string(let text) = call.field(1, "text") { return text }
        return "gateway.plan"
    })

    /// The plan-shaping options both functions take.
    struct Scope {
        var prune = false
        var prefix: String?
        /// nil: every name may be replaced.
        var replace: Set<String>? = []
        /// nil: every item; else only these names'.
        var targets: Set<String>?

        /// The function whose options these are, for messages ("c:plan", "c:apply").
        let function: String

        init(_ options: LuaOptionValues, function: String) throws {
            self.function = function
            prune = options.bool("prune") ?? false
            prefix = options.string("prefix")
            if prefix == "" { throw LuaError.runtime("bad option 'prefix' to '\(function)' (a non-empty string expected, got an empty one)") }
            if let flag = options.bool("replace") { replace = flag ? nil : [] } else if let names = options.strings("replace") { replace = Set(names) }
            targets = options.strings("target").map(Set.init)
        }

        /// The options as the plan's fingerprint records them.
        var json: JSONValue {
            func names(_ set: Set<String>?) -> JSONValue { set.map { .array($0.sorted().map(JSONValue.string)) } ?? .null }
            return .object(["prune": .bool(prune), "prefix": prefix.map(JSONValue.string) ?? .null,
                            "replace": replace == nil ? .bool(true) : names(replace), "target": names(targets)])
        }
    }

    // MARK: c:plan

    static func plan(_ c: LuaGatewayClient, _ call: LuaCall) throws -> Int32 {
        let scope = try Scope(try planOptions.read(call, at: 3), function: planOptions.function)
        call.push(planData(try makePlan(c, call, scope: scope)))
        return 1
    }

    /// What c:plan and c:apply were given: a list of gateway specs, or a fleet
    /// table `{gateways =, deployments =, capacity_claims =}` (each kind it names is managed, prune included).
    struct FleetInput {
        var gateways: [JSONValue] = []
        var gatewayKept: [Set<String>] = []
        var resources: [ResourceKind: [JSONValue]] = [:]
        var resourceKept: [ResourceKind: [Set<String>]] = [:]
        /// The table form: issue paths are `gateways[1].name`, `deployments[2]…`.
        var isFleet = false
        var managing: Set<ResourceKind> = [.gateway]

        func label(_ kind: ResourceKind) -> String { isFleet ? kind.fleetKey : "" }
    }

    static let fleetKeys: Set<String> = ["gateways", "deployments", "capacity_claims"]

    static func readFleet(_ call: LuaCall, _ index: Int32) throws -> FleetInput {
        try call.checkTable(index)
        var input = FleetInput()
        let document = call.readJSON(index)
        guard case .object(let o) = document, !o.isEmpty, o.keys.contains(where: fleetKeys.contains) else {
            input.gateways = try readDocuments(call, index)
            input.gatewayKept = SpecsAPI.keptPaths(ofItemsAt: index, count: input.gateways.count, in: call)
            return input
        }
        input.isFleet = true
        input.managing = []
        if let unknown = o.keys.filter({ !fleetKeys.contains($0) }).sorted().first {
            throw call.argumentError(index, "unknown key '\(unknown)' in the fleet table (known: capacity_claims, deployments, gateways)")
        }
        for kind in ResourceKind.allCases {
            guard let value = o[kind.fleetKey] else { continue }
            input.managing.insert(kind)
            let list: [JSONValue]
            switch value {
            case .array(let items): list = items
            case .object(let e) where e.isEmpty: list = []
            default: throw call.argumentError(index, "\(kind.fleetKey) must be a list of specs, got a \(value.kindName)")
            }
            call.pushRawField(index, kind.fleetKey)
            let kept = SpecsAPI.keptPaths(ofItemsAt: -1, count: list.count, in: call)
            call.pop(1)
            if kind == .gateway { (input.gateways, input.gatewayKept) = (list, kept) } else { (input.resources[kind], input.resourceKept[kind]) = (list, kept) }
        }
        return input
    }

    /// A kind's parameters for validation, or nil (checks off, with a warning) where the API has none to give.
    static func parametersIfOffered(_ client: GatewayClient, _ kind: ResourceKind) async throws -> ResourceParameters? {
        do { return try await client.parameters(of: kind) } catch let error as APIError
            where [.notFound, .unimplemented, .permissionDenied].contains(error.code) {
            Console.write("gwlua: warning: \(kind.noun) parameters are not available (\(error.code.rawValue)): the checks that need them are off\n")
            return nil
        }
    }

    /// Lists a kind, or answers none where the API does not offer it (a gateway-only fleet's prune check).
    static func listIfOffered(_ client: GatewayClient, _ kind: ResourceKind, required: Bool) async throws -> [Resource] {
        do { return try await client.list(kind) } catch let error as APIError
            where !required && [.notFound, .unimplemented, .permissionDenied].contains(error.code) {
            return []
        }
    }

    /// Validates every spec (with the server's zone list and the kinds' parameters), then plans against
    /// what exists. With a prefix, only resources whose names start with it are
    /// considered (matched or pruned), and every spec's name must carry it.
    /// `fingerprint`: whether the plan needs one (c:plan shows it; c:apply only checks it against `expect`).
    static func makePlan(_ c: LuaGatewayClient, _ call: LuaCall, scope: Scope, fingerprint: Bool = true) throws -> Plan {
        let input = try readFleet(call, 2)
        let client = c.client
        let deploymentsGiven = input.managing.contains(.deployment), claimsGiven = input.managing.contains(.capacityClaim)
        // Deployments are read whenever gateways may be pruned: a gateway they route to is not.
        let readDeployments = deploymentsGiven || scope.prune
        let fetched = try ClientAPI.run(call) { () async throws -> (zones: [String], gateways: [Gateway], deployments: [Resource], claims: [Resource],
                                                                 deploymentParameters: ResourceParameters?, claimParameters: ResourceParameters?) in
            async let parameters = client.parameters()
            async let gateways = client.list()
            async let deployments = readDeployments ? listIfOffered(client, .deployment, required: deploymentsGiven) : []
            async let claims = claimsGiven ? client.list(.capacityClaim) : []
            async let dp = deploymentsGiven ? parametersIfOffered(client, .deployment) : nil
            async let cp = claimsGiven ? parametersIfOffered(client, .capacityClaim) : nil
            return try await (parameters.zones, gateways, deployments, claims, dp, cp)
        }
        let specs = try validate(input.gateways, kept: input.gatewayKept, zones: fetched.zones, prefix: scope.prefix, label: input.label(.gateway))
        var resources: [ResourceKind: [ResourceSpec]] = [:]
        let gatewayNames = Set(specs.map(\.name))
        for kind in [ResourceKind.capacityClaim, .deployment] where input.managing.contains(kind) {
            let parameters = kind == .deployment ? fetched.deploymentParameters : fetched.claimParameters
            if let warning = parameters?.unreadableWarning { Console.write("gwlua: warning: \(kind.noun) \(warning)\n") }
            var context = ValidationContext(acceptsAnswerFields: true, parameters: parameters, gatewayNames: gatewayNames)
            context.parameters?.unreadable = []  // said once, above
            resources[kind] = try validateResources(kind, input.resources[kind] ?? [], kept: input.resourceKept[kind] ?? [],
                                                    context: context, prefix: scope.prefix, label: input.label(kind))
        }
        if let replace = scope.replace {
            let unknown = replace.subtracting(specs.map(\.name)).sorted()
            if !unknown.isEmpty {
                throw LuaError.runtime("bad option 'replace' to '\(scope.function)' (names \(unknown.map { "'\($0)'" }.joined(separator: ", ")), which no spec has)")
            }
        }
        func scoped<T>(_ all: [T], _ name: (T) -> String) -> [T] { scope.prefix.map { p in all.filter { name($0).hasPrefix(p) } } ?? all }
        let existing = scoped(fetched.gateways) { $0.spec.name }
        let deployments = scoped(fetched.deployments) { $0.spec.name }, claims = scoped(fetched.claims) { $0.spec.name }
        var plan: Plan
        if input.isFleet || !deployments.isEmpty {
            // Deployments route to gateways: a gateway they use is not pruned (even by a gateway-only fleet).
            plan = Planner.planFleet(gateways: specs, deployments: resources[.deployment] ?? [], claims: resources[.capacityClaim] ?? [],
                                     existingGateways: existing, existingDeployments: deployments, existingClaims: claims,
                                     prune: scope.prune, replace: scope.replace, managing: input.managing)
        } else {
            plan = Planner.plan(desired: specs, existing: existing, prune: scope.prune, replace: scope.replace)
        }
        if let targets = scope.targets {
            let known = Set(specs.map(\.name)).union(existing.map(\.spec.name))
                .union(resources.values.joined().map(\.name)).union((deployments + claims).map(\.spec.name))
            let unknown = targets.subtracting(known).sorted()
            if !unknown.isEmpty {
                let what = input.isFleet ? "no spec, gateway, deployment or claim" : "no spec or gateway"
                throw LuaError.runtime("bad option 'target' to '\(scope.function)' (\(unknown.map { "'\($0)'" }.joined(separator: ", ")): \(what) has that name)")
            }
            plan.items = plan.items.filter { targets.contains($0.name) }
        }
        guard fingerprint else { return plan }
        let managedExisting = (input.managing.contains(.deployment) ? deployments : []) + (input.managing.contains(.capacityClaim) ? claims : [])
        plan.fingerprint = PlanFingerprint(desired: specs, scope: scope.json, existing: existing,
                                           resources: (resources[.capacityClaim] ?? []) + (resources[.deployment] ?? []),
                                           existingResources: managedExisting)
        return plan
    }

    /// Every deployment's or claim's issues under `label[i].`, and duplicate names; throws the validation error when any is an error.
    static func validateResources(_ kind: ResourceKind, _ documents: [JSONValue], kept: [Set<String>], context: ValidationContext,
                                  prefix: String?, label: String) throws -> [ResourceSpec] {
        var specs: [ResourceSpec] = []
        var issues: [ValidationIssue] = []
        var context = context
        for (i, document) in documents.enumerated() {
            context.keptUnknownPaths = i < kept.count ? kept[i] : []
            let result = ResourceValidator.validate(document, kind: kind, context: context)
            place(result.issues, at: "\(label)[\(i + 1)]", of: document, prefix: prefix, into: &issues)
            if let spec = result.spec { specs.append(spec) }
        }
        try finish(documents, label: label, issues: issues, noun: "fleet")
        return specs
    }

    /// A document's issues under `at` (its place in the list), and the prefix rule for its name.
    static func place(_ found: [ValidationIssue], at: String, of document: JSONValue, prefix: String?, into issues: inout [ValidationIssue]) {
        for var issue in found {
            issue.path = issue.path.isEmpty ? at : "\(at).\(issue.path)"
            issues.append(issue)
        }
        if let prefix, case .string(let name)? = document["name"], !name.hasPrefix(prefix) {
            issues.append(ValidationIssue(path: "\(at).name", message: "'\(name)' does not start with the prefix '\(prefix)' this apply manages"))
        }
    }

    /// Adds the list's duplicate names; throws the validation error when any issue is an error, so nothing is sent.
    static func finish(_ documents: [JSONValue], label: String, issues: [ValidationIssue], noun: String) throws {
        let all = issues + Planner.duplicateNameIssues(documents.enumerated().map { i, doc -> String in
            if case .string(let name)? = doc["name"] { return name }
            return "\u{0}unnamed-\(i)"  // unnamed specs are reported by validation, not as duplicates
        }, label: label)
        if all.contains(where: { $0.severity == .error }) { throw SpecValidationError(issues: all, noun: noun) }
    }

    /// The list at `index` as untyped documents (read raw: no user code runs).
    static func readDocuments(_ call: LuaCall, _ index: Int32) throws -> [JSONValue] {
        try call.checkTable(index)
        switch call.readJSON(index) {
        case .array(let documents): return documents
        case .object(let o) where o.isEmpty: return []
        case .object(let o) where o["name"] != nil:
            throw call.argumentError(index, "expected a list of specs, got a single spec (wrap it: {spec})")
        case let other: throw call.argumentError(index, "expected a list of specs, got a \(other.kindName)")
        }
    }

    /// Every spec's issues under `[i].` (1-based), and duplicate names; throws
    /// the validation error when any is an error, so nothing is sent.
    /// `kept[i]`: the paths of the fields gwlua does not know that spec i, read from the API, carries.
    static func validate(_ documents: [JSONValue], kept: [Set<String>] = [], zones: [String], prefix: String? = nil,
                         label: String = "") throws -> [GatewaySpec] {
        var specs: [GatewaySpec] = []
        specs.reserveCapacity(documents.count)
        var issues: [ValidationIssue] = []
        var context = ValidationContext(zones: zones, acceptsAnswerFields: true)
        for (i, document) in documents.enumerated() {
            context.keptUnknownPaths = i < kept.count ? kept[i] : []
            guard case .object = document else {
                issues.append(ValidationIssue(path: "\(label)[\(i + 1)]", message: "expected a gateway spec table, got \(document.kindName)"))
                continue
            }
            let result = SpecValidator.validate(document, context: context)
            place(result.issues, at: "\(label)[\(i + 1)]", of: document, prefix: prefix, into: &issues)
            if let spec = result.spec { specs.append(spec) }
        }
        try finish(documents, label: label, issues: issues, noun: "gateway")
        return specs
    }

    /// `{create = {…}, update = {…}, replace = {…}, unchanged = {…}, delete = {…}, notes =, text =, summary =}` with `show`.
    static func planData(_ plan: Plan) -> LuaData {
        let text = plan.render()
        var fields: [(String, LuaData)] = PlanItem.Action.allCases.map { action in
            (action.rawValue, .list(plan.items.filter { $0.action == action }.map { itemData($0) }))
        }
        fields.append(("notes", .json(.array(plan.notes.map(JSONValue.string)))))
        fields.append(("text", .string(text)))
        fields.append(("summary", .string(String(text.split(separator: "\n").last ?? ""))))
        fields.append(("changes", .json(.bool(plan.hasChanges))))
        if let fingerprint = plan.fingerprint { fields.append(("fingerprint", .json(fingerprint.json))) }
        fields.append(("json", .string(ApplyEvents.planLines(plan))))
        return .table(fields, planMetatable)
    }

    static func itemData(_ item: PlanItem, extra: [(String, LuaData)] = []) -> LuaData {
        var fields: [(String, LuaData)] = [("name", .string(item.name)), ("action", .string(item.action.rawValue))] + extra
        if item.kind != .gateway { fields.append(("kind", .string(item.kind.rawValue))) }
        if !item.blockedBy.isEmpty { fields.append(("blocked_by", .json(.array(item.blockedBy.map(JSONValue.string))))) }
        if let spec = item.desiredResource { fields.append(("spec", .pushed { ResourcesAPI.push(spec, in: $0) })) }
        if let id = item.id { fields.append(("id", .string(id))) }
        if let note = item.note { fields.append(("note", .string(note))) }
        if let of = item.duplicateOf { fields.append(("duplicate_of", .string(of))) }
        if !item.replaceOnly.isEmpty { fields.append(("replace_only", .json(.array(item.replaceOnly.map(ApplyEvents.change))))) }
        if let spec = item.desired { fields.append(("spec", spec.luaData)) }
        if !item.changes.isEmpty { fields.append(("changes", .json(.array(item.changes.map(ApplyEvents.change))))) }
        return .table(fields)
    }

    // MARK: c:apply

    static func apply(_ c: LuaGatewayClient, _ call: LuaCall) throws -> Int32 {
        let settings = c.settings
        let options = try applyOptions.read(call, at: 3)
        if options.has("journal"), settings.safe {
            throw LuaError.runtime("apply's journal option is disabled by --safe (the host gives one with --journal)")
        }
        // The fingerprint (the JSON of every spec, digested) only when there is one to compare it with.
        let plan = try makePlan(c, call, scope: try Scope(options, function: PlanApply.applyOptions.function),
                                fingerprint: options.has("expect") || settings.dryRun || options.bool("dry_run") == true)
        if let expected = options.record("expect"), let now = plan.fingerprint,
           let stale = PlanFingerprint(desired: expected["desired"] ?? "", existing: expected["existing"] ?? "").staleness(against: now) {
            throw LuaAPIError(error: APIError(code: .stalePlan, message: "\(stale); nothing was changed: plan again"))
        }
        if settings.dryRun || options.bool("dry_run") == true { return dryRun(plan, settings: settings, call) }
        guard let state = LuaState.owner(of: call.L) else { throw LuaError.runtime("no Lua state") }
        let journal: Journal?
        do { journal = try (options.string("journal") ?? settings.journalPath).map { try Journal(path: $0) } } catch {
            throw LuaAPIError(error: APIError(code: .journal, message: String(describing: error)))
        }
        defer { journal?.close() }

        var run = ApplyOptions()
        if let n = options.integer("concurrency") { run.concurrency = Int(n) }
        if let w = options.bool("wait") { run.wait = w }
        if let f = options.bool("fail_fast") { run.failFast = f }
        if let t = options.number("wait_timeout") { run.waitTimeout = t }
        if let i = options.number("wait_interval") { run.waitInterval = i }
        let applyOptions = run
        let progress = settings.progress ? ProgressBar(total: plan.items.count) : nil
        var tally = ApplyTally()
        let control = ApplyControl()
        let client = c.client
        let clock = ContinuousClock()
        let start = clock.now

        let outcomes = try state.wait(for: { (sink: LuaEventSink<ApplyEvent>) in
            await Applier.runFleet(plan, client: client, journal: journal, options: applyOptions, control: control) { sink.send($0) }
        }, onEvent: { event in
            switch event {
            case .status(_, let name, let gateway):
                if settings.jsonEvents { Console.event(ApplyEvents.status(name: name, gateway: gateway)) }
                if gateway.status.status == .error {
                    progress?.clear()
                    Console.write("gwlua: \(name) is STATUS_ERROR (recoverable), still waiting: \(gateway.status.conditionSummary)\n")
                }
            case .converged(let outcome, let kept, let deleted):
                if settings.jsonEvents { Console.event(ApplyEvents.converged(outcome, kept: kept, deleted: deleted)) }
                if let note = outcome.note { Console.write("gwlua: \(outcome.name): \(note)\n") }
            case .convergedResource(let outcome, let deleted):
                if settings.jsonEvents { Console.event(ApplyEvents.converged(outcome, deleted: deleted)) }
                if let note = outcome.note { Console.write("gwlua: \(outcome.kind.noun) \(outcome.name): \(note)\n") }
            case .outcome(let outcome):
                tally.add(outcome)
                if settings.jsonEvents { Console.event(ApplyEvents.item(outcome)) }
                let label = outcome.kind == .gateway ? "" : outcome.kind.noun + " "
                if !outcome.ok, !outcome.skipped, let error = outcome.error {
                    progress?.clear()
                    Console.write("gwlua: \(outcome.action.rawValue) \(label)\(outcome.name) failed: \(error)\n")
                }
                if let note = outcome.note {
                    progress?.clear()
                    Console.write("gwlua: \(label)\(outcome.name): \(note)\n")
                }
                progress?.update(tally)
                // A signal's stop hook fires in the callback too; the run drains instead.
                guard !state.interruption.isRequested else { return }
                do {
                    try options.call("on_result", in: call) {
                        call.push(outcomeData(outcome))
                        return 1
                    }
                } catch where state.interruption.isRequested {}
            }
        }, onInterruption: {
            control.stopLaunching()
            progress?.clear()
            Console.write("gwlua: stopping: no new work is started; waiting for requests in flight (a second signal ends at once)\n")
            return true
        })
        progress?.clear()
        let seconds = (clock.now - start).inSeconds
        let interrupted = state.interruption.isRequested
        settings.report.add(tally)
        if settings.jsonEvents { Console.event(ApplyEvents.summary(tally, seconds: seconds, interrupted: interrupted)) }
        Console.write("gwlua: \(tally.summary(seconds: seconds, interrupted: interrupted))\n")
        if interrupted { throw LuaError.interrupted("interrupted!") }
        var fields: [(String, LuaData)] = tally.counts.map { ($0.0, .json(.integer(Int64($0.1)))) }
        fields.append(("duration", .json(.double(seconds))))
        fields.append(("items", .list(outcomes.map(outcomeData))))
        call.push(.table(fields))
        return 1
    }

    /// `--dry-run`: prints the plan and returns what would happen; sends nothing.
    static func dryRun(_ plan: Plan, settings: GatewaySettings, _ call: LuaCall) -> Int32 {
        if settings.jsonEvents {
            for item in plan.items { Console.event(ApplyEvents.planned(item)) }
            Console.write(plan.render())
        } else {
            Console.write(Console.colourPlan(plan.render(), enabled: Console.colourStdout), to: .output)
        }
        var tally = ApplyTally()
        tally.unchanged = plan.count(.unchanged)
        if settings.jsonEvents { Console.event(ApplyEvents.summary(tally, seconds: 0, interrupted: false, plan: plan)) }
        var fields: [(String, LuaData)] = tally.counts.map { ($0.0, .json(.integer(0))) }
        fields.append(("items", .list(plan.items.map { itemData($0, extra: [("ok", .json(.bool(true)))]) })))
        fields.append(("dry_run", .json(.bool(true))))
        fields.append(("plan", planData(plan)))
        call.push(.table(fields))
        return 1
    }

    /// `{name, action, ok, id, gateway, error, skipped, duration, note, kept, replaced_id}` for one outcome.
    static func outcomeData(_ outcome: ApplyOutcome) -> LuaData {
        var fields: [(String, LuaData)] = [("name", .string(outcome.name)), ("action", .string(outcome.action.rawValue)),
                                           ("ok", .json(.bool(outcome.ok))), ("duration", .json(.double(outcome.seconds)))]
        if outcome.skipped { fields.append(("skipped", .json(.bool(true)))) }
        if let id = outcome.id { fields.append(("id", .string(id))) }
        if let replaced = outcome.replacedID { fields.append(("replaced_id", .string(replaced))) }
        if let note = outcome.note {
            fields.append(("note", .string(note)))
            fields.append(("kept", .json(.array(outcome.kept.map(ApplyEvents.change)))))
        }
        if let gateway = outcome.gateway { fields.append(("gateway", gateway.luaData)) }
        if outcome.kind != .gateway { fields.append(("kind", .string(outcome.kind.rawValue))) }
        if let resource = outcome.resource { fields.append((outcome.kind.luaName, ResourcesAPI.data(resource))) }
        if let error = outcome.error { fields.append(("error", LuaAPIError(error: error, positioned: false).luaData)) }
        return .table(fields)
    }

    static let help = [
        LuaHelpEntry("c:plan", "c:plan(specs [, {prune =, prefix =, replace =, target =}]) -> plan",
                     "Desired specs against existing gateways, by name: plan.create, .update (with changes), .unchanged, .delete, .replace; plan.notes, .changes, .fingerprint, .json; plan:show([{json = true}]).",
                     example: "c:plan(specs):show()"),
        LuaHelpEntry("c:apply",
                     "c:apply(specs [, {concurrency =, wait =, fail_fast =, journal =, prune =, prefix =, replace =, target =, expect =, dry_run =, on_result =}]) -> result",
                     "Validates all, plans, then creates/updates/replaces/deletes with bounded concurrency; result.created/.updated/.replaced/.unchanged/.deleted/.failed and result.items.",
                     example: "local r = c:apply(specs, {concurrency = 16, wait = true})"),
    ]
}
