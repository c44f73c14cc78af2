-- One gateway per zone with the fluent builder: the same settings fanned out
-- across zones, each with its own DNS name.
-- Run: gwlua run scripts/examples/zones-fanout.lua [prefix]

local prefix = ... or "llm"
local zones = {"US-EAST-04A", "US-EAST-06A", "US-WEST-04A", "US-CENTRAL-07A", "EU-SOUTH-04A"}

local specs = {}
for _, zone in ipairs(zones) do
  local name = ("%s-%s"):format(prefix, zone:lower())
  specs[#specs + 1] = gateway.builder(name)
    :zone(zone)
    :coreweave_auth()
    :header_routing("X-Model")
    :additional_dns(name .. ".models.example.com")
    :build{zones = zones}
end

for _, s in ipairs(specs) do print(s) end
print(json.encode(specs[1], {pretty = true}))

-- A builder refuses a second routing at the line that asks for it:
local ok, err = pcall(function()
  return gateway.builder("twice"):zone("US-EAST-04A"):coreweave_auth():path_routing():body_routing()
end)
print("second routing:", ok and "accepted?!" or err)
