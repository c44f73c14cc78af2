-- luacheck's view of gwlua's globals. In a project's .luacheckrc:
--   stds.gwlua = dofile("/path/to/gwlua/editor/luacheck-std.lua")
--   std = "lua54+gwlua"
-- Fields are listed, so luacheck flags a misspelled one (gateway.vaildate) too.
local function fields(names)
  local t = {}
  for _, name in ipairs(names) do t[name] = {} end
  return {fields = t}
end

return {
  read_globals = {
    gateway = fields{"new", "builder", "validate", "to_json", "client", "version"},
    json = fields{"encode", "decode", "array", "null"},
  },
}
