import CLua
import GatewayLua
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
    @Test func exitStatusFollowsTheFailures() {
        let none = RunReport()
        none.add(failed: 0, succeeded: 3, codes: [])
        #expect(none.exitStatus == nil)
        let mixed = RunReport()
        mixed.add(failed: 2, succeeded: 3, codes: ["UNAVAILABLE"])
        #expect(mixed.exitStatus == 2)
        let down = RunReport()
        down.add(failed: 4, succeeded: 0, codes: ["UNAVAILABLE", "TRANSPORT"])
        #expect(down.exitStatus == 69)
        let denied = RunReport()
        denied.add(failed: 4, succeeded: 1, codes: ["PERMISSION_DENIED"])
        #expect(denied.exitStatus == 77)
        let varied = RunReport()
        varied.add(failed: 2, succeeded: 0, codes: ["UNAVAILABLE", "INVALID_ARGUMENT"])
        #expect(varied.exitStatus == 2)
    }
}
