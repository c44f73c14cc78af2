import CLua
import GatewayKit
@testable import GatewayLua
import LuaHost
import Testing

func gatewayState() throws -> LuaState {
    let state = try LuaState()
    try JSONModule.register(in: state)
    try GatewayModule.register(in: state)
    return state
}

extension LuaState {
    func eval(_ code: String) throws -> LuaValue { try run(code, name: "=spec").first ?? .nil }

    func failure(_ code: String) throws -> String {
        do { try run(code, name: "=spec") } catch let LuaError.script(message, _) { return message } catch {
            return String(describing: error)
        }
        Issue.record("expected an error from: \(code)")
        return ""
    }
}

let validTable = #"{name = "llm-east", zones = {"US-EAST-04A"}, coreWeaveAuth = {}, bodyBasedRouting = {apiType = "API_TYPE_OPENAI"}, endpointConfiguration = {additionalDns = {"llm.example.com"}}}"#

@Suite struct GatewayLuaTests {
    @Test func tableFormAndBuilderAgree() throws {
        let state = try gatewayState()
        let table = try state.eval("return gateway.to_json(gateway.new\(validTable))")
        let built = try state.eval("""
            return gateway.to_json(gateway.builder("llm-east"):zone("US-EAST-04A"):coreweave_auth()
              :body_routing():additional_dns("llm.example.com"):build())
            """)
        #expect(table == built)
        #expect(table == #"{"bodyBasedRouting":{"apiType":"API_TYPE_OPENAI"},"coreWeaveAuth":{},"endpointConfiguration":{"additionalDns":["llm.example.com"]},"name":"llm-east","zones":["US-EAST-04A"]}"#)
    }

