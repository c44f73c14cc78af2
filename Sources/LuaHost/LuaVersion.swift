import CLua
#if canImport(Glibc)
import Glibc
#endif

public enum LuaVersion {
    /// "Lua 5.4.x  Copyright (C) … Lua.org, PUC-Rio" of the linked headers.
    public static var copyright: String { String(cString: gwlua_copyright()) }
    /// "Lua 5.4.x" of the linked headers.
    public static var release: String { String(cString: gwlua_release()) }

    /// The process environment as a dictionary.
    public static func environment() -> [String: String] {
        var result: [String: String] = [:]
        var p = environ
        while let entry = p.pointee {
            let text = String(cString: entry)
            if let eq = text.firstIndex(of: "=") {
                result[String(text[..<eq])] = String(text[text.index(after: eq)...])
            }
            p += 1
        }
        return result
    }
}
