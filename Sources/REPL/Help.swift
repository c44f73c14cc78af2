/// What `.help` shows: the gateway API at a glance, and one entry per function.
enum Help {
    struct Entry {
        let name: String
        let signature: String
        let summary: String
        let example: String
    }

    static let entries: [Entry] = [
        Entry(name: "gateway.new", signature: "gateway.new(t [, {zones = {…}}]) -> spec",
              summary: "Validates a table in the API's shape (camelCase fields) and returns a spec table; raises a VALIDATION error listing every problem.",
              example: #"gateway.new{name = "llm", zones = {"US-EAST-04A"}, coreWeaveAuth = {}, pathBasedRouting = {}}"#),
        Entry(name: "gateway.builder", signature: "gateway.builder(name) -> builder",
              summary: "A fluent builder: zone(z), zones{…}, id(uuid), coreweave_auth(), wandb_auth{apiKey=, serverUrl=, …}, body_routing([apiType]), header_routing(name), path_routing(), additional_dns(name, …), allowed_source_ip_ranges(cidr, …), build([{zones=}]).",
              example: #"gateway.builder("llm"):zone("US-EAST-04A"):coreweave_auth():header_routing("X-Model"):build()"#),
        Entry(name: "gateway.validate", signature: "gateway.validate(t [, {zones = {…}}]) -> ok, issues",
              summary: "Never raises for a bad spec: issues is a list of {path =, message =, severity = \"error\"|\"warning\"}.",
              example: #"local ok, issues = gateway.validate{name = "x"}"#),
        Entry(name: "gateway.to_json", signature: "gateway.to_json(spec [, {pretty = true}]) -> string",
              summary: "The exact CreateGateway request body (sorted keys).", example: "print(gateway.to_json(s, {pretty = true}))"),
        Entry(name: "gateway.client", signature: "gateway.client([{endpoint =, token =, timeout =, max_attempts =, retry_delay =, retry_max_delay =}]) -> client",
              summary: "A client for the API (endpoint and token from the command line and environment by default; --local points it at the emulator).",
              example: "local c = gateway.client()"),
        Entry(name: "c:parameters", signature: "c:parameters() -> {zones = {…}}", summary: "The zones gateways may use.",
              example: "c:parameters().zones"),
        Entry(name: "c:create", signature: "c:create(spec) -> gateway",
              summary: "Creates a gateway exactly once: before re-sending a create whose answer was lost it looks for the first attempt's gateway (by id, then by name and spec).",
              example: "local g = c:create(s)"),
        Entry(name: "c:get", signature: "c:get(id) -> gateway", summary: "One gateway; raises NOT_FOUND when unknown.", example: "c:get(g.spec.id)"),
        Entry(name: "c:list", signature: "c:list([{updated_after = \"RFC 3339 time\"}]) -> {gateway, …}",
              summary: "Every gateway (or those updated after a time).", example: "#c:list()"),
        Entry(name: "c:update", signature: "c:update(id, spec) -> gateway", summary: "Changes a gateway in place (PATCH with the whole spec; the API merges DNS names).",
              example: "c:update(id, s)"),
        Entry(name: "c:delete", signature: "c:delete(id [, {wait = false, timeout = 1200, interval = 5}]) -> gateway",
              summary: "Deletes a gateway; returns it in STATUS_DELETING. With wait, returns once get answers 404.",
              example: "c:delete(id, {wait = true})"),
        Entry(name: "c:wait", signature: "c:wait(id [, {timeout = 2700, interval = 5, on_status = function(g) end}]) -> gateway",
              summary: "Polls until STATUS_READY, through STATUS_ERROR (recoverable); raises on STATUS_FAILED (final) and on the timeout.", example: "c:wait(g.spec.id, {timeout = 60})"),
        Entry(name: "c:plan", signature: "c:plan(specs [, {prune =, prefix =, replace =}]) -> plan",
              summary: "Desired specs against existing gateways, by name: plan.create, .update (with changes), .unchanged, .delete, .replace; plan.notes; plan:show().",
              example: "c:plan(specs):show()"),
        Entry(name: "c:apply", signature: "c:apply(specs [, {concurrency =, wait =, fail_fast =, journal =, prune =, prefix =, replace =, dry_run =, on_result =}]) -> result",
              summary: "Validates all, plans, then creates/updates/replaces/deletes with bounded concurrency; result.created/.updated/.replaced/.unchanged/.deleted/.failed and result.items.",
              example: "local r = c:apply(specs, {concurrency = 16, wait = true})"),
        Entry(name: "json.encode", signature: "json.encode(value [, {pretty = true}]) -> string",
              summary: "JSON with sorted keys; integers stay integers; json.null and json.array(t) for null and [].",
              example: "json.encode({a = 1})"),
        Entry(name: "json.decode", signature: "json.decode(string) -> value", summary: "JSON to Lua; null becomes json.null.",
              example: #"json.decode('{"a": [1, 2]}')"#),
    ]

    static let overview = """
    The gateway API at a glance (.help NAME for one function, e.g. .help gateway.builder):

      specs    gateway.new{…}  gateway.builder(name):…:build()  gateway.validate(t)  gateway.to_json(s)
      client   local c = gateway.client()
               c:parameters()  c:create(s)  c:get(id)  c:list()  c:update(id, s)  c:delete(id)  c:wait(id)
      batches  c:plan(specs):show()   c:apply(specs, {concurrency = 10, wait = true})
      json     json.encode(v)  json.decode(s)  json.null  json.array(t)

    Try:
      s = gateway.builder("demo"):zone("US-EAST-04A"):coreweave_auth():path_routing():build()
      c = gateway.client()          -- start gwlua with --local to use the built-in emulator
      g = c:create(s)  c:wait(g.spec.id)

    Commands: .help [NAME]  .load FILE  .exit      Keys: Tab completes, Ctrl-C clears the line or stops code, Ctrl-D exits.
    """

    static func text(for name: String) -> String {
        let key = name.replacingOccurrences(of: "client:", with: "c:").replacingOccurrences(of: "c.", with: "c:")
        if let e = entries.first(where: { $0.name == key || $0.name.hasSuffix(":" + key) || $0.name.hasSuffix("." + key) }) {
            return "\(e.signature)\n  \(e.summary)\n  e.g. \(e.example)\n"
        }
        return "no help for '\(name)'; .help lists what there is\n"
    }
}
