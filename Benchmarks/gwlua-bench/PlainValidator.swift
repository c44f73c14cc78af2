/// The peer `scripts/bench specs` measures gateway.new against: the same rules
/// written in plain Lua the way a user would (string patterns, table walks), with a
/// fresh spec table returned.
let plainLuaValidator = #"""
local known = {id = true, name = true, zones = true, coreWeaveAuth = true, weightsAndBiasesAuth = true,
               endpointConfiguration = true, bodyBasedRouting = true, headerBasedRouting = true, pathBasedRouting = true}
local allowedZones = {}
for _, z in ipairs(ZONES) do allowedZones[z:upper()] = z end

local function dnsName(s)
  if #s == 0 or #s > 253 then return false end
  s = s:gsub("^%*%.", ""):gsub("%.$", "")
  for label in (s .. "."):gmatch("([^.]*)%.") do
    if #label == 0 or #label > 63 or label:find("^%-") or label:find("%-$") or label:find("[^%w%-]") then return false end
  end
  return true
end

local function copyList(t)
  local out = {}
  for i = 1, #t do out[i] = t[i] end
  return out
end

function plainValidate(t)
  local errors = {}
  for k in pairs(t) do if not known[k] then errors[#errors + 1] = "unknown field " .. tostring(k) end end
  local name = t.name
  if type(name) ~= "string" or name == "" or #name > 38 or name:find("^%s") or name:find("%s$") then errors[#errors + 1] = "name" end
  if t.id ~= nil and (type(t.id) ~= "string" or not t.id:find("^%x%x%x%x%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%x%x%x%x%x%x%x%x$")) then
    errors[#errors + 1] = "id"
  end
  local zones = {}
  if type(t.zones) ~= "table" then errors[#errors + 1] = "zones" else
    for i, z in ipairs(t.zones) do
      local canonical = type(z) == "string" and allowedZones[z:upper()]
      if not canonical then errors[#errors + 1] = "zones[" .. i .. "]" else zones[i] = canonical end
    end
  end
  local auths = (t.coreWeaveAuth ~= nil and 1 or 0) + (t.weightsAndBiasesAuth ~= nil and 1 or 0)
  if auths ~= 1 then errors[#errors + 1] = "auth" end
  local routings = (t.bodyBasedRouting ~= nil and 1 or 0) + (t.headerBasedRouting ~= nil and 1 or 0) + (t.pathBasedRouting ~= nil and 1 or 0)
  if routings ~= 1 then errors[#errors + 1] = "routing" end
  if t.bodyBasedRouting ~= nil and t.bodyBasedRouting.apiType ~= "API_TYPE_OPENAI" then errors[#errors + 1] = "apiType" end
  if t.headerBasedRouting ~= nil then
    local h = t.headerBasedRouting.headerName
    if type(h) ~= "string" or #h < 1 or #h > 100 then errors[#errors + 1] = "headerName" end
  end
  local dns = {}
  if t.endpointConfiguration ~= nil then
    for i, d in ipairs(t.endpointConfiguration.additionalDns or {}) do
      if type(d) ~= "string" or not dnsName(d) then errors[#errors + 1] = "additionalDns[" .. i .. "]" end
      dns[i] = d
    end
  end
  if #errors > 0 then error(table.concat(errors, "; ")) end
  local spec = {name = name, zones = zones, id = t.id}
  if t.coreWeaveAuth then spec.coreWeaveAuth = {} end
  if t.weightsAndBiasesAuth then spec.weightsAndBiasesAuth = {serverUrl = t.weightsAndBiasesAuth.serverUrl} end
  if t.bodyBasedRouting then spec.bodyBasedRouting = {apiType = t.bodyBasedRouting.apiType} end
  if t.headerBasedRouting then spec.headerBasedRouting = {headerName = t.headerBasedRouting.headerName} end
  if t.pathBasedRouting then spec.pathBasedRouting = {} end
  if t.endpointConfiguration then spec.endpointConfiguration = {additionalDns = dns} end
  return spec
end
"""#
