import GatewayKit

/// The fleet commands (plan, apply, export, list, get, delete) as one Lua script
/// built into gwlua. It runs through the same runner as `gwlua run` and speaks only
/// the public Lua API, so the commands share run's options, limits, lock, journal,
/// JSON events and exit codes, and do nothing a user's script could not.
/// Its one argument is a JSON object the command line builds (FleetCommand.swift).
enum FleetDriver {
    /// A shape's field names in declared order, as a Lua list (what only the API sets left out).
    static func luaFieldOrder(_ record: ShapeRecord) -> String {
        let names: [String] = record.fields.filter { $0.access != .answerOnly && $0.name != "id" }.map { "\"\($0.name)\"" }
        return "{" + names.joined(separator: ", ") + "}"
    }

    /// A shape's declared fields as a Lua table: `true` for a plain field, a table of the record's fields for a record.
    static func luaDeclared(_ record: ShapeRecord) -> String {
        let entries: [String] = record.fields.map { (field: ShapeField) -> String in
            guard let sub = field.record else { return "\(field.name) = true" }
            let inner: [String] = sub.fields.map { "\($0.name) = true" }
            return "\(field.name) = {" + inner.joined(separator: ", ") + "}"
        }
        return "{" + entries.joined(separator: ", ") + "}"
    }

    /// Every kind's field order and declared fields, keyed by the kind's fleet key.
    static let luaShapes: String = {
        let entries = ResourceKind.allCases.map { kind in
            "\(kind.fleetKey) = {order = \(luaFieldOrder(kind.shape)), declared = \(luaDeclared(kind.shape))}"
        }
        return "{\n  " + entries.joined(separator: ",\n  ") + ",\n}"
    }()

