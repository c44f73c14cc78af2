import Foundation
@testable import GatewayKit
import Testing

let gatewayID = "7f1c2a3b-0d4e-4f5a-8b6c-1d2e3f4a5b6c"

/// A valid deployment document to vary: `changes` sets paths (`autoscaling.max`), nil removes.
func deployment(_ changes: [String: JSONValue?] = [:]) -> JSONValue {
    var spec = ResourceSpec(kind: .deployment, fields: [
        "name": "llama-8b", "gatewayIds": [.string(gatewayID)],
        "runtime": ["engine": "vllm", "version": "0.8.5", "engineConfig": ["max-model-len": "8192"],
                    "engineEnv": ["HF_HUB_OFFLINE": "1"]],
        "resources": ["instanceType": "H100_80GB_SXM5", "gpuCount": 1],
        "model": ["name": "meta-llama/Llama-3.1-8B", "bucket": "models", "path": "llama"],
        "autoscaling": ["min": 1, "max": 4, "priority": 100, "concurrency": 16,
                        "capacityClasses": ["CAPACITY_CLASS_RESERVED", "CAPACITY_CLASS_ON_DEMAND"]],
        "traffic": ["weight": 100],
    ])
    for (path, value) in changes { spec[path: path] = value }
    return spec.json
}

func claim(_ changes: [String: JSONValue?] = [:]) -> JSONValue {
    var spec = ResourceSpec(kind: .capacityClaim, fields: [
        "name": "gb200-east",
        "resources": ["instanceId": "gb200-4x", "instanceCount": 2, "capacityType": "CAPACITY_TYPE_MANAGED",
                      "zones": ["US-WEST-04A"]],
    ])
    for (path, value) in changes { spec[path: path] = value }
    return spec.json
}

let knownParameters = ResourceParameters(instanceTypes: ["H100_80GB_SXM5", "L40S_48GB"],
                                         engines: ["vllm": ["HF_HUB_OFFLINE", "VLLM_ATTENTION_BACKEND"], "sglang": nil],
                                         zoneInstanceTypes: ["US-WEST-04A": ["gb200-4x"], "US-EAST-04A": ["h100-8x"]])

/// Every issue as "path: message".
func resourceIssues(_ doc: JSONValue, _ kind: ResourceKind = .deployment, parameters: ResourceParameters? = nil,
                    gatewayNames: Set<String> = []) -> [String] {
    ResourceValidator.validate(doc, kind: kind, context: ValidationContext(parameters: parameters, gatewayNames: gatewayNames))
        .issues.map(\.description)
}

@Suite struct ResourceValidationTests {
    @Test func validDocumentsHaveNoIssues() {
        let d = ResourceValidator.validate(deployment(), kind: .deployment, context: .init(parameters: knownParameters))
        #expect(d.issues.isEmpty)
        #expect(d.spec?.name == "llama-8b")
        let c = ResourceValidator.validate(claim(), kind: .capacityClaim, context: .init(parameters: knownParameters))
        #expect(c.issues.isEmpty)
    }

