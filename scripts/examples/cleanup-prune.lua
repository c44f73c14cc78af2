-- Cleanup with prune: the specs say what should exist; every other gateway
-- whose name starts with the prefix is deleted. Gateways outside the prefix are
-- never touched. Try it with --dry-run first: the plan is printed, nothing changes.
-- Run: gwlua run --local scripts/examples/cleanup-prune.lua
--      gwlua run --dry-run scripts/examples/cleanup-prune.lua   (see what it would do)

local c = gateway.client()
local function spec(name)
  return gateway.new{name = name, zones = {"US-EAST-04A"}, coreWeaveAuth = {}, pathBasedRouting = {}}
end

-- Yesterday's fleet: four gateways (created here so the example stands alone).
c:apply({spec("tmp-a"), spec("tmp-b"), spec("tmp-c"), spec("tmp-d")}, {prefix = "tmp-"})

-- Today's: only a and b should remain.
local keep = {spec("tmp-a"), spec("tmp-b")}
local p = c:plan(keep, {prefix = "tmp-", prune = true})
p:show()
local r = c:apply(keep, {prefix = "tmp-", prune = true, wait = true, wait_interval = 1})
print(("deleted %d, kept %d"):format(r.deleted, r.unchanged))