    static let source = #"""
local o = json.decode((...))
local program = "gwlua " .. o.command
local USAGE, INVALID, FAILURE = 64, 65, 1

local function say(...)
  io.stderr:write(program, ": ", ...)
  io.stderr:write("\n")
end

local function names(list)
  local out = {}
  for i, v in ipairs(list) do out[i] = "'" .. v .. "'" end
  return table.concat(out, ", ")
end

-- A fleet file returns a list of gateway specs, or
-- {gateways = {...}, deployments = {...}, capacity_claims = {...}, prefix =, prune =}.
local SHAPE = 'a fleet file returns a list of specs or {gateways = {...}, deployments = {...}, capacity_claims = {...}, prefix = "team-", prune = true}'
local KINDS = {"gateways", "deployments", "capacity_claims"}
local KNOWN = {gateways = true, deployments = true, capacity_claims = true, prefix = true, prune = true}
local function load_fleet(path)
  local wanted = dofile(path)
  if type(wanted) ~= "table" then
    return nil, ("%s returned %s; %s"):format(path, type(wanted), SHAPE)
  end
  if wanted.gateways == nil and wanted.deployments == nil and wanted.capacity_claims == nil then
    if wanted.name ~= nil then return nil, ("%s returned a single spec; %s"):format(path, SHAPE) end
    for k in pairs(wanted) do
      if math.type(k) ~= "integer" then
        return nil, ("%s: unknown key '%s' in the fleet table (known: capacity_claims, deployments, gateways, prefix, prune); %s")
          :format(path, tostring(k), SHAPE)
      end
    end
    return {specs = wanted}
  end
  for k in pairs(wanted) do
    if not KNOWN[k] then
      return nil, ("%s: unknown key '%s' in the fleet table (known: capacity_claims, deployments, gateways, prefix, prune)")
        :format(path, tostring(k))
    end
  end
  for _, key in ipairs(KINDS) do
    if wanted[key] ~= nil and type(wanted[key]) ~= "table" then
      return nil, ("%s: %s must be a list of specs, got %s"):format(path, key, type(wanted[key]))
    end
  end
  if wanted.prefix ~= nil and (type(wanted.prefix) ~= "string" or wanted.prefix == "") then
    return nil, ("%s: prefix must be a non-empty string, got %s"):format(path, type(wanted.prefix))
  end
  if wanted.prune ~= nil and type(wanted.prune) ~= "boolean" then
    return nil, ("%s: prune must be true or false, got %s"):format(path, type(wanted.prune))
  end
  local specs = wanted.gateways
  if wanted.deployments ~= nil or wanted.capacity_claims ~= nil then
    -- All three kinds: each kind the file names is managed (and pruned with prune); the others are left alone.
    specs = {gateways = wanted.gateways, deployments = wanted.deployments, capacity_claims = wanted.capacity_claims}
  end
  return {specs = specs, prefix = wanted.prefix, prune = wanted.prune}
end

local function short_status(g)
  return ((g.status.status or "STATUS_UNSPECIFIED"):gsub("^STATUS_", ""))
end

local function live(gateways, prefix)
  local out = {}
  for _, g in ipairs(gateways) do
    if g.status.status ~= "STATUS_DELETING" and (not prefix or g.spec.name:sub(1, #prefix) == prefix) then
      out[#out + 1] = g
    end
  end
  table.sort(out, function(a, b)
    if a.spec.name ~= b.spec.name then return a.spec.name < b.spec.name end
    local x, y = a.status.createdAt or "", b.status.createdAt or ""
    if x ~= y then return x < y end
    return (a.spec.id or "") < (b.spec.id or "")
  end)
  return out
end

-- Writes `text` to `path` whole or not at all.
local function write_file(path, text)
  local tmp = path .. ".tmp"
  local f, err = io.open(tmp, "w")
  if not f then return nil, err end
  local ok, werr = f:write(text)
  f:close()
  if not ok then os.remove(tmp) return nil, werr end
  local renamed, rerr = os.rename(tmp, path)
  if not renamed then os.remove(tmp) return nil, rerr end
  return true
end

local function confirm(question)
  io.write(question, ' Only "yes" is accepted: ')
  io.flush()
  return io.read("l") == "yes"
end

local commands = {}

function commands.plan()
  local fleet, problem = load_fleet(o.fleet)
  if not fleet then say(problem) return INVALID end
  local scope = {prune = o.prune or fleet.prune or false, prefix = fleet.prefix, target = o.targets}
  local p = gateway.client():plan(fleet.specs, scope)
  if o.json then p:show{json = true} else p:show() end
  if o.out then
    local saved = {
      format = "gwlua-plan/1", fleet = o.fleet, endpoint = o.endpoint, made_at = os.date("!%Y-%m-%dT%H:%M:%SZ"),
      prune = scope.prune, target = o.targets, fingerprint = p.fingerprint, changes = p.changes, summary = p.summary,
      text = p.text,
    }
    local ok, err = write_file(o.out, json.encode(saved, {pretty = true}) .. "\n")
    if not ok then say("cannot save the plan: ", err) return FAILURE end
    say("saved the plan to ", o.out, "; to make exactly these changes: gwlua apply ", o.out)
  end
  if o.detailed and p.changes then return 2 end
  return 0
end

function commands.apply()
  local saved = o.saved
  local fleet, problem = load_fleet(saved and saved.fleet or o.fleet)
  if not fleet then say(problem) return INVALID end
  local scope = saved and {prune = saved.prune, prefix = fleet.prefix, target = saved.target}
    or {prune = o.prune or fleet.prune or false, prefix = fleet.prefix, target = o.targets}
  local c = gateway.client()
  local expect = saved and saved.fingerprint
  if not saved then
    local p = c:plan(fleet.specs, scope)
    if not p.changes then
      if o.json then p:show{json = true} else p:show() end
      return 0
    end
    if not o.dry_run then
      if not o.yes then
        p:show()
        io.write("\n")
        if not confirm("Apply these changes?") then
          say("apply cancelled; nothing was changed")
          return FAILURE
        end
      elseif not o.json then
        p:show()
      end
      -- What was shown (and confirmed) is what is applied, or nothing is.
      expect = p.fingerprint
    end
  end
  c:apply(fleet.specs, {prune = scope.prune, prefix = scope.prefix, target = scope.target, expect = expect,
                        wait = o.wait, concurrency = o.concurrency})
  return 0
end

-- Lua source for a value, keys in `order` first, then sorted; `indent` is the current depth.
-- From the declared shape (GatewayShape): the field order, and which fields gwlua knows.
local SHAPES = \#(luaShapes)
local FIELD_ORDER = SHAPES.gateways.order
local function lua_key(k)
  if type(k) == "string" and k:match("^[%a_][%w_]*$") then return k end
  return "[" .. string.format("%q", k) .. "]"
end
local function source(value, indent, order)
  if type(value) == "string" then return string.format("%q", value) end
  if type(value) ~= "table" then return tostring(value) end
  if getmetatable(value) and getmetatable(value).__lua_source then return getmetatable(value).__lua_source end
  if next(value) == nil then return "{}" end
  local pad = string.rep("  ", indent + 1)
  if #value > 0 then
    local parts = {}
    for i, v in ipairs(value) do parts[i] = source(v, indent + 1) end
    local one = "{" .. table.concat(parts, ", ") .. "}"
    if #one < 72 then return one end
    return "{\n" .. pad .. table.concat(parts, ",\n" .. pad) .. ",\n" .. string.rep("  ", indent) .. "}"
  end
  local keys, seen = {}, {}
  for _, k in ipairs(order or {}) do
    if value[k] ~= nil then keys[#keys + 1] = k seen[k] = true end
  end
  local rest = {}
  for k in pairs(value) do if not seen[k] then rest[#rest + 1] = k end end
  table.sort(rest, function(a, b) return tostring(a) < tostring(b) end)
  for _, k in ipairs(rest) do keys[#keys + 1] = k end
  local lines, inline = {}, {}
  for i, k in ipairs(keys) do
    local text = source(value[k], indent + 1)
    lines[i] = pad .. lua_key(k) .. " = " .. text .. ","
    inline[i] = lua_key(k) .. " = " .. text
  end
  -- A small record of plain values reads best on one line: {apiType = "API_TYPE_OPENAI"}.
  local one = "{" .. table.concat(inline, ", ") .. "}"
  if indent > 1 and #one < 60 and not one:find("\n") and not one:find("{", 2, true) then return one end
  return "{\n" .. table.concat(lines, "\n") .. "\n" .. string.rep("  ", indent) .. "}"
end

-- An environment variable name for a gateway's W&B apiKey (the API never returns the key).
local function key_variable(name)
  return "WANDB_API_KEY_" .. name:upper():gsub("[^%w]", "_")
end

-- The fields of `spec` gwlua does not know, taken out of it as `path = value` lines (sorted):
-- updates keep them anyway, and a fleet file with them would not be a valid spec.
local function take_unknown(spec, declared)
  local unknown = {}
  for k, v in pairs(spec) do
    if declared[k] == nil then
      unknown[#unknown + 1] = ("%s = %s"):format(k, source(v, 3))
      spec[k] = nil
    elseif type(declared[k]) == "table" and type(v) == "table" then
      for sub, value in pairs(v) do
        if declared[k][sub] == nil then
          unknown[#unknown + 1] = ("%s.%s = %s"):format(k, sub, source(value, 3))
          v[sub] = nil
        end
      end
    end
  end
  table.sort(unknown)
  return unknown
end

local function kept_comment(unknown)
  if #unknown == 0 then return "" end
  return "    -- kept by the API, not known to gwlua (updates send them back unchanged):\n    --   "
    .. table.concat(unknown, "\n    --   ") .. "\n"
end

-- A deployment's or claim's list, or nil with a comment when the API does not offer the kind.
local function list_kind(c, method, what)
  local ok, items = pcall(c[method], c)
  if ok then return items end
  if type(items) == "table" and (items.code == "NOT_FOUND" or items.code == "UNIMPLEMENTED" or items.code == "PERMISSION_DENIED") then
    return nil, ("-- %s: not exported (%s: %s)"):format(what, items.code, items.message)
  end
  error(items, 0)
end

function commands.export()
  local c = gateway.client()
  local all = live(c:list(), o.prefix)
  local kept, others, variables, kept_unknown = {}, {}, {}, {}
  local names_by_id = {}
  for _, g in ipairs(all) do
    local name = g.spec.name
    if kept[#kept] and kept[#kept].name == name then
      others[#others + 1] = ("-- %s (id %s) has the name of an older gateway; it is left out (a plan with prune deletes it)"):format(name, g.spec.id or "?")
    else
      names_by_id[(g.spec.id or ""):lower()] = name
      local spec = {}
      for k, v in pairs(g.spec) do
        if k ~= "id" and k ~= "organizationId" then spec[k] = v end
      end
      local unknown = take_unknown(spec, SHAPES.gateways.declared)
      if spec.zones then table.sort(spec.zones) end
      local e = spec.endpointConfiguration
      if e then
        -- Sorted: a server may list them in any order, and the file must not change with it.
        for _, key in ipairs{"additionalDns", "allowedSourceIpRanges"} do
          if e[key] and #e[key] == 0 then e[key] = nil elseif e[key] then table.sort(e[key]) end
        end
        if next(e) == nil then spec.endpointConfiguration = nil end
      end
      kept_unknown[#kept + 1] = kept_comment(unknown)
      local wandb = spec.weightsAndBiasesAuth
      if wandb then
        local variable = key_variable(name)
        variables[#variables + 1] = variable
        wandb.apiKey = setmetatable({}, {__lua_source = ('os.getenv("%s")'):format(variable)})
      end
      kept[#kept + 1] = spec
    end
  end
  -- Deployments name their gateways by name where the export has them; claims as they are.
  local sections, counts = {}, {}
  for _, kind in ipairs{{key = "capacity_claims", method = "list_capacity_claims", what = "capacity claims", set = {"resources", "zones"}},
                        {key = "deployments", method = "list_deployments", what = "deployments", set = {"gatewayIds"}}} do
    local items, note = list_kind(c, kind.method, kind.what)
    if note then others[#others + 1] = note end
    local body, last = {}, nil
    for _, r in ipairs(live(items or {}, o.prefix)) do
      if r.spec.name == last then
        others[#others + 1] = ("-- %s (id %s) has the name of an older one; it is left out"):format(r.spec.name, r.spec.id or "?")
      else
        last = r.spec.name
        local spec = {}
        for k, v in pairs(r.spec) do
          if k ~= "id" and k ~= "organizationId" then spec[k] = v end
        end
        local unknown = take_unknown(spec, SHAPES[kind.key].declared)
        if spec.gatewayIds then
          for i, id in ipairs(spec.gatewayIds) do spec.gatewayIds[i] = names_by_id[id:lower()] or id end
        end
        local set = kind.set[2] and spec[kind.set[1]] and spec[kind.set[1]][kind.set[2]] or spec[kind.set[1]]
        if type(set) == "table" then table.sort(set) end
        body[#body + 1] = kept_comment(unknown) .. "    " .. source(spec, 2, SHAPES[kind.key].order) .. ","
      end
    end
    counts[kind.key] = #body
    if #body > 0 then sections[#sections + 1] = ("  %s = {\n%s\n  },"):format(kind.key, table.concat(body, "\n")) end
  end
  local extra = ""
  if counts.deployments > 0 or counts.capacity_claims > 0 then
    extra = (", %d deployment%s, %d capacity claim%s"):format(counts.deployments, counts.deployments == 1 and "" or "s",
                                                          counts.capacity_claims, counts.capacity_claims == 1 and "" or "s")
  end
  local lines = {
    ("-- Exported by gwlua from %s: %d gateway%s%s%s."):format(o.endpoint_shown, #kept, #kept == 1 and "" or "s", extra,
                                                             o.prefix and (" named " .. o.prefix .. "…") or ""),
    "-- Check it with `gwlua plan` on this file: it says No changes until you edit it.",
  }
  if #variables > 0 then
    lines[#lines + 1] = "-- The API never returns W&B apiKeys: set " .. table.concat(variables, ", ") .. " before a create."
  end
  for _, line in ipairs(others) do lines[#lines + 1] = line end
  local body = {}
  for i, spec in ipairs(kept) do body[i] = (kept_unknown[i] or "") .. "    " .. source(spec, 2, FIELD_ORDER) .. "," end
  lines[#lines + 1] = "return {"
  if o.prefix then lines[#lines + 1] = ("  prefix = %q,"):format(o.prefix) end
  lines[#lines + 1] = #kept == 0 and "  gateways = {}," or "  gateways = {\n" .. table.concat(body, "\n") .. "\n  },"
  for _, section in ipairs(sections) do lines[#lines + 1] = section end
  lines[#lines + 1] = "}"
  local text = table.concat(lines, "\n") .. "\n"
  if o.out then
    local ok, err = write_file(o.out, text)
    if not ok then say("cannot write ", o.out, ": ", err) return FAILURE end
    say(("wrote %d gateway%s%s to %s"):format(#kept, #kept == 1 and "" or "s", extra, o.out))
  else
    io.write(text)
  end
  return 0
end

local function row(g)
  return {g.spec.name, g.spec.id or "", table.concat(g.spec.zones or {}, ","), short_status(g),
          table.concat(g.status.endpoints or {}, ",")}
end

local function print_table(rows)
  local header = {"NAME", "ID", "ZONES", "STATUS", "ENDPOINT"}
  local widths = {}
  for i, h in ipairs(header) do widths[i] = #h end
  for _, r in ipairs(rows) do
    for i, cell in ipairs(r) do widths[i] = math.max(widths[i], utf8.len(cell) or #cell) end
  end
  local function line(cells)
    local parts = {}
    for i, cell in ipairs(cells) do
      parts[i] = i < #cells and cell .. string.rep(" ", widths[i] - (utf8.len(cell) or #cell)) or cell
    end
    print((table.concat(parts, "   "):gsub("%s+$", "")))
  end
  line(header)
  for _, r in ipairs(rows) do line(r) end
end

function commands.list()
  local all = live(gateway.client():list(), o.prefix)
  if o.json then
    print(json.encode(json.array(all)))
  else
    local rows = {}
    for i, g in ipairs(all) do rows[i] = row(g) end
    if #rows == 0 then say("no gateways", o.prefix and (" named " .. o.prefix .. "…") or "") return 0 end
    print_table(rows)
  end
  return 0
end

-- The gateway a word names: an id, else a unique name.
local function find(c, word)
  if word:match("^%x%x%x%x%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%x%x%x%x%x%x%x%x$") then
    local ok, g = pcall(c.get, c, word)
    if ok then return g end
    if type(g) ~= "table" or g.code ~= "NOT_FOUND" then error(g, 0) end
  end
  local matches = {}
  for _, g in ipairs(live(c:list())) do
    if g.spec.name == word then matches[#matches + 1] = g end
  end
  if #matches == 0 then return nil, FAILURE, ("no gateway has the id or name '%s'"):format(word) end
  if #matches > 1 then
    local ids = {}
    for i, g in ipairs(matches) do ids[i] = g.spec.id end
    return nil, USAGE, ("%d gateways are named '%s' (%s); give the id"):format(#matches, word, table.concat(ids, ", "))
  end
  return matches[1]
end

local function show_gateway(g)
  if o.json then print(json.encode(g)) return end
  local r = row(g)
  print(("%s (id %s): %s in %s"):format(r[1], r[2], r[4], r[3]))
  if #g.status.endpoints > 0 then print("  endpoints: " .. table.concat(g.status.endpoints, ", ")) end
  for _, condition in ipairs(g.status.conditions or {}) do
    print(("  %s %s%s%s"):format(condition.type or "?", condition.status or "?",
      condition.reason and (" (" .. condition.reason .. ")") or "", condition.message and (": " .. condition.message) or ""))
  end
  local spec = {}
  for k, v in pairs(g.spec) do if k ~= "id" and k ~= "name" then spec[k] = v end end
  print("  spec = " .. source(spec, 1, FIELD_ORDER))
end

function commands.get()
  local g, status, message = find(gateway.client(), o.word)
  if not g then say(message) return status end
  show_gateway(g)
  return 0
end

function commands.delete()
  local c = gateway.client()
  local g, status, message = find(c, o.word)
  if not g then say(message) return status end
  local what = ("%s (id %s, %s)"):format(g.spec.name, g.spec.id, short_status(g))
  if o.dry_run then say("would delete ", what, "; --dry-run changes nothing") return 0 end
  if not o.yes and not confirm(("Delete gateway %s?"):format(what)) then
    say("delete cancelled; nothing was changed")
    return FAILURE
  end
  local deleting = c:delete(g.spec.id, {wait = o.wait})
  if o.json then
    print(json.encode({event = "deleted", name = g.spec.name, id = g.spec.id, gone = o.wait or false,
                       status = deleting and deleting.status.status or json.null}))
  else
    say(o.wait and "deleted " or "deleting ", g.spec.name, " (id ", g.spec.id, ")",
        o.wait and "" or "; it is gone once the API finishes (--wait waits for that)")
  end
  return 0
end

return commands[o.command]()
"""#
}
