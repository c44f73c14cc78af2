// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "gwlua",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "gwlua", targets: ["gwlua"]),
        .executable(name: "gwlua-bench", targets: ["gwlua-bench"]),
        .library(name: "LuaHost", targets: ["LuaHost"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        // Without its default traits, which would link full Foundation (and its ICU data) into gwlua.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
        // Already in the graph (through Hummingbird); the emulator stops through its graceful shutdown.
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        // Already in the graph (through Hummingbird and AsyncHTTPClient's TLS); plans' fingerprints use its SHA-256.
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"6.0.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        // Already in the graph (AsyncHTTPClient, Hummingbird): gwlua doctor's TCP and TLS probes.
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
    ],
    targets: [
        .systemLibrary(
            name: "CLua",
            pkgConfig: "lua5.4",
            providers: [.apt(["liblua5.4-dev"])]
        ),
        .systemLibrary(
            name: "CEditLine",
            pkgConfig: "libedit",
            providers: [.apt(["libedit-dev"])]
        ),
        // The JSON value, the one JSON scanner and the writer: shared by LuaHost's json
        // module and GatewayKit's API path, so both read and word bad JSON alike.
        .target(name: "JSONCore"),
        // The few string and path helpers gwlua would otherwise take from full Foundation.
        .target(name: "TextSupport"),
        // gwlua's version, commit and target; the plugin writes the git part before each build.
        .target(name: "BuildInfo", plugins: ["BuildInfoPlugin"]),
        .plugin(name: "BuildInfoPlugin", capability: .buildTool()),
        .target(name: "LuaHost", dependencies: ["CLua", "JSONCore"]),
        .target(
            name: "GatewayKit",
            dependencies: [
                "JSONCore", "TextSupport", "BuildInfo",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                // Already in the graph (AsyncHTTPClient's TLS): extra trust roots for private CAs.
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
            ]
        ),
        .target(
            name: "GatewaySim",
            dependencies: [
                "GatewayKit", "TextSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // Declares its bindings through LuaHost; it does not speak the C API (no CLua).
        .target(name: "GatewayLua", dependencies: ["LuaHost", "GatewayKit", "TextSupport"]),
        // Reaches Lua only through LuaHost (no CLua), as GatewayLua.
        .target(name: "REPL", dependencies: ["LuaHost", "CEditLine", "TextSupport"]),
        // Runs a program on a real pseudo-terminal (REPL tests and the keystroke bench).
        .target(name: "PseudoTerminal"),
        .executableTarget(
            name: "gwlua",
            dependencies: [
                "LuaHost", "GatewayKit", "GatewayLua", "GatewaySim", "REPL", "TextSupport", "BuildInfo",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            exclude: ["gwlua.exports"],
            // Release links: the export list keeps the ~40,000 names the static standard
            // library's -export-dynamic would put in the dynamic symbol table (which ld.so and
            // the runtime's dladdr walk at each start) out of it (docs/packaging.md).
            linkerSettings: [.unsafeFlags([
                "-Xlinker", "--version-script=\(Context.packageDirectory)/Sources/gwlua/gwlua.exports",
            ], .when(configuration: .release))]
        ),
        .executableTarget(
            name: "gwlua-bench",
            dependencies: ["LuaHost", "GatewayKit", "GatewayLua", "CLua", "PseudoTerminal",
                           .product(name: "Logging", package: "swift-log")],
            path: "Benchmarks/gwlua-bench"
        ),
        // A static Swift hello world: the start-up floor scripts/bench startup compares gwlua with.
        .executableTarget(name: "startup-floor", path: "Benchmarks/startup-floor"),
        // libFuzzer targets: scripts/fuzz builds them with -sanitize=fuzzer (and -DFUZZING);
        // a plain build makes them replayers of their corpus, which the tests run.
        .target(name: "FuzzSupport", dependencies: ["LuaHost", "CLua"], path: "Fuzz/FuzzSupport"),
        .executableTarget(name: "fuzz-json", dependencies: ["FuzzSupport", "LuaHost", "CLua"], path: "Fuzz/fuzz-json"),
        .executableTarget(name: "fuzz-convert", dependencies: ["FuzzSupport", "LuaHost", "CLua"], path: "Fuzz/fuzz-convert"),
        .executableTarget(name: "fuzz-spec", dependencies: ["FuzzSupport", "GatewayKit"], path: "Fuzz/fuzz-spec"),
        .testTarget(name: "LuaHostTests", dependencies: ["LuaHost", "CLua"]),
        .testTarget(name: "GatewayKitTests", dependencies: ["GatewayKit", "TextSupport"]),
        .testTarget(
            name: "GatewaySimTests",
            dependencies: ["GatewaySim", "GatewayKit", .product(name: "AsyncHTTPClient", package: "async-http-client"),
                           .product(name: "Logging", package: "swift-log")]
        ),
        .testTarget(name: "GatewayLuaTests", dependencies: ["GatewayLua", "GatewayKit", "LuaHost", "CLua"]),
        .testTarget(name: "gwluaTests", dependencies: ["gwlua", "GatewayKit", "PseudoTerminal"]),
    ]
)
