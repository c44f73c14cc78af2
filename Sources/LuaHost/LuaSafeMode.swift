/// `--safe`: the standard library cut down for scripts someone else wrote
/// (automation hooks). Nothing here can start a process, change or create a
/// file, read the environment (where tokens live), end the host, load native
/// code or bytecode, or reach into other functions' locals and upvalues.
/// docs/security.md lists what remains and why.
public enum LuaSafeMode {
    /// Functions replaced by one that raises "NAME is disabled by --safe",
    /// with the reason (the same list as docs/security.md).
    public static let removed: [(name: String, reason: String)] = [
        ("os.execute", "runs a shell command"),
        ("io.popen", "runs a shell command"),
        ("os.remove", "deletes files"),
        ("os.rename", "moves and overwrites files"),
        ("os.tmpname", "creates files"),
        ("io.tmpfile", "creates files"),
        ("os.exit", "ends the host without its cleanup (journal, lock, emulator)"),
        ("os.getenv", "the environment holds the API token and other secrets"),
        ("os.setlocale", "changes number formatting for the whole process"),
        ("package.loadlib", "loads native code"),
    ]

    /// Functions kept with a restriction, and the message a violation raises.
    public static let restricted: [(name: String, rule: String)] = [
        ("io.open", "read modes only (\"r\", \"rb\"): io.open for writing is disabled by --safe"),
        ("io.output", "no file name: io.output to a file is disabled by --safe"),
        ("load", "text chunks only: load of binary chunks is disabled by --safe"),
        ("loadfile", "text chunks only: loadfile of binary chunks is disabled by --safe"),
        ("dofile", "text chunks only: dofile of binary chunks is disabled by --safe"),
        ("require", "Lua modules from package.path only, as text; C modules are disabled by --safe"),
        ("debug", "debug.traceback only; debug.X is disabled by --safe"),
    ]

    /// Cuts the state's standard library down. Run after the libraries are
    /// open and before any script.
    public static func apply(to state: LuaState) throws {
        try state.load(prelude, name: "=(--safe)")
        // Swift stand-ins: a traceback shows `[C]: in function 'os.execute'`, not the sandbox's insides.
        var stubs = LuaTable()
        for (name, _) in removed {
            stubs[name] = .function(LuaFunction(name) { _ in throw LuaError.runtime("\(name) is disabled by --safe") })
        }
        try state.push(.table(stubs))
        try state.call(arguments: 1, results: 0)
    }

    // Lua closures hold the originals as upvalues; with debug.getupvalue gone
    // nothing can reach them.
    static let prelude = #"""
    local stubs = ...
    local error, type = error, type
    local function disabled(what, level) error(what .. " is disabled by --safe", level + 1) end
    for name, stub in pairs(stubs) do
      local lib, field = name:match("^(%w+)%.(%w+)$")
      _G[lib][field] = stub
    end

    local open, output = io.open, io.output
    io.open = function(name, mode, ...)
      if type(mode) == "string" and not mode:match("^rb?$") then disabled("io.open for writing", 2) end
      return open(name, mode, ...)
    end
    io.output = function(file, ...)
      if type(file) == "string" then disabled("io.output to a file", 2) end
      if file == nil then return output() end
      return output(file, ...)
    end

    -- Text only: a binary chunk would bypass the compiler's checks.
    local load, loadfile = load, loadfile
    local function binary(message) return type(message) == "string" and message:find("attempt to load a binary chunk", 1, true) end
    _G.load = function(chunk, name, mode, env)
      if type(mode) == "string" and not mode:find("t", 1, true) then disabled("load of binary chunks", 2) end
      local f, message = load(chunk, name, "t", env)
      if not f and binary(message) then disabled("load of binary chunks", 2) end
      return f, message
    end
    local function loadtext(name, env, what)
      local f, message
      if env == nil then f, message = loadfile(name, "t") else f, message = loadfile(name, "t", env) end
      if not f and binary(message) then disabled(what .. " of binary chunks", 3) end
      return f, message
    end
    _G.loadfile = function(name, mode, env)
      if type(mode) == "string" and not mode:find("t", 1, true) then disabled("loadfile of binary chunks", 2) end
      return loadtext(name, env, "loadfile")
    end
    _G.dofile = function(name)
      local f, message = loadtext(name, nil, "dofile")
      if not f then error(message, 2) end
      return f()
    end

    -- require: Lua files only, compiled as text; no C loaders.
    local searchpath, format = package.searchpath, string.format
    package.searchers[2] = function(name)
      local path, message = searchpath(name, package.path)
      if not path then return message end
      local f, problem = loadfile(path, "t")
      if not f then
        if binary(problem) then disabled("require of a binary chunk ('" .. path .. "')", 3) end
        error(format("error loading module '%s' from file '%s':\n\t%s", name, path, problem), 0)
      end
      return f, path
    end
    package.searchers[3], package.searchers[4] = nil, nil
    package.cpath = ""

    local safedebug = setmetatable({traceback = debug.traceback}, {
      __index = function(_, key)
        if type(key) == "string" then
          return function() disabled("debug." .. key, 2) end
        end
      end,
    })
    _G.debug = safedebug
    package.loaded.debug = safedebug
    """#
}
