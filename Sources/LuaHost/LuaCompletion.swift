import CLua
import Synchronization

/// Tab completion over a live state: keywords, globals, `t.field` and
/// `t:method`, following tables and metatable `__index` tables. Everything is
/// read raw (lua_rawget, lua_getmetatable), so completing never runs user code.
public enum Completion {
    static let keywords: Set<String> = ["and", "break", "do", "else", "elseif", "end", "false", "for", "function", "goto",
                                        "if", "in", "local", "nil", "not", "or", "repeat", "return", "then", "true", "until", "while"]

    /// Words a binding adds to what a bare word completes to (the spec's field names,
    /// so `gateway.new{edgeP` completes inside a table constructor).
    private static let words = Mutex<Set<String>>([])

    public static func add(words more: some Sequence<String>) { words.withLock { $0.formUnion(more) } }

    /// Candidates that complete `word` (an identifier path such as `gateway.bu` or `c:cr`), whole words, sorted.
    public static func candidates(for word: String, in L: OpaquePointer) -> [String] {
        let top = lua_gettop(L)
        defer { lua_settop(L, top) }
        guard lua_checkstack(L, 8) != 0 else { return [] }
        // Split at the last '.' or ':'; everything before must be a path of names.
        guard let cut = word.lastIndex(where: { $0 == "." || $0 == ":" }) else {
            lua_rawgeti(L, gwlua_registryindex(), lua_Integer(LUA_RIDX_GLOBALS))
            var names = fields(of: -1, in: L, methods: false)
            names.formUnion(keywords)
            names.formUnion(words.withLock { $0 })
            return names.filter { $0.hasPrefix(word) }.sorted()
        }
        let base = word[..<cut], partial = String(word[word.index(after: cut)...])
        let isMethod = word[cut] == ":"
        let path = base.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard path.allSatisfy({ PrettyPrinter.isIdentifier($0) }) else { return [] }
        lua_rawgeti(L, gwlua_registryindex(), lua_Integer(LUA_RIDX_GLOBALS))
        for name in path {
            guard lookup(name, in: L) else { return [] }
        }
        return fields(of: -1, in: L, methods: isMethod).filter { $0.hasPrefix(partial) }.sorted()
            .map { base + (isMethod ? ":" : ".") + $0 }
    }

    /// Replaces the value on top with its field `name` (raw, then through
    /// `__index` tables); false when there is none.
    private static func lookup(_ name: String, in L: OpaquePointer) -> Bool {
        var hops = 0
        while hops < 8 {
            hops += 1
            if lua_type(L, -1) == LUA_TTABLE {
                lua_pushstring(L, name)
                lua_rawget(L, -2)
                if lua_type(L, -1) != LUA_TNIL {
                    lua_rotate(L, -2, 1)
                    gwlua_pop(L, 1)
                    return true
                }
                gwlua_pop(L, 1)
            }
            // Follow a metatable's __index when it is a table.
            guard lua_getmetatable(L, -1) != 0 else { return false }
            lua_pushstring(L, "__index")
            lua_rawget(L, -2)
            guard lua_type(L, -1) == LUA_TTABLE else { return false }
            lua_rotate(L, -3, 1)  // index table below the metatable and the value
            gwlua_pop(L, 2)
        }
        return false
    }

    /// Identifier keys of the value on top and of its `__index` tables; with
    /// `methods`, only those holding functions.
    private static func fields(of index: Int32, in L: OpaquePointer, methods: Bool) -> Set<String> {
        var names = Set<String>()
        lua_pushvalue(L, index)
        var hops = 0
        while hops < 8 {
            hops += 1
            if lua_type(L, -1) == LUA_TTABLE {
                lua_pushnil(L)
                while lua_next(L, -2) != 0 {
                    let isFunction = lua_type(L, -1) == LUA_TFUNCTION
                    gwlua_pop(L, 1)
                    if lua_type(L, -1) == LUA_TSTRING, !methods || isFunction {
                        let key = LuaCall.string(at: -1, in: L)
                        if PrettyPrinter.isIdentifier(key), !key.hasPrefix("__") { names.insert(key) }
                    }
                }
            }
            guard lua_getmetatable(L, -1) != 0 else { break }
            lua_pushstring(L, "__index")
            lua_rawget(L, -2)
            guard lua_type(L, -1) == LUA_TTABLE else { break }
            lua_rotate(L, -3, 1)
            gwlua_pop(L, 2)
        }
        gwlua_pop(L, 1)
        return names
    }
}
