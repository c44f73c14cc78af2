import CLua

/// Owns one `lua_State` and closes it exactly once. Like every Lua object it is
/// used from one thread only.
public final class LuaState {
    /// The raw state, for the binding layer's own code.
    public let L: OpaquePointer
    let host: UnsafeMutablePointer<gwlua_host>
    let warnings: UnsafeMutablePointer<gwlua_warnstate>
    let lifetime = LuaStateLifetime()
    /// Set from any thread (a signal handler included) to stop Lua and waits.
    public let interruption = LuaInterruption()

    public struct Options: Sendable {
        /// Open the standard libraries (all of them, as lua(1) does).
        public var openStandardLibraries: Bool
        /// Cap on the state's memory in bytes; nil for none.
        public var memoryLimit: Int?
        /// Lua VM instructions the state may run (counted in steps of 1,000,
        /// coroutines included); nil for none, which costs nothing.
        public var instructionLimit: Int?
        public init(openStandardLibraries: Bool = true, memoryLimit: Int? = nil, instructionLimit: Int? = nil) {
            self.openStandardLibraries = openStandardLibraries
            self.memoryLimit = memoryLimit
            self.instructionLimit = instructionLimit
        }
    }

    public init(options: Options = .init()) throws {
        host = .allocate(capacity: 1)
        host.initialize(to: gwlua_host(dispatch: luaHostDispatch, used: 0, peak: 0,
                                       limit: options.memoryLimit.map { Int(max(0, $0)) } ?? 0,
                                       enforce: 0, memory_exceeded: 0, swift: nil,
                                       instruction_limit: 0, instructions: 0, instructions_exceeded: 0,
                                       stop: 0, interrupting: 0, running: nil))
        warnings = .allocate(capacity: 1)
        warnings.initialize(to: gwlua_warnstate(on: 0, cont: 0))
        guard let L = gwlua_newstate(host, warnings) else {
            host.deallocate()
            warnings.deallocate()
            throw LuaError.memory("cannot create state: not enough memory")
        }
        self.L = L
        host.pointee.swift = UnsafeMutableRawPointer(Unmanaged.passUnretained(self).toOpaque())
        interruption.attach(L)
        if let limit = options.instructionLimit { gwlua_setinstructionlimit(L, Int64(limit)) }
        if options.openStandardLibraries {
            if gwlua_popenlibs(L) != LUA_OK {
                let message = LuaCall.string(at: -1, in: L)
                close()
                throw LuaError.memory(message)
            }
        }
    }

    /// json.encode's working buffers, kept between encodes in this state (a state
    /// runs on one thread at a time, so no lock).
    var jsonScratch: LuaJSONEncoder.Buffers?

    deinit {
        close()  // the scratch buffers free themselves
    }

    /// Closes the state (running every pending `__gc`). Safe to call twice.
    public func close() {
        guard lifetime.isOpen else { return }
        lifetime.isOpen = false
        interruption.detach()
        lua_close(L)
        host.deallocate()
        warnings.deallocate()
    }

    public var isClosed: Bool { !lifetime.isOpen }

    /// The state that owns `L` (from inside a bound function).
    public static func owner(of L: OpaquePointer) -> LuaState? {
        guard let raw = gwlua_gethost(L)?.pointee.swift else { return nil }
        return Unmanaged<LuaState>.fromOpaque(raw).takeUnretainedValue()
    }

    // MARK: Memory

    /// Bytes currently allocated by Lua in this state.
    public var memoryInUse: Int { host.pointee.used }
    public var peakMemory: Int { host.pointee.peak }
    public var memoryLimit: Int? {
        get { host.pointee.limit == 0 ? nil : host.pointee.limit }
        set { host.pointee.limit = max(0, newValue ?? 0) }
    }
    /// True once an allocation was refused because of the cap.
    public var memoryLimitWasHit: Bool { host.pointee.memory_exceeded != 0 }

    // MARK: Instructions

    public var instructionLimit: Int? {
        host.pointee.instruction_limit > 0 ? Int(host.pointee.instruction_limit) : nil
    }
    /// True once the script ran past the instruction limit.
    public var instructionLimitWasHit: Bool { host.pointee.instructions_exceeded != 0 }
    /// Starts counting afresh (the REPL gives each entry the whole limit).
    public func resetInstructionCount() { gwlua_setinstructionlimit(L, host.pointee.instruction_limit) }

    public func collectGarbage() { _ = gwlua_gc(L, LUA_GCCOLLECT, 0) }

    // MARK: Stack helpers

    public var top: Int32 {
        get { lua_gettop(L) }
        set { lua_settop(L, newValue) }
    }

    var call: LuaCall { LuaCall(state: L) }

    public func push(_ value: LuaValue) throws { try value.push(onto: L) }
    public func push(_ function: LuaFunction) { function.push(onto: L) }
    public func value(at index: Int32, options: LuaConversionOptions = .init()) throws -> LuaValue {
        try LuaValue.read(at: index, in: L, options: options)
    }
    public func pop(_ n: Int32 = 1) { gwlua_pop(L, n) }

    // MARK: Globals and modules (raw access: host code never runs metamethods)

    /// `_G[name]`, read raw.
    public func global(_ name: String) throws -> LuaValue {
        lua_rawgeti(L, gwlua_registryindex(), lua_Integer(LUA_RIDX_GLOBALS))
        call.push(name)
        lua_rawget(L, -2)
        defer { pop(2) }
        return try value(at: -1)
    }

    /// `_G[name] = value`, set raw.
    public func setGlobal(_ name: String, _ value: LuaValue) throws {
        lua_rawgeti(L, gwlua_registryindex(), lua_Integer(LUA_RIDX_GLOBALS))
        call.push(name)
        do { try value.push(onto: L) } catch {
            pop(2)
            throw error
        }
        lua_rawset(L, -3)
        pop(1)
    }

