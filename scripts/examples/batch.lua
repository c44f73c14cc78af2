-- Create a small fleet of gateways, one per zone, through plan and apply:
-- every spec is validated first (against the server's zone list), the plan is
-- shown, what is missing is created four at a time, and each is waited on
-- until READY. Safe to run again: the second run's plan has no changes.
-- Run against the local emulator: gwlua run --local scripts/examples/batch.lua
-- Against the API:                COREWEAVE_API_TOKEN=… gwlua run --journal batch.journal scripts/examples/batch.lua

local c = gateway.client()
local zones = c:parameters().zones
local wanted = {"US-EAST-04A", "US-WEST-04A", "US-CENTRAL-07A"}

local specs = {}
for _, zone in ipairs(wanted) do
  local name = "demo-" .. zone:lower()
  specs[#specs + 1] = gateway.builder(name):zone(zone):coreweave_auth():body_routing()
                        :additional_dns(name .. ".example.com"):build{zones = zones}
end

-- Only gateways named demo-… are this script's business.
c:plan(specs, {prefix = "demo-"}):show()

local r = c:apply(specs, {
  prefix = "demo-", concurrency = 4, wait = true, wait_interval = 1,
  on_result = function(item)  -- runs here, on the Lua thread, as each one finishes
    print(("%-24s %-9s %s"):format(item.name, item.action,
          item.ok and item.gateway.status.status or tostring(item.error)))
  end,
})
print(("created %d, updated %d, unchanged %d, failed %d"):format(r.created, r.updated, r.unchanged, r.failed))
for _, item in ipairs(r.items) do
  if item.ok then print(("%-24s %s"):format(item.name, item.gateway.status.endpoints[1])) end
end

-- API errors are values with a code: a bad zone is refused by the server too.
local ok, err = pcall(c.create, c, {name = "nowhere", zones = {"MARS-01A"}, coreWeaveAuth = {}, pathBasedRouting = {}})
print("a bad spec:", ok and "created?!" or err.code)
