-- Create a small fleet of gateways, one per zone, wait until each is READY, and
-- print a summary. Safe to run again: gateways that already exist (by name) are
-- left alone.
-- Run against the local emulator: gwlua run --local scripts/examples/batch.lua
-- Against the API:                COREWEAVE_API_TOKEN=… gwlua run scripts/examples/batch.lua

local c = gateway.client()
local zones = c:parameters().zones
local wanted = {"US-EAST-04A", "US-WEST-04A", "US-CENTRAL-07A"}

local existing = {}
for _, g in ipairs(c:list()) do existing[g.spec.name] = g end

for _, zone in ipairs(wanted) do
  local name = "demo-" .. zone:lower()
  local g = existing[name]
  if g then
    print(("%-24s exists   %s"):format(name, g.status.status))
  else
    local spec = gateway.builder(name):zone(zone):coreweave_auth():body_routing()
                   :additional_dns(name .. ".example.com"):build{zones = zones}
    g = c:create(spec)
    print(("%-24s created  %s  id %s"):format(name, g.status.status, g.spec.id))
    g = c:wait(g.spec.id, {timeout = 60, interval = 1})
    print(("%-24s ready    %s"):format(name, g.status.endpoints[1]))
  end
end

-- API errors are values with a code: a bad zone is refused by the server too.
local ok, err = pcall(c.create, c, {name = "nowhere", zones = {"MARS-01A"}, coreWeaveAuth = {}, pathBasedRouting = {}})
print("a bad spec:", err.code)
