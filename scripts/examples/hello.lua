-- A first look at gwlua: plain Lua 5.4 plus the gateway and json modules.
-- Builds and validates CreateGateway specs for a few zones (tables use the API's
-- own camelCase field names), prints them as JSON and reads one back.
-- Run: gwlua run scripts/examples/hello.lua [zone ...]

local zones = {...}
if #zones == 0 then zones = {"US-EAST-04A", "US-WEST-04A"} end

local requests = {}
for i, zone in ipairs(zones) do
  requests[i] = gateway.new{           -- raises, with every problem listed, if the spec is invalid
    name = "llm-" .. zone:lower(),
    zones = {zone},
    coreWeaveAuth = {},
    bodyBasedRouting = {apiType = "API_TYPE_OPENAI"},
    endpointConfiguration = {additionalDns = {"llm-" .. zone:lower() .. ".example.com"}},
  }
  print(requests[i])                   -- readable; a W&B apiKey would show as <redacted>
end

print(json.encode(requests, {pretty = true}))

-- A mistake is reported with its field path, without raising:
local ok, issues = gateway.validate{name = "oops", zone = "US-EAST-04A", coreWeaveAuth = {}, pathBasedRouting = {}}
print("valid:", ok)
for _, issue in ipairs(issues) do print(issue.severity, issue.path, issue.message) end

-- Keys come out in a stable order, so the same input always gives the same bytes.
local again = json.decode(json.encode(requests))
assert(json.encode(again) == json.encode(requests))

-- Integers stay integers; floats stay floats.
local t = json.decode('{"replicas": 3, "ratio": 0.5}')
print(("replicas is an %s, ratio is a %s"):format(math.type(t.replicas), math.type(t.ratio)))
