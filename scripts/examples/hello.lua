-- A first look at gwlua: plain Lua 5.4 plus the json module.
-- Builds CreateGateway request bodies for a few zones as plain tables (the API's
-- own camelCase field names), prints them as JSON and reads one back.
-- Run: gwlua run scripts/examples/hello.lua [zone ...]

local zones = {...}
if #zones == 0 then zones = {"US-EAST-04A", "US-WEST-04A"} end

local requests = {}
for i, zone in ipairs(zones) do
  requests[i] = {
    name = "llm-" .. zone:lower(),
    zones = {zone},
    coreWeaveAuth = {},
    bodyBasedRouting = {apiType = "API_TYPE_OPENAI"},
    endpointConfiguration = {additionalDns = json.array{}},
  }
end

print(json.encode(requests, {pretty = true}))

-- Keys come out in a stable order, so the same input always gives the same bytes.
local again = json.decode(json.encode(requests))
assert(json.encode(again) == json.encode(requests))

-- Integers stay integers; floats stay floats.
local t = json.decode('{"replicas": 3, "ratio": 0.5}')
print(("replicas is an %s, ratio is a %s"):format(math.type(t.replicas), math.type(t.ratio)))
