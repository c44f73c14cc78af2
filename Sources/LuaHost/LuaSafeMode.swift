#if canImport(Glibc)
import Glibc
#endif

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

    /// Cuts the state's standard library down, and confines every file read
    /// (io.open, io.lines, io.input, dofile, loadfile, require) to `reads`. Run
    /// after the libraries are open and before any script.
    public static func apply(to state: LuaState, reads: LuaReadPolicy) throws {
        try state.load(prelude, name: "=(--safe)")
        // Swift stand-ins: a traceback shows `[C]: in function 'os.execute'`, not the sandbox's insides.
        var stubs = LuaTable()
        for (name, _) in removed {
            stubs[name] = .function(LuaFunction(name) { _ in throw LuaError.runtime("\(name) is disabled by --safe") })
        }
        let readable = LuaFunction("readable") { call in
            switch reads.check(try call.string(1)) {
            case .success(let path):
                call.push(path)
                return 1
            case .failure(let reason):
                call.pushNil()
                call.push(reason.description)
                return 2
            }
        }
        try state.push(.table(stubs))
        try state.push(.function(readable))
        try state.call(arguments: 2, results: 0)
    }

    // Lua closures hold the originals as upvalues; with debug.getupvalue gone
    // nothing can reach them.
    static let prelude = #"""
    local stubs, readable = ...
    local error, type, tostring = error, type, tostring
    local function disabled(what, level) error(what .. " is disabled by --safe", level + 1) end
    for name, stub in pairs(stubs) do
      local lib, field = name:match("^(%w+)%.(%w+)$")
      _G[lib][field] = stub
    end

    -- Every read goes through the roots check, with the path resolved (symlinks, ..) first.
    local function confined(name, what, level)
      local path, why = readable(name)
      if not path then error(what .. " of '" .. tostring(name) .. "' is disabled by --safe: " .. why, level + 1) end
      return path
    end
    -- Errors name the file as the script did, not as it resolved.
    local function renamed(path, name, f, message, ...)
      local at = not f and type(message) == "string" and message:find(path, 1, true)
      if at then message = message:sub(1, at - 1) .. name .. message:sub(at + #path) end
      return f, message, ...
    end

    -- A refusal in the function's own convention: io.open and loadfile fail as for a
    -- file that cannot be read (nil, a message, and for io.open EACCES), so scripts
    -- that check their result go on; dofile, require, io.lines and io.input raise, as they
    -- do for any file they cannot read.
    local EACCES = 13
    local function denied(name, why) return nil, tostring(name) .. ": Permission denied (" .. why .. ")", EACCES end
    local open, output, input, lines = io.open, io.output, io.input, io.lines
    io.open = function(name, mode, ...)
      if type(mode) == "string" and not mode:match("^rb?$") then return denied(name, "io.open for writing is disabled by --safe") end
      if type(name) ~= "string" then return open(name, mode, ...) end
      local path, why = readable(name)
      if not path then return denied(name, "io.open of '" .. name .. "' is disabled by --safe: " .. why) end
      return renamed(path, name, open(path, mode, ...))
    end
    io.lines = function(name, ...)
      if name == nil then return lines() end
      if type(name) == "string" then name = confined(name, "io.lines", 2) end
      return lines(name, ...)
    end
    io.input = function(file, ...)
      if type(file) == "string" then file = confined(file, "io.input", 2) end
      if file == nil then return input() end
      return input(file, ...)
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
      local path = name
      if name ~= nil then
        local why
        path, why = readable(name)
        if not path then return nil, what .. " of '" .. tostring(name) .. "' is disabled by --safe: " .. why end
      end
      if env == nil then f, message = loadfile(path, "t") else f, message = loadfile(path, "t", env) end
      if not f and binary(message) then disabled(what .. " of binary chunks", 3) end
      if name ~= nil then return renamed(path, name, f, message) end
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

    -- require: Lua files only, compiled as text, from the readable roots only; no C loaders.
    -- The search probes only candidates inside the roots, so it cannot test for files elsewhere.
    local format, gsub, gmatch, concat = string.format, string.gsub, string.gmatch, table.concat
    local function searchpath(name, templates)
      local file = gsub(name, "%.", "/")
      local tried = {}
      for template in gmatch(templates, "[^;]+") do
        local candidate = gsub(template, "%?", file)
        local path, why = readable(candidate)
        if path then
          local f = open(path, "r")
          if f then f:close() return path end
          tried[#tried + 1] = "\n\tno file '" .. candidate .. "'"
        else
          tried[#tried + 1] = "\n\tno file '" .. candidate .. "' (" .. why .. ")"
        end
      end
      return nil, concat(tried)
    end
    package.searchpath = function(name, path, ...)
      if type(name) ~= "string" or type(path) ~= "string" then error("bad argument to 'searchpath' (strings expected)", 2) end
      return searchpath(name, path)
    end
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

/// Where `--safe` lets a script read: under its roots (the script's folder and
/// the working folder by default, more with `--allow-read`), after resolving
/// symlinks and `..`; never /proc, /sys or /dev, whatever the roots say (the
/// process's environment, file descriptors and terminals live there).
public struct LuaReadPolicy: Sendable {
    /// The roots, resolved.
    public let roots: [String]
    public static let neverReadable = ["/proc", "/sys", "/dev"]

    public init(roots: [String]) {
        var seen = Set<String>()
        self.roots = roots.map(Self.resolve).filter { seen.insert($0).inserted }
    }

    public struct Denied: Error, CustomStringConvertible {
        public let description: String
    }

    /// The resolved path when it may be read, else why not.
    public func check(_ path: String) -> Result<String, Denied> {
        guard !path.isEmpty, !path.utf8.contains(0) else { return .failure(Denied(description: "not a file name")) }
        let resolved = Self.resolve(path)
        if let area = Self.neverReadable.first(where: { Self.contains($0, resolved) }) {
            return .failure(Denied(description: "\(area) is never readable (it resolves to \(resolved))"))
        }
        guard roots.contains(where: { Self.contains($0, resolved) }) else {
            return .failure(Denied(description: "it resolves to \(resolved), outside the readable roots ("
                + roots.joined(separator: ", ") + "); add a root with --allow-read"))
        }
        return .success(resolved)
    }

    static func contains(_ root: String, _ path: String) -> Bool {
        root == "/" || path == root || path.hasPrefix(root + "/")
    }

    /// An absolute path with every symlink and `..` resolved: the longest prefix
    /// that exists goes through realpath(3); the rest (which cannot hold a
    /// symlink, since it does not exist) is resolved by its words.
    public static func resolve(_ path: String) -> String {
        var absolute = path
        if !path.hasPrefix("/") {
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let cwd = getcwd(&buffer, buffer.count).map { _ in String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) } ?? "/"
            absolute = cwd + "/" + path
        }
        var head = absolute
        var rest: [Substring] = []
        while true {
            if let real = realpath(head, nil) {
                defer { free(real) }
                var parts = String(cString: real).split(separator: "/")
                for word in rest.reversed() {
                    if word == ".." { if !parts.isEmpty { parts.removeLast() } } else if word != "." && !word.isEmpty { parts.append(word) }
                }
                return "/" + parts.joined(separator: "/")
            }
            guard let slash = head.lastIndex(of: "/") else { return absolute }
            rest.append(head[head.index(after: slash)...])
            head = slash == head.startIndex ? "/" : String(head[..<slash])
        }
    }
}
