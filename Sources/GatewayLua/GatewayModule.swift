import GatewayKit
import LuaHost

/// The `gateway` Lua module: GatewayKit bound into LuaHost. Each API area
/// (specs, the builder, the client with plan and apply) declares its functions,
/// options and help in its own file and hands them over here.
public enum GatewayModule {
    public static func register(in state: LuaState, settings: GatewaySettings = GatewaySettings()) throws {
        let functions = SpecsAPI.register() + SpecBuilder.register() + ClientAPI.register(settings: settings)
        // The declared fields: Tab completes them, `.help gateway.spec` lists them.
        Completion.add(words: GatewayShape.paths().map { $0.field.name })
        LuaHelp.add([SpecsAPI.fieldsHelp])
        let kinds = ResourcesAPI.register()
        try state.registerModule("gateway") { call in
            call.push(.table(functions.map { ($0.name, .function($0)) } + kinds + [("version", .string(GatewayKit.version))]))
        }
    }

    /// Every function a client has, as `c:NAME` (help and completion cover each).
    public static var clientMethods: [String] { ClientAPI.luaClass.methods.map { "c:\($0.name)" } }
}
