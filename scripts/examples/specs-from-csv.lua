-- Build gateway specs from a CSV file, validate every row, and print the
-- CreateGateway JSON of the valid ones. Rows with problems are reported with
-- their line number and field path; nothing is sent anywhere.
-- Run: gwlua run scripts/examples/specs-from-csv.lua [file.csv]

local here = (arg and arg[0] or ""):match("^(.*)/[^/]*$") or "."
local path = ... or (here .. "/gateways.csv")

-- A small CSV reader: commas, double-quoted fields, "" for a quote.
local function parse_line(line)
  local fields, i = {}, 1
  while i <= #line + 1 do
    if line:sub(i, i) == '"' then
      local value, j = "", i + 1
      while true do
        local q = line:find('"', j, true)
        if not q then error(("unterminated quote in %q"):format(line)) end
        value = value .. line:sub(j, q - 1)
        if line:sub(q + 1, q + 1) == '"' then value, j = value .. '"', q + 2 else i = q + 2 break end
      end
      fields[#fields + 1] = value
    else
      local comma = line:find(",", i, true) or (#line + 1)
      fields[#fields + 1] = line:sub(i, comma - 1)
      i = comma + 1
    end
  end
  return fields
end

local file = assert(io.open(path))
local header = parse_line(file:read("l"))
local known_zones = {"US-EAST-04A", "US-WEST-04A", "US-CENTRAL-07A"}  -- a client's c:parameters().zones later

local specs, bad, line_no = {}, 0, 1
for line in file:lines() do
  line_no = line_no + 1
  if line:match("%S") then
    local row = {}
    for i, v in ipairs(parse_line(line)) do row[header[i]] = v end
    local t = {name = row.name, zones = {row.zone}}
    if row.auth == "coreweave" then t.coreWeaveAuth = {} end
    if row.routing == "body" then t.bodyBasedRouting = {apiType = "API_TYPE_OPENAI"}
    elseif row.routing == "header" then t.headerBasedRouting = {headerName = row.header}
    elseif row.routing == "path" then t.pathBasedRouting = {} end
    if row.dns ~= "" then
      local names = {}
      for name in row.dns:gmatch("[^;]+") do names[#names + 1] = name end
      t.endpointConfiguration = {additionalDns = names}
    end

    local ok, issues = gateway.validate(t, {zones = known_zones})
    for _, issue in ipairs(issues) do
      io.stderr:write(("%s:%d: %s: %s: %s\n"):format(path, line_no, issue.severity, issue.path, issue.message))
    end
    if ok then
      specs[#specs + 1] = gateway.new(t, {zones = known_zones})  -- zones normalised to the list's spelling
    else
      bad = bad + 1
    end
  end
end
file:close()

for _, s in ipairs(specs) do print(gateway.to_json(s)) end
print(("%d valid, %d with errors"):format(#specs, bad))
