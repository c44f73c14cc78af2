-- The examples are checked as users' scripts are: Lua 5.4 plus gwlua's globals.
stds.gwlua = dofile("editor/luacheck-std.lua")
std = "lua54+gwlua"
