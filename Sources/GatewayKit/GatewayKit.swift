// The gateway model, validation and HTTP client arrive with their issues; GatewayKit has no Lua in it.
public enum GatewayKit {
    public static let version = "0.1.0"
}
