import Foundation
import GatewayKit
import Testing

/// What an update sends: the spec merged over what the gateway holds (ShapeCompare.merge).
@Suite struct UpdateMergeTests {
    static func spec(_ json: String) throws -> GatewaySpec { try GatewaySpec(json: JSONValue(parsing: Data(json.utf8))) }

    /// W&B: the apiKey (never returned) comes from the spec; switches the spec leaves
    /// unset keep the gateway's values; unknown fields in the record stay.
    @Test func wandbKeepsUnsetSwitchesAndSendsTheKey() throws {
        let holds = try Self.spec(#"{"id":"g1","name":"w","zones":["US-EAST-04A"],"organizationId":"org","pathBasedRouting":{},"weightsAndBiasesAuth":{"serverUrl":"https://api.wandb.ai","enableRateLimiting":true,"tier":"gold"}}"#)
        let wants = try Self.spec(#"{"name":"w","zones":["US-EAST-04A"],"pathBasedRouting":{},"weightsAndBiasesAuth":{"apiKey":"k","serverUrl":"https://api.wandb.ai"}}"#)
        let body = wants.merged(over: holds)
        #expect(body.fields["weightsAndBiasesAuth"] == .object(["apiKey": .string("k"), "serverUrl": .string("https://api.wandb.ai"),
                                                                "enableRateLimiting": .bool(true), "tier": .string("gold")]))
        #expect(body.fields["id"] == nil && body.fields["organizationId"] == nil, "the API's own fields are not sent back")
    }

    /// A group the spec sets replaces the gateway's member; one it leaves unset is kept.
    @Test func oneOfGroupsReplaceTheMember() throws {
        let holds = try Self.spec(#"{"name":"g","zones":["US-EAST-04A"],"weightsAndBiasesAuth":{"serverUrl":"https://api.wandb.ai"},"headerBasedRouting":{"headerName":"X-M"}}"#)
        let wants = try Self.spec(#"{"name":"g","zones":["US-EAST-04A"],"coreWeaveAuth":{},"pathBasedRouting":{}}"#)
        let body = wants.merged(over: holds)
        #expect(body.authKind == "coreWeaveAuth" && body.fields["weightsAndBiasesAuth"] == nil)
        #expect(body.routingKind == "pathBasedRouting" && body.fields["headerBasedRouting"] == nil)
    }

    /// DNS names are managed when unset (none wanted); edgeProxyMode and ranges are not.
    @Test func unsetMeansKeptOrEmptyAsDeclared() throws {
        let holds = try Self.spec(#"{"name":"e","zones":["US-EAST-04A"],"coreWeaveAuth":{},"pathBasedRouting":{},"endpointConfiguration":{"additionalDns":["a.example.com"],"allowedSourceIpRanges":["10.0.0.0/8"],"edgeProxyMode":"EDGE_PROXY_MODE_DIRECT"}}"#)
        let wants = try Self.spec(#"{"name":"e","zones":["US-EAST-04A"],"coreWeaveAuth":{},"pathBasedRouting":{}}"#)
        let endpoint = wants.merged(over: holds).fields["endpointConfiguration"]
        #expect(endpoint == .object(["additionalDns": .array([]), "allowedSourceIpRanges": .array([.string("10.0.0.0/8")]),
                                     "edgeProxyMode": .string("EDGE_PROXY_MODE_DIRECT")]))
        // Set to change it: an explicit empty list lifts the restriction.
        let lifts = try Self.spec(#"{"name":"e","zones":["US-EAST-04A"],"coreWeaveAuth":{},"pathBasedRouting":{},"endpointConfiguration":{"allowedSourceIpRanges":[]}}"#)
        #expect(lifts.merged(over: holds).fields["endpointConfiguration"]?["allowedSourceIpRanges"] == .array([]))
        // And the plan sees that as a change, but not the unset one.
        #expect(Planner.differences(from: holds, to: wants).map(\.path) == ["endpointConfiguration.additionalDns"])
        #expect(Planner.differences(from: holds, to: lifts).map(\.path).contains("endpointConfiguration.allowedSourceIpRanges"))
    }

    /// A server default is no drift; the other value is.
    @Test func serverDefaultsAreNotDrift() throws {
        let unset = try Self.spec(#"{"name":"d","zones":["US-EAST-04A"],"coreWeaveAuth":{},"pathBasedRouting":{}}"#)
        let managed = try Self.spec(#"{"name":"d","zones":["US-EAST-04A"],"coreWeaveAuth":{},"pathBasedRouting":{},"endpointConfiguration":{"edgeProxyMode":"EDGE_PROXY_MODE_MANAGED"}}"#)
        let direct = try Self.spec(#"{"name":"d","zones":["us-east-04a"],"coreWeaveAuth":{},"pathBasedRouting":{},"endpointConfiguration":{"edgeProxyMode":1}}"#)
        #expect(Planner.differences(from: unset, to: managed).isEmpty, "an unset mode is the platform default")
        #expect(Planner.differences(from: direct, to: managed).isEmpty, "1 is MANAGED; zones without case")
        #expect(Planner.differences(from: managed, to: try Self.spec(#"{"name":"d","zones":["US-EAST-04A"],"coreWeaveAuth":{},"pathBasedRouting":{},"endpointConfiguration":{"edgeProxyMode":"EDGE_PROXY_MODE_DIRECT"}}"#))
                    .map(\.path) == ["endpointConfiguration.edgeProxyMode"])
        let twoZones = try Self.spec(#"{"name":"z","zones":["US-EAST-04A","US-WEST-04A"],"coreWeaveAuth":{},"pathBasedRouting":{}}"#)
        let reordered = try Self.spec(#"{"name":"z","zones":["US-WEST-04A","us-east-04a"],"coreWeaveAuth":{},"pathBasedRouting":{}}"#)
        #expect(Planner.differences(from: twoZones, to: reordered).isEmpty, "zones are a set")
    }
}
