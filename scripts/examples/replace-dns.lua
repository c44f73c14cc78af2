-- DNS names and replaces. The API merges DNS names on update, so removing one
-- needs the gateway replaced: the plan says so (a "!" note) instead of
-- planning an update that would change nothing, and replace = true creates the
-- new gateway, waits for READY, then deletes the old one.
-- Run: gwlua run --local scripts/examples/replace-dns.lua

local c = gateway.client()
local function spec(dns)
  return gateway.builder("dns-demo"):zone("US-EAST-04A"):coreweave_auth():path_routing()
    :additional_dns(table.unpack(dns))
    :allowed_source_ip_ranges("203.0.113.0/24", "2001:db8::/32")
    :build()
end

-- Two names, then one of them removed.
c:apply({spec{"a.example.com", "b.example.com"}}, {wait = true, wait_interval = 0.2})
local wanted = {spec{"a.example.com"}}
local p = c:plan(wanted)
p:show()                                    -- "! dns-demo: … keeps ["b.example.com"] …"
assert(#p.update == 0 and #p.notes == 1)

local r = c:apply(wanted, {replace = true, wait = true, wait_interval = 0.2})
print(("replaced %d (old gateway %s, now %s)"):format(r.replaced, r.items[1].replaced_id, r.items[1].id))
assert(not c:plan(wanted).notes[1])         -- converged: nothing left to say

-- Clean up, waiting until the API answers 404 for each.
for _, g in ipairs(c:list()) do
  if g.spec.name == "dns-demo" and g.status.status ~= "STATUS_DELETING" then
    c:delete(g.spec.id, {wait = true, interval = 0.2})
  end
end