    @Test func nameIsAHostnameLabel() {
        #expect(resourceIssues(deployment(["name": "Llama_8B"])) == [
            "name: 'Llama_8B' is not a DNS label: lower-case letters, digits and '-', starting and ending with a letter or digit, at most 63"])
        #expect(resourceIssues(claim(["name": .string(String(repeating: "a", count: 64))]), .capacityClaim) == [
            "name: name must be at most 63 characters, got 64"])
        #expect(resourceIssues(deployment(["name": nil])) == ["name: name is required"])
    }

    @Test func atLeastOneGateway() {
        #expect(resourceIssues(deployment(["gatewayIds": .array([])])) == [
            "gatewayIds: gatewayIds needs at least one item (the gateways that route to it)"])
        #expect(resourceIssues(deployment(["gatewayIds": nil])) == ["gatewayIds: gatewayIds is required (the gateways that route to it)"])
    }

    @Test func gatewayReferencesAreIdsOrFleetNames() {
        #expect(resourceIssues(deployment(["gatewayIds": ["llm-east"]])) == [
            "gatewayIds[1]: 'llm-east' is not a gateway id (a UUID); in a fleet file, name one of its gateways"])
        #expect(resourceIssues(deployment(["gatewayIds": ["llm-east"]]), gatewayNames: ["llm-east"]).isEmpty)
        #expect(resourceIssues(deployment(["gatewayIds": ["llm-wset"]]), gatewayNames: ["llm-east"]) == [
            "gatewayIds[1]: 'llm-wset' is neither a gateway id (a UUID) nor one of the fleet's gateways (llm-east)"])
    }

    @Test func gpuCountIsAPowerOfTwoUpTo16() {
        #expect(resourceIssues(deployment(["resources.gpuCount": 3])) == ["resources.gpuCount: gpuCount must be one of 1, 2, 4, 8 or 16, got 3"])
        #expect(resourceIssues(deployment(["resources.gpuCount": 1.5])) == [
            "resources.gpuCount: expected a whole number, got a number with a fraction (1.5)"])
        #expect(resourceIssues(deployment(["resources.gpuCount": 8.0])).isEmpty)
    }

    @Test func modelNameIs4To63Characters() {
        #expect(resourceIssues(deployment(["model.name": "llm"])) == ["model.name: name must be at least 4 characters, got 3"])
        #expect(resourceIssues(deployment(["model.name": .string(String(repeating: "m", count: 64))])) == [
            "model.name: name must be at most 63 characters, got 64"])
    }

    @Test func autoscalingBounds() {
        #expect(resourceIssues(deployment(["autoscaling.min": 0])) == ["autoscaling.min: min must be at least 1, got 0"])
        #expect(resourceIssues(deployment(["autoscaling.min": 5, "autoscaling.max": 2])) == [
            "autoscaling.max: max (2) must be at least min (5)"])
        #expect(resourceIssues(deployment(["autoscaling.priority": 1001])) == [
            "autoscaling.priority: priority must be 0 to 1000, got 1001"])
        #expect(resourceIssues(deployment(["autoscaling.concurrency": 0])) == [
            "autoscaling.concurrency: concurrency must be at least 1, got 0"])
    }

    @Test func capacityClassesFromTheEnumOrderedWithoutRepeats() {
        #expect(resourceIssues(deployment(["autoscaling.capacityClasses": ["CAPACITY_CLASS_SPOT"]])) == [
            "autoscaling.capacityClasses[1]: unknown capacityClasses 'CAPACITY_CLASS_SPOT'; valid values: CAPACITY_CLASS_RESERVED, CAPACITY_CLASS_ON_DEMAND"])
        #expect(resourceIssues(deployment(["autoscaling.capacityClasses": ["CAPACITY_CLASS_ON_DEMAND", "CAPACITY_CLASS_ON_DEMAND"]])) == [
            "autoscaling.capacityClasses[2]: 'CAPACITY_CLASS_ON_DEMAND' is listed twice; capacityClasses is an order of preference with each value once"])
        // Older servers' numbers are named.
        let numbered = ResourceValidator.validate(deployment(["autoscaling.capacityClasses": [2, 1]]), kind: .deployment)
        #expect(numbered.spec?[path: "autoscaling.capacityClasses"] == ["CAPACITY_CLASS_ON_DEMAND", "CAPACITY_CLASS_RESERVED"])
    }

    @Test func trafficWeight() {
        #expect(resourceIssues(deployment(["traffic.weight": -1])) == ["traffic.weight: weight must be 0 to 1000, got -1"])
    }

    @Test func runtimeVersionIsSemver() {
        #expect(resourceIssues(deployment(["runtime.version": "0.8"])) == ["runtime.version: version must be a semantic version such as 0.8.5, got '0.8'"])
        #expect(resourceIssues(deployment(["runtime.version": "1.2.3-rc.1+build.5"])).isEmpty)
        #expect(resourceIssues(deployment(["runtime.version": "01.2.3"])).count == 1)
    }

    @Test func engineConfigValuesAreStrings() {
        #expect(resourceIssues(deployment(["runtime.engineConfig": ["max-model-len": 8192]])) == [
            "runtime.engineConfig.max-model-len: expected a string, got number (write it in quotes: the API takes strings)"])
    }

    @Test func parametersCheckEnginesInstanceTypesEnvNamesAndZones() {
        #expect(resourceIssues(deployment(["runtime.engine": "trt"]), parameters: knownParameters) == [
            "runtime.engine: unknown engine 'trt'; engines: sglang, vllm"])
        #expect(resourceIssues(deployment(["resources.instanceType": "B200"]), parameters: knownParameters) == [
            "resources.instanceType: unknown instance type 'B200'; instance types: H100_80GB_SXM5, L40S_48GB"])
        #expect(resourceIssues(deployment(["runtime.engineEnv": ["SECRET_SAUCE": "1"]]), parameters: knownParameters) == [
            "runtime.engineEnv.SECRET_SAUCE: engine env 'SECRET_SAUCE' is not allowed for vllm; allowed: HF_HUB_OFFLINE, VLLM_ATTENTION_BACKEND"])
        // sglang's allow list is unknown: its names are not checked.
        #expect(resourceIssues(deployment(["runtime.engine": "sglang", "runtime.engineEnv": ["ANY": "1"]]), parameters: knownParameters).isEmpty)
        #expect(resourceIssues(claim(["resources.zones": ["EU-SOUTH-04A"]]), .capacityClaim, parameters: knownParameters) == [
            "resources.zones[1]: unknown zone 'EU-SOUTH-04A'; zones with capacity: US-EAST-04A, US-WEST-04A"])
        #expect(resourceIssues(claim(["resources.zones": ["US-EAST-04A"]]), .capacityClaim, parameters: knownParameters) == [
            "resources.instanceId: instance type 'gb200-4x' is not offered in US-EAST-04A; there: h100-8x"])
        // Unknown parameters: no such checks.
        #expect(resourceIssues(deployment(["runtime.engine": "trt"])).isEmpty)
    }

    @Test func anUnreadableParametersAnswerTurnsChecksOffWithOneWarning() {
        let opaque = ResourceParameters(.deployment, answer: ["instanceTypes": ["H100": ["gpus": 8]], "engineEnvOptions": "vllm"])
        #expect(opaque.instanceTypes == nil && opaque.engines == nil)
        let issues = ResourceValidator.validate(deployment(["runtime.engine": "trt"]), kind: .deployment, context: .init(parameters: opaque)).issues
        #expect(issues.map(\.description) == [
            "(spec): the parameters' instanceTypes, engineEnvOptions could not be read (the API does not document their shape): the checks that need them are off (warning)"])
        // The forms a server plausibly sends are read.
        let listed = ResourceParameters(.deployment, answer: [
            "instanceTypes": [["name": "H100_80GB_SXM5"]],
            "engineEnvOptions": [["engine": "vllm", "allowedNames": ["HF_HUB_OFFLINE"]]],
        ])
        #expect(listed.instanceTypes == ["H100_80GB_SXM5"] && listed.engines?["vllm"] == ["HF_HUB_OFFLINE"] && listed.unreadable.isEmpty)
        let zones = ResourceParameters(.capacityClaim, answer: ["zoneInstanceTypes": [["zone": "US-WEST-04A", "instanceTypes": ["gb200-4x"]]]])
        #expect(zones.zoneInstanceTypes == ["US-WEST-04A": ["gb200-4x"]])
    }

    @Test func instanceCountAtLeastOne() {
        #expect(resourceIssues(claim(["resources.instanceCount": 0]), .capacityClaim) == [
            "resources.instanceCount: instanceCount must be at least 1, got 0"])
    }

    @Test func claimZonesAtLeastOne() {
        #expect(resourceIssues(claim(["resources.zones": .array([])]), .capacityClaim) == [
            "resources.zones: zones needs at least one item"])
    }

    @Test func customerCapacityTypeIsRefused() {
        #expect(resourceIssues(claim(["resources.capacityType": "CAPACITY_TYPE_CUSTOMER"]), .capacityClaim) == [
            "resources.capacityType: CAPACITY_TYPE_CUSTOMER cannot be used: it is deprecated and the API refuses it; use CAPACITY_TYPE_MANAGED"])
    }

    @Test func everyIssueAtOnceWithUnknownFieldsAndTypes() {
        let doc = deployment(["name": "x_y", "resources.gpuCount": "1", "autoscaling.mni": 1, "traffic.weight": 2000, "runtime": nil])
        #expect(resourceIssues(doc) == [
            "runtime: runtime is required",
            "resources.gpuCount: expected a whole number, got string",
            "autoscaling.mni: unknown field 'mni' (did you mean 'min'?)",
            "name: 'x_y' is not a DNS label: lower-case letters, digits and '-', starting and ending with a letter or digit, at most 63",
            "traffic.weight: weight must be 0 to 1000, got 2000",
        ])
    }

    /// A misspelling is matched to one field whatever the process's set order: `mni` was 'min' or 'max' at random.
    @Test func suggestionsAreDeterministicAndCountSwapsAsOneEdit() {
        #expect(resourceIssues(deployment(["autoscaling.mni": 1])) == ["autoscaling.mni: unknown field 'mni' (did you mean 'min'?)"])
        #expect(resourceIssues(deployment(["autoscaling.mxa": 1])) == ["autoscaling.mxa: unknown field 'mxa' (did you mean 'max'?)"])
    }

    @Test func answersKeepUnknownFieldsAndUpdatesSendThemBack() throws {
        var answer = try ResourceSpec(kind: .deployment, json: deployment(), at: "spec")
        answer[path: "runtime.quantization"] = "fp8"
        answer[path: "rollout"] = ["surge": 1]
        answer.id = "d-1"
        #expect(answer.unknownFieldPaths == ["rollout", "runtime.quantization"])
        var mine = ResourceValidator.validate(deployment(), kind: .deployment).spec!
        mine[path: "autoscaling.max"] = 8
        let sent = mine.merged(over: answer)
        #expect(sent[path: "runtime.quantization"] == "fp8" && sent[path: "rollout.surge"] == 1)
        #expect(sent[path: "autoscaling.max"] == 8)
        #expect(sent.requestFields["id"] == nil)
        #expect(mine.differences(from: answer).map(\.path) == ["autoscaling.max"])
    }

    @Test func listsAreReadUnderTheirKeyOrItems() throws {
        let item: JSONValue = ["spec": claim(), "status": ["status": "STATUS_READY", "allocatedInstances": 2]]
        #expect(try Resource.list(.capacityClaim, ["capacityClaims": [item]]).count == 1)
        #expect(try Resource.list(.capacityClaim, ["items": [item]]).count == 1)
        #expect(try Resource.list(.capacityClaim, [:]).isEmpty)
        #expect(throws: (any Error).self) { try Resource.list(.capacityClaim, ["claims": [item]]) }
        let one = try Resource.fromEnvelope(.capacityClaim, ["capacityClaim": item])
        #expect(one.statusCode == .ready && one.status["allocatedInstances"] == 2)
    }
}