    /// Pops the value on top into `_G[name]` (raw).
    public func setGlobalFromTop(_ name: String) {
        lua_rawgeti(L, gwlua_registryindex(), lua_Integer(LUA_RIDX_GLOBALS))
        gwlua_insert(L, -2)
        call.push(name)
        gwlua_insert(L, -2)
        lua_rawset(L, -3)
        pop(1)
    }

    /// Registers a module table: builds it with `build` (which leaves one table on
    /// top), makes it a global and `require`-able under `name`.
    public func registerModule(_ name: String, build: (LuaCall) throws -> Void) throws {
        let base = top
        do { try build(call) } catch {
            top = base
            throw error
        }
        guard top == base + 1, lua_type(L, -1) == LUA_TTABLE else {
            top = base
            throw LuaError.runtime("module '\(name)' did not build one table")
        }
        // package.loaded[name] = module (through the registry's _LOADED, as luaL_requiref does)
        lua_getfield(L, gwlua_registryindex(), LUA_LOADED_TABLE)
        if lua_type(L, -1) == LUA_TTABLE {
            lua_pushvalue(L, -2)
            lua_setfield(L, -2, name)
        }
        pop(1)
        setGlobalFromTop(name)
    }

    /// Builds a table of functions on top of the stack.
    public static func pushFunctionTable(_ functions: [LuaFunction], in call: LuaCall) {
        lua_createtable(call.L, 0, Int32(functions.count))
        for f in functions {
            call.push(f)
            lua_setfield(call.L, -2, f.name)
        }
    }

    // MARK: Running code

    /// Compiles a chunk; leaves the function on top.
    public func load(_ code: some Collection<UInt8>, name: String, mode: String = "bt") throws {
        let bytes = Array(code)
        let status = bytes.withUnsafeBufferPointer { buf in
            buf.withMemoryRebound(to: CChar.self) { gwlua_loadbuffer(L, $0.baseAddress, $0.count, name, mode) }
        }
        if status != LUA_OK {
            let message = LuaCall.string(at: -1, in: L)
            pop(1)
            throw status == LUA_ERRMEM ? LuaError.memory(message) : LuaError.syntax(message)
        }
    }

    public func load(_ code: String, name: String) throws { try load(Array(code.utf8), name: name) }

    /// Calls the function below `nargs` arguments in protected mode with a
    /// traceback handler; returns the results as Swift values.
    @discardableResult
    public func pcall(arguments nargs: Int32 = 0, options: LuaConversionOptions = .init()) throws -> [LuaValue] {
        let base = top - nargs - 1
        let status = protectedCall(arguments: nargs, results: LUA_MULTRET)
        if status != LUA_OK { throw takeError(status: status) }
        defer { top = base }
        return try (base + 1 ..< top + 1).map { try value(at: $0, options: options) }
    }

    /// Runs `code` and returns its results.
    @discardableResult
    public func run(_ code: String, name: String = "=(gwlua)") throws -> [LuaValue] {
        try load(code, name: name)
        return try pcall()
    }

    /// lua_pcall with the memory cap enforced and a traceback handler; the error
    /// value (a string with a traceback, or a non-string value as is) on failure.
    public func protectedCall(arguments nargs: Int32, results: Int32, traceback: Bool = true) -> Int32 {
        guard traceback else { return gwlua_pcall(L, nargs, results, 0) }
        let handlerIndex = top - nargs
        lua_pushcclosure(L, gwlua_keephandler, 0)
        gwlua_insert(L, handlerIndex)
        let status = gwlua_pcall(L, nargs, results, handlerIndex)
        gwlua_remove(L, handlerIndex)
        return status
    }

    /// Calls the function below its `nargs` arguments under protection (the
    /// memory cap enforced); a Lua error comes back as a Swift error that
    /// re-raises as the same value.
    public func call(arguments nargs: Int32, results: Int32) throws {
        let status = gwlua_pcall(L, nargs, results, 0)
        if status != LUA_OK { throw takeError(status: status) }
    }

    /// Pops the error value left by a failed protected call into a Swift error.
    func takeError(status: Int32) -> Error {
        if status == LUA_ERRMEM { 
            defer { pop(1) }
            return LuaError.memory(LuaCall.string(at: -1, in: L))
        }
        if lua_type(L, -1) == LUA_TSTRING {
            let text = LuaCall.string(at: -1, in: L)
            pop(1)
            let (message, traceback) = LuaState.splitTraceback(text)
            if interruption.isRequested && message.hasSuffix("interrupted!") {
                return LuaError.interrupted(message)
            }
            return LuaError.script(message: message, traceback: traceback)
        }
        // A structured value: keep it, and describe it for Swift.
        let description: String
        if gwlua_ptostring(L, -1) == LUA_OK {
            description = LuaCall.string(at: -1, in: L)
        } else {
            description = "(error object is a \(LuaCall(state: L).typeName(at: -2)) value)"
        }
        pop(1)
        return LuaRaisedValue(reference: LuaReference(popping: L, lifetime: lifetime), description: description)
    }

    static func splitTraceback(_ text: String) -> (String, String?) {
        let marker = Array("\nstack traceback:\n".utf8)
        let bytes = Array(text.utf8)
        guard bytes.count >= marker.count else { return (text, nil) }
        for i in 0...(bytes.count - marker.count) where bytes[i] == 10 && bytes[i..<(i + marker.count)].elementsEqual(marker) {
            return (String(decoding: bytes[..<i], as: UTF8.self), String(decoding: bytes[(i + 1)...], as: UTF8.self))
        }
        return (text, nil)
    }
}
