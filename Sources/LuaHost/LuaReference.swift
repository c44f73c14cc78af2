import CLua

/// A Lua value held in the registry so Swift can keep it past the current call
/// (a callback, an error value). Released when the last Swift owner goes away;
/// like every Lua object it belongs to its state's thread.
public final class LuaReference {
    let L: OpaquePointer
    let ref: Int32
    private let alive: LuaStateLifetime

    /// Pops the value on top of `L` into the registry.
    init(popping L: OpaquePointer, lifetime: LuaStateLifetime) {
        self.L = L
        self.ref = luaL_ref(L, gwlua_registryindex())
        self.alive = lifetime
    }

    func push(onto L: OpaquePointer) {
        guard alive.isOpen else {
            lua_pushnil(L)
            return
        }
        lua_rawgeti(L, gwlua_registryindex(), lua_Integer(ref))
    }

    deinit {
        if alive.isOpen { luaL_unref(L, gwlua_registryindex(), ref) }
    }
}

/// Tells references whether their state is still open.
final class LuaStateLifetime {
    var isOpen = true
}
