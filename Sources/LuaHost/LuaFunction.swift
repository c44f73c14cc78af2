import CLua

/// The body of a Swift function bound into Lua: reads its arguments from `call`,
/// pushes its results and returns how many it pushed.
public typealias LuaFunctionBody = (LuaCall) throws -> Int32

/// A Swift function that can be pushed into Lua.
public struct LuaFunction: Hashable {
    let box: LuaFunctionBox

    /// `name` is used in argument errors when Lua cannot name the function itself.
    public init(_ name: String, _ body: @escaping LuaFunctionBody) {
        box = LuaFunctionBox(name: name, body: body)
    }

    public var name: String { box.name }

    public static func == (a: LuaFunction, b: LuaFunction) -> Bool { a.box === b.box }
    public func hash(into h: inout Hasher) { h.combine(ObjectIdentifier(box)) }
}

final class LuaFunctionBox {
    let name: String
    let body: LuaFunctionBody
    init(name: String, body: @escaping LuaFunctionBody) {
        self.name = name
        self.body = body
    }
}

/// The one Swift entry point the C trampoline calls. Runs the bound body and
/// turns a thrown error into an error value on the stack plus -1, so that
/// `lua_error` happens in C after this frame is gone.
let luaHostDispatch: @convention(c) (OpaquePointer?) -> Int32 = { L in
    guard let L, let slot = lua_touserdata(L, gwlua_upvalueindex(1)),
          let raw = slot.load(as: UnsafeRawPointer?.self) else {
        return -1  // nothing sane to run; the trampoline raises whatever is on top
    }
    let box = Unmanaged<LuaFunctionBox>.fromOpaque(raw)
    return box._withUnsafeGuaranteedRef { fn in
        do {
            return try fn.body(LuaCall(L, function: box))
        } catch {
            LuaCall(L, function: box).pushError(error)
            return -1
        }
    }
}

/// `__gc` of the userdata that keeps a Swift function box alive.
let luaFunctionBoxCollect: @convention(c) (OpaquePointer?) -> Int32 = { L in
    guard let L, let slot = lua_touserdata(L, 1) else { return 0 }
    if let raw = slot.load(as: UnsafeRawPointer?.self) {
        slot.storeBytes(of: nil, as: UnsafeRawPointer?.self)
        Unmanaged<LuaFunctionBox>.fromOpaque(raw).release()
    }
    return 0
}

extension LuaFunction {
    /// Pushes the function as a C closure whose upvalue owns the Swift box.
    func push(onto L: OpaquePointer) {
        guard let slot = gwlua_newuserdata(L, MemoryLayout<UnsafeRawPointer?>.size) else {
            lua_pushnil(L)
            return
        }
        slot.storeBytes(of: UnsafeRawPointer(Unmanaged.passRetained(box).toOpaque()),
                        as: UnsafeRawPointer?.self)
        if luaL_newmetatable(L, "gwlua.function") != 0 {
            lua_pushcclosure(L, luaFunctionBoxCollect, 0)
            lua_setfield(L, -2, "__gc")
        }
        lua_setmetatable(L, -2)
        gwlua_pushswiftclosure(L)
    }

    /// The Swift function behind the value at `index`, if it is one of ours.
    static func at(_ index: Int32, in L: OpaquePointer) -> LuaFunction? {
        guard lua_iscfunction(L, index) != 0, lua_getupvalue(L, index, 1) != nil else { return nil }
        defer { gwlua_pop(L, 1) }
        // Ours when the upvalue is a function box (identified by its metatable).
        guard let slot = luaL_testudata(L, -1, "gwlua.function"),
              let raw = slot.load(as: UnsafeRawPointer?.self) else { return nil }
        return LuaFunction(box: Unmanaged<LuaFunctionBox>.fromOpaque(raw).takeUnretainedValue())
    }

    private init(box: LuaFunctionBox) { self.box = box }
}
