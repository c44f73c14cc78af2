-- Edge proxy mode, and what an update keeps. A gateway reached through
-- CoreWeave's managed edge (the default) or directly (EDGE_PROXY_MODE_DIRECT).
-- A spec that leaves a field out does not manage it: plans never change it,
-- and updates send back what the gateway holds, so a setting made by another
-- tool (or by a newer API) is never reset by gwlua.
-- Run: gwlua run --local scripts/examples/edge-proxy.lua

local c = gateway.client()

-- Made DIRECT, with a restricted source range, by the builder.
local direct = gateway.builder("edge-demo"):zone("US-EAST-04A"):coreweave_auth():body_routing()
  :edge_proxy_mode("EDGE_PROXY_MODE_DIRECT"):allowed_source_ip_ranges("203.0.113.0/24")
  :build()
c:apply({direct}, {wait = true, wait_interval = 0.2})

-- Another team's fleet file names the gateway without the mode or the ranges,
-- and adds a DNS name: the plan changes only that, and the update keeps the rest.
local theirs = {name = "edge-demo", zones = {"us-east-04a"}, coreWeaveAuth = {},
                bodyBasedRouting = {apiType = "API_TYPE_OPENAI"},
                endpointConfiguration = {additionalDns = {"edge.example.com"}}}
local p = c:plan({theirs})
p:show()
assert(#p.update == 1 and #p.update[1].changes == 1, "only the DNS name changes")
c:apply({theirs}, {wait = true, wait_interval = 0.2})

local g
for _, each in ipairs(c:list()) do
  if each.spec.name == "edge-demo" and each.status.status ~= "STATUS_DELETING" then g = each end
end
print(g.spec.name, g.spec.endpointConfiguration.edgeProxyMode, g.spec.endpointConfiguration.allowedSourceIpRanges[1],
      g.spec.endpointConfiguration.additionalDns[1])
assert(g.spec.endpointConfiguration.edgeProxyMode == "EDGE_PROXY_MODE_DIRECT")

-- Read, edit, send back: the same holds for c:update.
local s = g.spec
s.endpointConfiguration.edgeProxyMode = "EDGE_PROXY_MODE_MANAGED"   -- set it to change it
print(c:update(s.id, s).spec.endpointConfiguration.edgeProxyMode)

c:delete(s.id, {wait = true, interval = 0.2})