    /// gateway.new reads a table in the expected shape in one pass and sends any
    /// other the general way (readJSON and document validation): both give the
    /// same spec, and the odd shapes the one pass must refuse still fail as before.
    @Test func onePassAndGeneralReadsAgree() throws {
        let state = try gatewayState()
        let shapes = [
            validTable,
            #"{name = "w", id = "7f1c2a3b-0d4e-4f5a-8b6c-1d2e3f4a5b6c", zones = {"us-east-04a"}, headerBasedRouting = {headerName = "X-M"}, weightsAndBiasesAuth = {apiKey = "k", serverUrl = "https://api.wandb.ai", enableUsageReports = true, enableRateLimiting = false}}"#,
            #"{name = "p", zones = {}, coreWeaveAuth = {}, pathBasedRouting = {}, endpointConfiguration = {additionalDns = {"a.example.com", "b.example.com"}, allowedSourceIpRanges = {"10.0.0.0/8"}}}"#,
            // A list filled by key, a spec made by gateway.new (it has metatables), a record given as json.null-free empty.
            #"(function() local z = {} z[1] = "US-EAST-04A" return {name = "k", zones = z, coreWeaveAuth = {}, pathBasedRouting = {}} end)()"#,
            "gateway.new\(validTable)",
        ]
        for shape in shapes {
            let one = try state.eval("return json.encode(gateway.new(\(shape)))")
            let general = try state.eval("return gateway.to_json(\(shape))")
            #expect(one == general, "\(shape)")
        }
        // Shapes the one pass refuses; the general way names the problem.
        for (shape, path) in [
            (#"{name = "a", zones = {"US-EAST-04A", x = 1}, coreWeaveAuth = {}, pathBasedRouting = {}}"#, "zones"),
            (#"{name = "a", zones = {"US-EAST-04A"}, coreWeaveAuth = {}, pathBasedRouting = {}, [1] = "x"}"#, "(spec)"),
            (#"{name = "a", zones = {"US-EAST-04A"}, coreWeaveAuth = {x = 1}, pathBasedRouting = {}}"#, "coreWeaveAuth.x"),
            (#"{name = "a", zones = {"US-EAST-04A"}, coreWeaveAuth = {}, bodyBasedRouting = {apiType = true}}"#, "bodyBasedRouting.apiType"),
            (#"{name = "a", zones = {"US-EAST-04A"}, coreWeaveAuth = {}, pathBasedRouting = {}, endpointConfiguration = {additionalDns = {"a.example.com", 5}}}"#, "endpointConfiguration.additionalDns[2]"),
            (#"{name = 5, zones = {"US-EAST-04A"}, coreWeaveAuth = {}, pathBasedRouting = {}}"#, "name"),
            (#"{zones = {"US-EAST-04A"}, coreWeaveAuth = {}, pathBasedRouting = {}}"#, "name"),
        ] {
            let message = try state.failure("gateway.new(\(shape))")
            #expect(message.contains("  \(path): "), "\(shape): \(message)")
        }
    }

    /// gateway.new copies a valid table in the expected shape without making Swift
    /// values of it (`pushCopy`) and validates the copy's bytes by the same rules.
    /// Whether it took that way is asked directly (`copied(t [, zones])`), and what it
    /// gives is compared with the general way's spec, metatables included.
    @Test func copiedSpecsMatchTheGeneralWay() throws {
        let state = try gatewayState()
        state.push(LuaFunction("copied") { call in
            let zones = try SpecsAPI.newOptions.read(call, at: 2)
            call.push(SpecsAPI.pushCopy(ofSpecAt: 1, in: call, context: SpecsAPI.context(zones)))
            return 1
        })
        state.setGlobalFromTop("copied")
        let manyNames = (1...40).map { "\"n\($0).example.com\"" }.joined(separator: ", ")
        let copiedShapes = [
            validTable,
            #"{name = "w", id = "7f1c2a3b-0d4e-4f5a-8b6c-1d2e3f4a5b6c", zones = {"us-east-04a"}, headerBasedRouting = {headerName = "X-M"}, weightsAndBiasesAuth = {apiKey = "k", serverUrl = "https://api.wandb.ai", enableUsageReports = true, enableRateLimiting = false}}"#,
            #"{name = "p", zones = {}, coreWeaveAuth = {}, pathBasedRouting = {}, endpointConfiguration = {additionalDns = {"a.example.com", "b.example.com"}, allowedSourceIpRanges = {"10.0.0.0/8"}}}"#,
            #"{name = "p", coreWeaveAuth = {}, pathBasedRouting = {}, endpointConfiguration = {allowedSourceIpRanges = {}}}"#,
            #"{name = "p", zones = {"US-EAST-04A"}, coreWeaveAuth = {}, pathBasedRouting = {}, endpointConfiguration = {}}"#,
            #"{name = "ünï", zones = {"US-EAST-04A"}, coreWeaveAuth = {}, headerBasedRouting = {headerName = "X"}, organizationId = "org"}"#,
            // More list items than the first try has room for.
            "{name = \"m\", zones = {\"US-EAST-04A\"}, coreWeaveAuth = {}, pathBasedRouting = {}, endpointConfiguration = {additionalDns = {\(manyNames)}}}",
        ]
        for shape in copiedShapes {
            #expect(try state.eval("return copied(\(shape))") == .boolean(true), "\(shape)")
            let one = try state.eval("return json.encode(gateway.new(\(shape)))")
            let general = try state.eval("return gateway.to_json(\(shape))")
            #expect(one == general, "\(shape)")
        }
        // The copy is a spec table of its own: marked lists, the spec metatable, nothing shared with the input.
        #expect(try state.eval("""
            local t = \(validTable)
            local s = gateway.new(t)
            t.zones[1] = "changed"; t.endpointConfiguration.additionalDns[2] = "x.example.com"; t.bodyBasedRouting.apiType = "x"
            return table.concat({tostring(s):match("^gateway.spec") or "?", getmetatable(s.zones).__name,
              getmetatable(s.endpointConfiguration.additionalDns).__name, s.zones[1], #s.endpointConfiguration.additionalDns,
              s.bodyBasedRouting.apiType, tostring(rawequal(s.coreWeaveAuth, t.coreWeaveAuth))}, " ")
            """) == .string("gateway.spec json.array json.array US-EAST-04A 1 API_TYPE_OPENAI false"))
        // Zones take the known spelling; a 40th DNS name that is bad is named by its place.
        #expect(try state.eval("""
            return gateway.new({name = "z", zones = {"us-east-04a"}, coreWeaveAuth = {}, pathBasedRouting = {}},
                               {zones = {"US-EAST-04A", "US-WEST-04A"}}).zones[1]
            """) == .string("US-EAST-04A"))
        let bad = try state.failure("gateway.new{name = \"m\", coreWeaveAuth = {}, pathBasedRouting = {}, endpointConfiguration = {additionalDns = {\(manyNames), \"-bad\"}}}")
        #expect(bad.contains("endpointConfiguration.additionalDns[41]: '-bad' is not a valid DNS name"), "\(bad)")
        // Shapes the copy leaves to the general way, which still takes or names them.
        for shape in [
            #"{name = "a\255", zones = {"US-EAST-04A"}, coreWeaveAuth = {}, pathBasedRouting = {}}"#,
            #"{name = "a", zones = {"US-EAST-04A", x = 1}, coreWeaveAuth = {}, pathBasedRouting = {}}"#,
            #"{name = "a", zones = {"US-EAST-04A"}, coreWeaveAuth = {}, pathBasedRouting = {}, bodyBasedRouting = {apiType = "API_TYPE_OPENAI"}}"#,
            #"{name = "a", zones = {"US-EAST-04A"}, coreWeaveAuth = {}, bodyBasedRouting = {apiType = 1}}"#,
            #"{name = "a", zones = {"US-EAST-04A"}, coreWeaveAuth = {}, headerBasedRouting = {}}"#,
            #"{name = "a", zones = {"US-EAST-04A"}, coreWeaveAuth = {}, pathBasedRouting = {}, weightsAndBiasesAuth = {serverUrl = 1}}"#,
        ] {
            #expect(try state.eval("return copied(\(shape))") == .boolean(false), "\(shape)")
            #expect(try state.eval("return select('#', copied(\(shape)))") == .integer(1), "the stack is as it was: \(shape)")
        }
        #expect(try state.eval(#"return gateway.new{name = "a\255", zones = {"US-EAST-04A"}, coreWeaveAuth = {}, pathBasedRouting = {}}.name"#)
            == .string("a\u{FFFD}"))
    }

    @Test func everyBuilderMethod() throws {
        let state = try gatewayState()
        let json = try state.eval("""
            local b = gateway.builder("w"):zones{"US-EAST-04A", "us-west-04a"}:id("7f1c2a3b-0d4e-4f5a-8b6c-1d2e3f4a5b6c")
              :wandb_auth{apiKey = "k", serverUrl = "https://api.wandb.ai", enableUsageReports = true, enableRateLimiting = false}
              :header_routing("X-Model"):additional_dns("a.example.com", "b.example.com")
            return gateway.to_json(b:build{zones = {"US-EAST-04A", "US-WEST-04A"}})
            """)
        #expect(json == #"{"endpointConfiguration":{"additionalDns":["a.example.com","b.example.com"]},"headerBasedRouting":{"headerName":"X-Model"},"id":"7f1c2a3b-0d4e-4f5a-8b6c-1d2e3f4a5b6c","name":"w","weightsAndBiasesAuth":{"apiKey":"k","enableRateLimiting":false,"enableUsageReports":true,"serverUrl":"https://api.wandb.ai"},"zones":["US-EAST-04A","US-WEST-04A"]}"#)
        #expect(try state.eval(#"return gateway.to_json(gateway.builder("p"):zone("Z"):coreweave_auth():path_routing():build())"#)
            == #"{"coreWeaveAuth":{},"name":"p","pathBasedRouting":{},"zones":["Z"]}"#)
    }

    /// :build checks the builder's spec in place; the zones it respells to the known
    /// spelling are the built spec's, and the builder keeps what it was given.
    @Test func buildLeavesTheBuilderAsItWas() throws {
        let state = try gatewayState()
        #expect(try state.eval("""
            local b = gateway.builder("z"):zone("us-east-04a"):path_routing()
            local failed = not pcall(b.build, b, {zones = {"US-EAST-04A"}})  -- no auth yet
            b:coreweave_auth()
            local known = b:build{zones = {"US-EAST-04A"}}
            return table.concat({tostring(failed), known.zones[1], b:build().zones[1]}, " ")
            """) == .string("true US-EAST-04A us-east-04a"))
    }

    /// The builder keeps its strings as Lua values and :build checks their bytes and
    /// copies them: a builder with more list items than the first try has room for,
    /// one whose name is not UTF-8 (built from repaired Strings, as gateway.new does),
    /// and one round-tripped through Swift values (refused: its strings stay in Lua).
    @Test func builderKeepsLuaValues() throws {
        let state = try gatewayState()
        let names = (1...40).map { "\"n\($0).example.com\"" }.joined(separator: ", ")
        let built = try state.eval("""
            return gateway.to_json(gateway.builder("m"):zone("US-EAST-04A"):coreweave_auth():path_routing()
              :additional_dns(\(names)):allowed_source_ip_ranges("10.0.0.0/8"):additional_dns("last.example.com"):build())
            """)
        let table = try state.eval("""
            return gateway.to_json{name = "m", zones = {"US-EAST-04A"}, coreWeaveAuth = {}, pathBasedRouting = {},
              endpointConfiguration = {additionalDns = {\(names), "last.example.com"}, allowedSourceIpRanges = {"10.0.0.0/8"}}}
            """)
        #expect(built == table)
        #expect(try state.eval(#"return gateway.builder("a\255"):zone("US-EAST-04A"):coreweave_auth():path_routing():build().name"#)
            == .string("a\u{FFFD}"))
        #expect(try state.eval(#"return tostring(gateway.builder("x\"y"))"#) == .string(#"gateway.builder("x\"y")"#))
        let message = try state.failure(#"gateway.builder("x"):zone(5)"#)
        #expect(message.contains("bad argument #1 to 'zone' (string expected, got number)"), "\(message)")
        let builder = try state.eval(#"return gateway.builder("kept")"#)
        #expect(throws: LuaError.self) { try state.setGlobal("b", builder) }
    }

    /// The newer allowedSourceIpRanges field: table form and builder agree, a bad range
    /// is an error naming its path, host bits a warning; `zones = {}` warns as absent zones do.
    @Test func allowedSourceIpRangesAndEmptyZones() throws {
        let state = try gatewayState()
        let table = try state.eval("""
            return gateway.to_json(gateway.new{name = "n", zones = {"US-EAST-04A"}, coreWeaveAuth = {}, pathBasedRouting = {},
              endpointConfiguration = {allowedSourceIpRanges = {"203.0.113.0/24", "2001:db8::/32"}}})
            """)
        let built = try state.eval("""
            return gateway.to_json(gateway.builder("n"):zone("US-EAST-04A"):coreweave_auth():path_routing()
              :allowed_source_ip_ranges("203.0.113.0/24"):allowed_source_ip_ranges("2001:db8::/32"):build())
            """)
        #expect(table == built)
        #expect(table == #"{"coreWeaveAuth":{},"endpointConfiguration":{"additionalDns":[],"allowedSourceIpRanges":["203.0.113.0/24","2001:db8::/32"]},"name":"n","pathBasedRouting":{},"zones":["US-EAST-04A"]}"#)
        #expect(try state.eval("""
            local ok, issues = gateway.validate{name = "n", zones = {"US-EAST-04A"}, coreWeaveAuth = {}, pathBasedRouting = {},
              endpointConfiguration = {allowedSourceIpRanges = {"203.0.113.9/24", "10.0.0.0/40"}}}
            local out = {tostring(ok)}
            for _, i in ipairs(issues) do out[#out + 1] = i.severity .. " " .. i.path end
            return table.concat(out, "; ")
            """) == .string("false; warning endpointConfiguration.allowedSourceIpRanges[1]; error endpointConfiguration.allowedSourceIpRanges[2]"))
        #expect(try state.eval("""
            local ok, issues = gateway.validate{name = "n", zones = {}, coreWeaveAuth = {}, pathBasedRouting = {}}
            return tostring(ok) .. " " .. issues[1].severity .. " " .. issues[1].path .. ": " .. issues[1].message
            """) == .string("true warning zones: no zones given: the API may place the gateway in any zone"))
        #expect(try state.failure(#"gateway.builder("n"):allowed_source_ip_ranges()"#).contains("at least one CIDR range expected"))
    }

    @Test func secondAuthOrRoutingRaisesAtThatLine() throws {
        let state = try gatewayState()
        #expect(try state.failure("""
            local b = gateway.builder("x"):coreweave_auth()
            b:wandb_auth{apiKey = "k", serverUrl = "https://api.wandb.ai"}
            """) == "spec:2: wandb_auth: auth is already set by coreweave_auth at spec:1; a gateway has exactly one auth")
        #expect(try state.failure("""
            local b = gateway.builder("x")
            b:path_routing()
            b:header_routing("X")
            """) == "spec:3: header_routing: routing is already set by path_routing at spec:2; a gateway has exactly one routing")
        // The first call's chunk is named even after that chunk is gone (as a REPL line
        // is), and a call from C (pcall) has no line to name.
        #expect(try state.failure("""
            b = load("return gateway.builder('x'):path_routing()", "=earlier")()
            collectgarbage() collectgarbage()
            b:header_routing("X")
            """) == "spec:3: header_routing: routing is already set by path_routing at earlier:1; a gateway has exactly one routing")
        #expect(try state.failure("""
            local b = gateway.builder("x")
            pcall(b.coreweave_auth, b)
            b:coreweave_auth()
            """) == "spec:3: coreweave_auth: auth is already set by coreweave_auth; a gateway has exactly one auth")
        #expect(try state.failure(#"gateway.builder("x"):wandb_auth{apikey = "k"}"#)
            == "spec:1: wandb_auth: unknown field 'apikey' (known: apiKey, serverUrl, enableUsageReports, enableRateLimiting)")
        #expect(try state.failure(#"gateway.builder("x"):zone(4)"#) == "spec:1: bad argument #1 to 'zone' (string expected, got number)")
        #expect(try state.failure(#"gateway.builder()"#) == "spec:1: bad argument #1 to 'builder' (string expected, got no value)")
    }

    @Test func validationErrorsListEveryErrorAndCarryIssues() throws {
        let state = try gatewayState()
        let message = try state.eval("""
            local ok, err = pcall(function()
              return gateway.new{name = "x", zone = "US-EAST-04A", headerBasedRouting = {headerName = ""}}
            end)
            return tostring(err)
            """)
        #expect(message == """
            spec:2: invalid gateway spec (3 errors):
              zone: unknown field 'zone' (did you mean 'zones'?)
              (spec): an auth is required: set exactly one of coreWeaveAuth or weightsAndBiasesAuth
              headerBasedRouting.headerName: headerName must be 1 to 100 characters, got 0
            """)
        #expect(try state.eval("""
            local ok, err = pcall(gateway.new, {name = "x"})
            return err.code .. " " .. #err.issues .. " " .. err.issues[1].path .. " " .. err.issues[1].severity
            """) == "VALIDATION 3 zones warning")
        #expect(try state.failure(#"gateway.builder("b"):build()"#).hasPrefix("spec:1: invalid gateway spec (2 errors):"))
    }

    @Test func validateNeverRaisesForABadSpec() throws {
        let state = try gatewayState()
        #expect(try state.eval("local ok, issues = gateway.validate(\(validTable)) return ok and #issues == 0") == true)
        #expect(try state.eval("local ok, issues = gateway.validate(42) return tostring(ok) .. issues[1].message")
            == "falsea gateway spec must be a table (JSON object), got number")
        #expect(try state.eval("""
            local ok, issues = gateway.validate({name = print, zones = {"US-EAST-04A", "MARS"}, coreWeaveAuth = {}, pathBasedRouting = {}},
                                                {zones = {"US-EAST-04A"}})
            local out = {}
            for _, i in ipairs(issues) do out[#out + 1] = i.path .. "=" .. i.severity end
            return table.concat(out, ",")
            """) == "name=error,zones=warning,zones[2]=error")
    }

    @Test func zonesAreNormalisedToTheKnownSpelling() throws {
        let state = try gatewayState()
        #expect(try state.eval(#"return gateway.new({name = "a", zones = {"us-east-04a"}, coreWeaveAuth = {}, pathBasedRouting = {}}, {zones = {"US-EAST-04A"}}).zones[1]"#)
            == "US-EAST-04A")
    }

    @Test func tostringIsReadableAndRedactsTheAPIKey() throws {
        let state = try gatewayState()
        let text = try state.eval("""
            return tostring(gateway.new{name = "w", zones = {"Z"}, pathBasedRouting = {},
              weightsAndBiasesAuth = {apiKey = "super-secret-key", serverUrl = "https://api.wandb.ai"}})
            """)
        #expect(text == #"gateway.spec{name = "w", zones = {"Z"}, weightsAndBiasesAuth = {apiKey = "<redacted>", serverUrl = "https://api.wandb.ai"}, pathBasedRouting = {}}"#)
        // The error for a bad spec does not show the key either.
        let message = try state.failure(#"gateway.new{name = "w", weightsAndBiasesAuth = {apiKey = "super-secret-key"}}"#)
        #expect(!message.contains("super-secret-key"))
    }

    @Test func specTablesAreOrdinaryTables() throws {
        let state = try gatewayState()
        #expect(try state.eval("""
            local s = gateway.new\(validTable)
            s.name = "renamed"
            return json.encode(s) == gateway.to_json(s) and gateway.to_json(s):find('"renamed"') ~= nil
            """) == true)
        #expect(try state.failure("local s = gateway.new\(validTable) s.name = 5 gateway.to_json(s)")
            .hasPrefix("spec:1: invalid gateway spec (1 error):\n  name: expected a string, got number"))
    }

    /// Random nested tables, wrong types, huge strings and cycles: issues, never a crash.
    @Test func fuzzedInputNeverCrashesTheHost() throws {
        let state = try gatewayState()
        let fuzz = """
        local seed = ...
        math.randomseed(seed)
        local keys = {"name", "zones", "id", "coreWeaveAuth", "weightsAndBiasesAuth", "endpointConfiguration",
                      "bodyBasedRouting", "headerBasedRouting", "pathBasedRouting", "apiKey", "serverUrl", "headerName",
                      "apiType", "additionalDns", "zone", 1, 2, 3, true, 1.5}
        local function value(depth)
          local r = math.random(12)
          if r == 1 then return nil elseif r == 2 then return math.random() < 0.5
          elseif r == 3 then return math.random(-5, 5) elseif r == 4 then return 0/0
          elseif r == 5 then return string.rep("x", math.random(0, 3) == 0 and 200000 or 5)
          elseif r == 6 then return print elseif r == 7 then return json.null
          elseif r == 8 then return "US-EAST-04A" elseif r == 9 then return io.stdout
          elseif depth > 6 then return {}
          else
            local t = {}
            for i = 1, math.random(0, 6) do t[keys[math.random(#keys)]] = value(depth + 1) end
            if math.random(10) == 1 then t.self = t end
            return t
          end
        end
        local counts = {ok = 0, bad = 0}
        for i = 1, 3000 do
          local v = value(0)
          local ok, issues = gateway.validate(v, {zones = {"US-EAST-04A"}})
          assert(type(issues) == "table")
          counts[ok and "ok" or "bad"] = counts[ok and "ok" or "bad"] + 1
          pcall(gateway.new, v)
          pcall(gateway.to_json, v)
          if type(v) == "table" then pcall(tostring, setmetatable(v, getmetatable(gateway.new{name = "a", zones = {"Z"}, coreWeaveAuth = {}, pathBasedRouting = {}}))) end
        end
        return counts.bad
        """
        for seed in 1...5 {
            try state.load(fuzz, name: "=fuzz")
            try state.push(.integer(Int64(seed)))
            let bad = try state.pcall(arguments: 1)
            #expect(bad.first != .integer(0))
        }
        #expect(try state.eval("return 1 + 1") == .integer(2))
    }

    /// The three ways to a spec must agree on random near-valid specs with odd strings
    /// (empty, spaces, upper case, not UTF-8, CR LF, long labels, bad UUIDs and ranges):
    /// gateway.new (copied and checked on bytes when it can), the document path
    /// (gateway.validate, gateway.to_json) and the builder, on validity, the error
    /// paths, and the spec made, with and without known zones.
    @Test func tableBuilderAndDocumentPathsAgree() throws {
        let state = try gatewayState()
        let script = #"""
        math.randomseed(...)
        local function pick(t) return t[math.random(#t)] end
        local texts = {"llm", "LLM", "", " llm", "llm ", "a\255b", "ünï", "x-y", "-x", string.rep("a", 64), "US-EAST-04A",
                       "us-east-04a", "US-WEST-04A", "a.example.com", "*.b.example.com", "c.example.com.", "a..b", "bad_name.io",
                       "7f1c2a3b-0d4e-4f5a-8b6c-1d2e3f4a5b6c", "7F1C2A3B-0D4E-4F5A-8B6C-1D2E3F4A5B6C", "not-a-uuid", "X-Model",
                       "X\r\nY", string.rep("h", 101), "10.0.0.0/8", "10.0.0.1/8", "2001:db8::/32", "300.0.0.0/8", "https://api.wandb.ai",
                       "http://api.wandb.ai", "https://", "API_TYPE_OPENAI", "API_TYPE_UNSPECIFIED", "API_TYPE_X"}
        local function list(n) local t = {} for i = 1, n do t[i] = pick(texts) end return t end
        local function spec()
          local t = {name = pick(texts)}
          if math.random(6) > 1 then t.zones = list(math.random(0, 3)) end
          if math.random(5) == 1 then t.id = pick(texts) end
          local auth = math.random(7)
          if auth <= 4 then t.coreWeaveAuth = {} end
          if auth >= 4 and auth <= 6 then
            t.weightsAndBiasesAuth = {}
            if math.random(2) == 1 then t.weightsAndBiasesAuth.apiKey = pick({"k", ""}) end
            if math.random(3) > 1 then t.weightsAndBiasesAuth.serverUrl = pick(texts) end
            if math.random(3) == 1 then t.weightsAndBiasesAuth.enableUsageReports = math.random(2) == 1 end
            if math.random(3) == 1 then t.weightsAndBiasesAuth.enableRateLimiting = math.random(2) == 1 end
          end
          local routing = math.random(7)
          if routing <= 2 then t.bodyBasedRouting = {apiType = pick({"API_TYPE_OPENAI", "API_TYPE_OPENAI", pick(texts)})} end
          if routing >= 2 and routing <= 4 then t.headerBasedRouting = {headerName = pick(texts)} end
          if routing >= 4 and routing <= 6 then t.pathBasedRouting = {} end
          if math.random(3) == 1 then
            t.endpointConfiguration = {}
            if math.random(4) > 1 then t.endpointConfiguration.additionalDns = list(math.random(0, 20)) end
            if math.random(3) == 1 then t.endpointConfiguration.allowedSourceIpRanges = list(math.random(0, 3)) end
          end
          return t
        end
        -- The builder made from the same table, or nil when the table has a shape it cannot make.
        local function build(t, options)
          if t.coreWeaveAuth and t.weightsAndBiasesAuth then return nil end
          local n = (t.bodyBasedRouting and 1 or 0) + (t.headerBasedRouting and 1 or 0) + (t.pathBasedRouting and 1 or 0)
          if n > 1 then return nil end
          local b = gateway.builder(t.name)
          for _, z in ipairs(t.zones or {}) do b:zone(z) end
          if t.id then b:id(t.id) end
          if t.coreWeaveAuth then b:coreweave_auth() end
          if t.weightsAndBiasesAuth then b:wandb_auth(t.weightsAndBiasesAuth) end
          if t.bodyBasedRouting then b:body_routing(t.bodyBasedRouting.apiType) end
          if t.headerBasedRouting then b:header_routing(t.headerBasedRouting.headerName) end
          if t.pathBasedRouting then b:path_routing() end
          local e = t.endpointConfiguration
          if e and not e.additionalDns and not e.allowedSourceIpRanges then return nil end  -- {} has no builder call
          if e and e.additionalDns then
            if #e.additionalDns == 0 then return nil end
            b:additional_dns(table.unpack(e.additionalDns))
          end
          if e and e.allowedSourceIpRanges and #e.allowedSourceIpRanges > 0 then b:allowed_source_ip_ranges(table.unpack(e.allowedSourceIpRanges)) end
          if e and e.allowedSourceIpRanges and #e.allowedSourceIpRanges == 0 and not e.additionalDns then return nil end
          return pcall(b.build, b, options)
        end
        local function errorPaths(issues)
          local out = {}
          for _, i in ipairs(issues) do if i.severity == "error" then out[#out + 1] = i.path end end
          return table.concat(out, ",")
        end
        local function check(holds, what, t)
          if holds then return end
          local shown, text = pcall(json.encode, t)
          error(what .. " " .. (shown and text or "a spec with bytes that are not UTF-8"), 2)
        end
        local counts = {valid = 0, invalid = 0, built = 0}
        for round = 1, 1500 do
          local t = spec()
          local options = math.random(2) == 1 and {zones = {"US-EAST-04A", "US-WEST-04A"}} or nil
          local valid, issues = gateway.validate(t, options)
          local ok, made = pcall(gateway.new, t, options)
          check(ok == valid, "gateway.new and gateway.validate disagree on", t)
          if ok then
            counts.valid = counts.valid + 1
            if not options then check(json.encode(made) == gateway.to_json(t), "gateway.new made another spec of", t) end
            for _, z in ipairs(options and made.zones or {}) do
              check(z == "US-EAST-04A" or z == "US-WEST-04A", "gateway.new kept a zone's spelling in", t)
            end
            check(json.encode(gateway.new(made, options)) == json.encode(made), "a spec is not its own spec:", t)
          else
            counts.invalid = counts.invalid + 1
            check(errorPaths(made.issues) == errorPaths(issues), "other errors for", t)
          end
          local built, result = build(t, options)
          if built ~= nil then
            counts.built = counts.built + 1
            check(built == ok, "the builder and gateway.new disagree on", t)
            if built then check(json.encode(result) == json.encode(made), "the builder made another spec of", t)
            else check(errorPaths(result.issues) == errorPaths(issues), "the builder reports other errors for", t) end
          end
        end
        return counts.valid, counts.invalid, counts.built
        """#
        for seed in 1...3 {
            try state.load(script, name: "=agree")
            try state.push(.integer(Int64(seed)))
            let counts = try state.pcall(arguments: 1)
            // Each kind must be met often enough to mean something.
            for count in counts {
                guard case .integer(let n) = count else { Issue.record("not a count: \(counts)"); continue }
                #expect(n > 100, "\(counts)")
            }
        }
    }
}

@Suite struct GatewayOptionTests {
    @Test func optionTablesAreReadRaw() throws {
        let state = try gatewayState()
        #expect(try state.eval("""
            local trap = setmetatable({}, {__index = function() error("metamethod ran") end})
            local s = gateway.new({name = "a", zones = {"Z"}, coreWeaveAuth = {}, pathBasedRouting = {}}, trap)
            return gateway.to_json(s, trap)
            """) == #"{"coreWeaveAuth":{},"name":"a","pathBasedRouting":{},"zones":["Z"]}"#)
    }
}

@Suite struct RunReportTests {
    func report(failed: Int, succeeded: Int, codes: Set<APIError.Code>) -> RunReport {
        var tally = ApplyTally()
        tally.failed = failed
        tally.created = succeeded
        tally.failureCodes = codes
        let report = RunReport()
        report.add(tally)
        return report
    }

    @Test func exitStatusFollowsTheFailures() {
        #expect(report(failed: 0, succeeded: 3, codes: []).exitStatus == nil)
        #expect(report(failed: 2, succeeded: 3, codes: [.unavailable]).exitStatus == ExitStatus.partial)
        #expect(report(failed: 4, succeeded: 0, codes: [.unavailable, .transport]).exitStatus == ExitStatus.unavailable)
        #expect(report(failed: 4, succeeded: 1, codes: [.permissionDenied]).exitStatus == ExitStatus.denied)
        #expect(report(failed: 2, succeeded: 0, codes: [.unavailable, .invalidArgument]).exitStatus == ExitStatus.partial)
    }
}

/// The declarative layer: every options table checked in one wording, empty lists
/// that stay lists, and help for every function.
@Suite struct BindingLayerTests {
    /// Every options table in the Lua API: an unknown key, a wrong type and an
    /// out-of-range value each raise the one wording, at the caller's line.
    @Test(arguments: [
        ("gateway.client{bogus = 1}", "unknown option 'bogus' to 'gateway.client' (known: ca_file, endpoint, max_attempts, proxy, retry_delay, retry_max_delay, timeout, token)"),
        ("gateway.client{timeout = '30'}", "bad option 'timeout' to 'gateway.client' (number expected, got string)"),
        ("gateway.client{endpoint = 5}", "bad option 'endpoint' to 'gateway.client' (string expected, got number)"),
        ("gateway.client{max_attempts = 2.5}", "bad option 'max_attempts' to 'gateway.client' (a whole number from 1 to 100 expected, got 2.5)"),
        ("gateway.client{max_attempts = 0}", "bad option 'max_attempts' to 'gateway.client' (a whole number from 1 to 100 expected, got 0)"),
        ("gateway.client{retry_delay = -1}", "bad option 'retry_delay' to 'gateway.client' (a number from 0 to 60 expected, got -1)"),
        ("c:wait('x', {bogus = 1})", "unknown option 'bogus' to 'c:wait' (known: interval, on_status, timeout)"),
        ("c:wait('x', {timeout = 'x'})", "bad option 'timeout' to 'c:wait' (number expected, got string)"),
        ("c:wait('x', {on_status = 1})", "bad option 'on_status' to 'c:wait' (function expected, got number)"),
        ("c:delete('x', {wait = 'yes'})", "bad option 'wait' to 'c:delete' (boolean expected, got string)"),
        ("c:delete('x', {interval = 0})", "bad option 'interval' to 'c:delete' (a number from 0.01 to 3600 expected, got 0)"),
        ("c:list{since = 1}", "unknown option 'since' to 'c:list' (known: updated_after)"),
        ("c:list{updated_after = 1}", "bad option 'updated_after' to 'c:list' (string expected, got number)"),
        ("c:plan({}, {prune = 'yes'})", "bad option 'prune' to 'c:plan' (boolean expected, got string)"),
        ("c:plan({}, {replace = 'x'})", "bad option 'replace' to 'c:plan' (true, false or a list of strings expected, got string)"),
        ("c:plan({}, {prefix = ''})", "bad option 'prefix' to 'c:plan' (a non-empty string expected, got an empty one)"),
        ("c:plan({}, {target = 'x'})", "bad option 'target' to 'c:plan' (a list of strings expected, got string)"),
        ("c:apply({}, {expect = 'x'})", "bad option 'expect' to 'c:apply' (a table of strings (desired, existing) expected, got string)"),
        ("c:apply({}, {expect = {desired = 1}})", "bad option 'expect' to 'c:apply' (a table of strings (desired, existing) expected, got a table of other things)"),
        ("c:apply({}, {expect = {wanted = 'x'}})", "bad option 'expect' to 'c:apply' (a table of strings (desired, existing) expected, got a table of other things)"),
        ("c:apply({}, {concurrency = 'x'})", "bad option 'concurrency' to 'c:apply' (number expected, got string)"),
        ("c:apply({}, {concurrency = 0})", "bad option 'concurrency' to 'c:apply' (a whole number from 1 to 1024 expected, got 0)"),
        ("c:apply({}, {on_result = true})", "bad option 'on_result' to 'c:apply' (function expected, got boolean)"),
        ("c:apply({}, {bogus = 1})", "unknown option 'bogus' to 'c:apply'"),
        ("c:apply({}, {prefix = ''})", "bad option 'prefix' to 'c:apply' (a non-empty string expected, got an empty one)"),
        ("gateway.new({}, {zone = {}})", "unknown option 'zone' to 'gateway.new' (known: zones)"),
        ("gateway.validate({}, {zones = 'US'})", "bad option 'zones' to 'gateway.validate' (a list of strings expected, got string)"),
        ("gateway.to_json({}, {pretty = 1})", "bad option 'pretty' to 'gateway.to_json' (boolean expected, got number)"),
        ("gateway.builder('x'):build{zones = {1}}", "bad option 'zones' to ':build' (a list of strings expected, got a table of other things)"),
        ("json.encode({}, {indent = 2})", "unknown option 'indent' to 'json.encode' (known: pretty)"),
    ])
    func everyOptionsTableSpeaksOneWording(_ code: String, _ message: String) throws {
        let state = try gatewayState()
        // Options are read before any request, so no server is needed.
        let failure = try state.failure("local c = gateway.client{endpoint = 'http://127.0.0.1:9', token = 't'}\n\(code)")
        #expect(failure.hasPrefix("spec:2: "), "\(failure)")
        #expect(failure.contains(message), "\(failure)")
    }

    /// An empty list survives every path back to Lua as an array.
    @Test func emptyListsStayArrays() throws {
        let state = try gatewayState()
        #expect(try state.eval("""
            local s = gateway.new{name = "e", zones = {"US-EAST-04A"}, coreWeaveAuth = {}, pathBasedRouting = {},
                                  endpointConfiguration = {additionalDns = {}}}
            local ok, issues = gateway.validate(s)
            return json.encode{dns = s.endpointConfiguration.additionalDns, issues = issues, decoded = json.decode("[]")}
            """) == .string(#"{"decoded":[],"dns":[],"issues":[]}"#))
    }

    /// Every function of `gateway`, the client and `json` has help (.help reads it).
    @Test func everyFunctionHasHelp() throws {
        let state = try gatewayState()
        let names = try state.eval("""
            local names = {}
            for module, t in pairs{gateway = gateway, json = json} do
              for k, v in pairs(t) do if type(v) == "function" then names[#names + 1] = module .. "." .. k end end
            end
            table.sort(names)
            return table.concat(names, " ")
            """)
        guard case .string(let text) = names else { Issue.record("no names"); return }
        let functions = text.string.split(separator: " ").map(String.init) + GatewayModule.clientMethods
        #expect(functions.count > 15)
        for name in functions { #expect(LuaHelp.entry(for: name)?.name == name, "no help for \(name)") }
    }
}
