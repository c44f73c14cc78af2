import LuaHost

/// What `.help` shows: the gateway API at a glance; one entry per function comes from its binding.
enum Help {
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

    /// Each binding declares its own help (LuaHelp); `.help NAME` shows it.
    static func text(for name: String) -> String {
        LuaHelp.entry(for: name)?.text ?? "no help for '\(name)'; .help lists what there is\n"
    }
}
