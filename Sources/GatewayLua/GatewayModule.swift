import GatewayKit
import CLua
import LuaHost

/// The `gateway` Lua module: GatewayKit bound into LuaHost.
public enum GatewayModule {
    public static func register(in state: LuaState) throws {
        try state.registerModule("gateway") { call in
            LuaState.pushFunctionTable([], in: call)
            call.push(GatewayKit.version)
            lua_setfield(call.L, -2, "version")
        }
    }
}
