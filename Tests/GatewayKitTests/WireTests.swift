import Foundation
import GatewayKit
import Testing

/// The API.md examples, in sorted-key compact form (the wire form gwlua sends).
let createExample = #"{"bodyBasedRouting":{"apiType":"API_TYPE_OPENAI"},"coreWeaveAuth":{},"endpointConfiguration":{"additionalDns":["llm.example.com"]},"id":"7f1c2a3b-0d4e-4f5a-8b6c-1d2e3f4a5b6c","name":"llm-east","zones":["US-EAST-04A"]}"#
let wandbExample = #"{"headerBasedRouting":{"headerName":"X-Model"},"name":"llm-west","weightsAndBiasesAuth":{"apiKey":"k","enableRateLimiting":true,"enableUsageReports":true,"serverUrl":"https://api.wandb.ai"},"zones":["US-WEST-04A"]}"#
let gatewayExample = #"{"spec":{"bodyBasedRouting":{"apiType":"API_TYPE_OPENAI"},"coreWeaveAuth":{},"endpointConfiguration":{"additionalDns":[]},"id":"7f1c2a3b-0d4e-4f5a-8b6c-1d2e3f4a5b6c","name":"llm-east","organizationId":"org-1","zones":["US-EAST-04A"]},"status":{"conditions":[{"lastUpdateTime":"2023-11-07T05:31:56Z","message":"ok","reason":"Ready","status":"True","type":"Ready","zone":"US-EAST-04A"}],"createdAt":"2023-11-07T05:31:56Z","endpoints":["https://llm-east.example"],"status":"STATUS_CREATING","updatedAt":"2023-11-07T05:31:56Z"}}"#
let statusExample = #"{"code":3,"details":[{"@type":"type.googleapis.com/google.rpc.BadRequest","fieldViolations":[{"description":"unknown zone","field":"zones"}]}],"message":"invalid zones"}"#

@Suite struct WireTests {
    func roundTrip<T: Codable>(_ type: T.Type, _ json: String) throws -> String {
        let value = try WireJSON.decode(type, from: Data(json.utf8))
        return String(decoding: try WireJSON.encode(value), as: UTF8.self)
    }

    @Test func examplesRoundTripByteForByte() throws {
        #expect(try roundTrip(GatewaySpec.self, createExample) == createExample)
        #expect(try roundTrip(GatewaySpec.self, wandbExample) == wandbExample)
        #expect(try roundTrip(Gateway.self, gatewayExample) == gatewayExample)
        #expect(try roundTrip(GatewayEnvelope.self, #"{"gateway":\#(gatewayExample)}"#) == #"{"gateway":\#(gatewayExample)}"#)
        #expect(try roundTrip(RPCStatus.self, statusExample) == statusExample)
        #expect(try roundTrip(GatewayParameters.self, #"{"zones":["US-EAST-04A","RNO2A"]}"#) == #"{"zones":["US-EAST-04A","RNO2A"]}"#)
    }

    @Test func requestBodyDropsServerFields() throws {
        let gateway = try WireJSON.decode(Gateway.self, from: Data(gatewayExample.utf8))
        let body = String(decoding: try gateway.spec.requestJSON(), as: UTF8.self)
        #expect(!body.contains("organizationId"))
    }

