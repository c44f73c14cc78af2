-- A fleet file: the gateways that should exist, computed like any Lua.
--   gwlua plan scripts/examples/fleet.lua --local          what would change (+ ~ - -/+)
--   gwlua apply scripts/examples/fleet.lua --local --yes   make it so
-- prune = true deletes gateways named demo-… that this file does not list.
local zones = {"US-EAST-04A", "US-WEST-04A"}
local models = {"chat", "embed"}

local gateways = {}
for _, zone in ipairs(zones) do
  for _, model in ipairs(models) do
    gateways[#gateways + 1] = gateway.new{
      name = ("demo-%s-%s"):format(model, zone:lower()),
      zones = {zone},
      coreWeaveAuth = {},
      bodyBasedRouting = {apiType = "API_TYPE_OPENAI"},
      endpointConfiguration = {additionalDns = {("%s.%s.example.com"):format(model, zone:lower())}},
    }
  end
end

return {gateways = gateways, prefix = "demo-", prune = true}
