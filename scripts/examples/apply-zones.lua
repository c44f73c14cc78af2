-- Multi-zone fan-out: every model gets one gateway in every zone, all created
-- through one apply. With WANDB_API_KEY set, the gateways use W&B auth (the key
-- is sent to the API and never printed: plans and results show it redacted).
-- Run: gwlua run --local scripts/examples/apply-zones.lua
--      COREWEAVE_API_TOKEN=… gwlua run --lock fanout.lock --journal fanout.journal scripts/examples/apply-zones.lua

local models = {"llama", "mistral"}
local zones = {"US-EAST-04A", "US-WEST-04A", "EU-SOUTH-04A"}
local key = os.getenv("WANDB_API_KEY")

local specs = {}
for _, model in ipairs(models) do
  for _, zone in ipairs(zones) do
    local name = ("fan-%s-%s"):format(model, zone:lower())
    local b = gateway.builder(name):zone(zone):header_routing("X-Model"):additional_dns(name .. ".example.com")
    if key and key ~= "" then
      b = b:wandb_auth{apiKey = key, serverUrl = "https://api.wandb.ai", enableUsageReports = true}
    else
      b = b:coreweave_auth()
    end
    specs[#specs + 1] = b:build()
  end
end

local c = gateway.client()
-- fail_fast: the first failure stops new creates (those already sent finish).
local r = c:apply(specs, {prefix = "fan-", concurrency = 8, wait = true, wait_interval = 1, fail_fast = true})
print(("%d gateways: %d created, %d unchanged, %d failed, %d not started"):format(
  #r.items, r.created, r.unchanged, r.failed, r.skipped))
for _, item in ipairs(r.items) do
  if not item.ok then print(item.name, item.error) end
end