    @Test func decodingIsLenientWhereServersVary() throws {
        let old = #"{"spec":{"name":"a","bodyBasedRouting":{"apiType":1},"extra":true},"status":{"status":2,"conditions":[{"status":"STATUS_TRUE"},{"status":"False"}],"newField":{}}}"#
        let g = try WireJSON.decode(Gateway.self, from: Data(old.utf8))
        #expect(g.status.status == .ready)
        #expect(g.spec.bodyBasedRouting?.apiType == .openAI)
        #expect(g.status.conditions.map(\.status?.rawValue) == ["True", "False"])
        #expect(g.status.endpoints.isEmpty)  // absent arrays are empty
        #expect(g.spec.zones.isEmpty)
        let list = try WireJSON.decode(GatewayList.self, from: Data("{}".utf8))
        #expect(list.items.isEmpty)
        let unknownStatus = try WireJSON.decode(GatewayStatus.self, from: Data(#"{"status":"STATUS_SLEEPING"}"#.utf8))
        #expect(unknownStatus.status.rawValue == "STATUS_SLEEPING")
    }

    @Test func decodingIsStrictOnTypes() {
        #expect(throws: DecodingError.self) { try WireJSON.decode(GatewaySpec.self, from: Data(#"{"name":5}"#.utf8)) }
        #expect(throws: DecodingError.self) { try WireJSON.decode(GatewaySpec.self, from: Data(#"{"name":"a","zones":"Z"}"#.utf8)) }
        #expect(throws: DecodingError.self) { try WireJSON.decode(Gateway.self, from: Data(#"{"status":{}}"#.utf8)) }
    }

    @Test func documentsFromFiles() {
        let lines = SpecDocuments(data: Data("{\"name\":\"a\"}\n\n{\"name\":\"b\"}\n{oops\n".utf8))
        #expect(lines.entries.map(\.location) == [":1", ":3", ":4"])
        #expect(lines.entries[2].document == nil)
        let array = SpecDocuments(data: Data("[{\"name\":\"a\"},{\"name\":\"b\"}]".utf8))
        #expect(array.entries.map(\.location) == ["[1]", "[2]"])
        #expect(SpecDocuments(data: Data()).entries.first?.parseError == "the file is empty")
    }

    /// Random valid specs encode, decode and revalidate to the same spec.
    @Test func randomValidSpecsSurviveTheWire() throws {
        var rng = SplitMix(seed: 0x5eed)
        let zones = ["US-EAST-04A", "US-WEST-04A", "RNO2A", "EU-SOUTH-03B"]
        for _ in 0..<2000 {
            var spec = GatewaySpec(name: rng.label(), zones: [zones[rng.next(zones.count)]])
            if rng.next(2) == 0 { spec.id = UUID().uuidString.lowercased() }
            if rng.next(2) == 0 {
                spec.coreWeaveAuth = .init()
            } else {
                spec.weightsAndBiasesAuth = .init(apiKey: rng.label(), serverUrl: "https://api.wandb.ai",
                                                  enableUsageReports: rng.next(2) == 0, enableRateLimiting: nil)
            }
            switch rng.next(3) {
            case 0: spec.bodyBasedRouting = .init()
            case 1: spec.headerBasedRouting = .init(headerName: "X-" + rng.label())
            default: spec.pathBasedRouting = .init()
            }
            if rng.next(2) == 0 {
                spec.endpointConfiguration = .init(additionalDns: (0..<rng.next(4)).map { _ in "\(rng.label()).example.com" })
            }
            #expect(SpecValidator.validate(spec, context: .init(zones: zones)).errors.isEmpty)
            let wire = try WireJSON.encode(spec)
            let document = try WireJSON.decode(JSONValue.self, from: wire)
            let again = SpecValidator.validate(document, context: .init(zones: zones))
            #expect(again.errors.isEmpty)
            #expect(again.spec == spec)
        }
    }
}

struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E3779B97F4A7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
        z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
        return z ^ (z >> 31)
    }
    mutating func next(_ n: Int) -> Int { Int(next() % UInt64(max(n, 1))) }
    mutating func label() -> String {
        let chars = Array("abcdefghijklmnopqrstuvwxyz0123456789")
        let n = 1 + next(20)
        return String((0..<n).map { _ in chars[next(chars.count)] })
    }
}

@Suite struct APIErrorTests {
    @Test func statusBodiesGiveTheirCode() {
        let e = APIError.from(httpStatus: 400, body: Data(statusExample.utf8))
        #expect(e.code == "INVALID_ARGUMENT")
        #expect(e.message == "invalid zones")
        #expect(e.details.first?.fieldViolations?.first?.field == "zones")
        #expect(e.description == "INVALID_ARGUMENT (HTTP 400): invalid zones [zones: unknown zone]")
        // The body's code wins over the HTTP status.
        #expect(APIError.from(httpStatus: 400, body: Data(#"{"code":9,"message":"not now"}"#.utf8)).code == "FAILED_PRECONDITION")
    }

    @Test func emptyHTMLAndTruncatedBodiesFallBackToTheStatus() {
        #expect(APIError.from(httpStatus: 503, body: Data()).code == "UNAVAILABLE")
        #expect(APIError.from(httpStatus: 503, body: Data()).message == "HTTP 503 with an empty body")
        let html = APIError.from(httpStatus: 502, body: Data("<html><body>Bad Gateway</body></html>".utf8))
        #expect(html.code == "INTERNAL")
        #expect(html.message == "HTTP 502: an HTML page")
        let cut = APIError.from(httpStatus: 429, body: Data(#"{"code":8,"mess"#.utf8))
        #expect(cut.code == "RESOURCE_EXHAUSTED")
        #expect(cut.httpStatus == 429)
        for (status, name) in [(401, "UNAUTHENTICATED"), (403, "PERMISSION_DENIED"), (404, "NOT_FOUND"), (409, "ALREADY_EXISTS"),
                               (504, "DEADLINE_EXCEEDED"), (500, "INTERNAL"), (501, "UNIMPLEMENTED")] {
            #expect(APIError.from(httpStatus: status, body: Data("oops".utf8)).code == name)
        }
    }
}