/// The convergence check reads a list answer for names, ids and DELETING only; it must read
/// them as the full reader does, under either list key, and skip everything else.
@Suite struct ListSkeletonTests {
    @Test func namesIdsAndDeletingAreReadAndTheRestSkipped() throws {
        let answer: JSONValue = ["items": [
            ["spec": ["name": "a", "id": "1", "zones": ["US-EAST-04A"], "endpointConfiguration": ["additionalDns": ["x.example.com"]]],
             "status": ["status": "STATUS_READY", "conditions": [["type": "Ready", "status": "True"]], "endpoints": ["https://a"]]],
            ["spec": ["name": "b\u{e9}", "id": "2"], "status": ["status": "STATUS_DELETING"]],
            ["spec": ["id": "3"], "status": [:]],
        ]]
        let names = try ListSkeletonBuilder.names(in: try answer.serialized(), keys: ["items"])
        #expect(names == [ListedName(name: "a", id: "1", deleting: false), ListedName(name: "b\u{e9}", id: "2", deleting: true)])
        let claims: JSONValue = ["capacityClaims": [["spec": ["name": "c", "resources": ["zones": ["Z"]]], "status": ["status": "STATUS_READY"]]]]
        #expect(try ListSkeletonBuilder.names(in: try claims.serialized(), keys: ["items", "capacityClaims"]).map(\.name) == ["c"])
        #expect(try ListSkeletonBuilder.names(in: Data("{}".utf8), keys: ["items"]).isEmpty)
        #expect(throws: (any Error).self) { try ListSkeletonBuilder.names(in: Data("{\"items\": [".utf8), keys: ["items"]) }
    }
}
