import Foundation
import GatewayKit
@testable import GatewayLua
import LuaHost
import Testing

let deploymentTable = #"""
{name = "llama-8b", gatewayIds = {"7f1c2a3b-0d4e-4f5a-8b6c-1d2e3f4a5b6c"},
 runtime = {engine = "vllm", version = "0.8.5", engineConfig = {["max-model-len"] = "8192"}, engineEnv = {HF_HUB_OFFLINE = "1"}},
 resources = {instanceType = "H100_80GB_SXM5", gpuCount = 2}, model = {name = "meta-llama/Llama-3.1-8B", bucket = "models", path = "llama"},
 autoscaling = {min = 1, max = 4, priority = 100, concurrency = 16, capacityClasses = {"CAPACITY_CLASS_RESERVED", "CAPACITY_CLASS_ON_DEMAND"}},
 traffic = {weight = 100}, disabled = false}
"""#

let deploymentBuilt = #"""
gateway.deployment.builder("llama-8b"):gateway("7f1c2a3b-0d4e-4f5a-8b6c-1d2e3f4a5b6c")
  :engine("vllm"):runtime_version("0.8.5"):engine_config("max-model-len", "8192"):engine_env{HF_HUB_OFFLINE = "1"}
  :instance_type("H100_80GB_SXM5"):gpu_count(2):model("meta-llama/Llama-3.1-8B"):model_bucket("models"):model_path("llama")
  :min_instances(1):max_instances(4):priority(100):concurrency(16):capacity_class("CAPACITY_CLASS_RESERVED", "CAPACITY_CLASS_ON_DEMAND")
  :weight(100):disabled(false):build()
"""#

@Suite struct ResourceLuaTests {
    @Test func tableFormAndBuilderAgreeForDeploymentsAndClaims() throws {
        let state = try gatewayState()
        let table = try state.eval("return gateway.deployment.to_json(gateway.deployment.new\(deploymentTable))")
        let built = try state.eval("return gateway.deployment.to_json(\(deploymentBuilt))")
        #expect(table == built)
        guard case .string(let text) = table else { Issue.record("no JSON"); return }
        let sent = try JSONValue(parsing: Data(text.string.utf8))
        #expect(sent["resources"]?["gpuCount"] == 2 && sent["runtime"]?["engineConfig"]?["max-model-len"] == "8192")
        let claimTable = try state.eval(#"""
            return gateway.capacity_claim.to_json(gateway.capacity_claim.new{name = "gb200-east",
              resources = {instanceId = "gb200-4x", instanceCount = 2, capacityType = "CAPACITY_TYPE_MANAGED", zones = {"US-WEST-04A"}}})
            """#)
        let claimBuilt = try state.eval(#"""
            return gateway.capacity_claim.to_json(gateway.capacity_claim.builder("gb200-east"):instance_type("gb200-4x"):count(2)
              :capacity_type("CAPACITY_TYPE_MANAGED"):zone("US-WEST-04A"):build())
            """#)
        #expect(claimTable == claimBuilt)
    }

    /// Every field the declaration gives a builder name is a builder method: a new field is one declaration.
    @Test(arguments: ResourcesAPI.kinds)
    func theBuilderHasAMethodPerDeclaredField(_ kind: ResourceKind) throws {
        let state = try gatewayState()
        for (path, field) in ShapePaths.all(of: kind.shape) where field.access != .answerOnly && field.record == nil && path != "name" {
            let method = try #require(field.builder, "\(kind).\(path) has no builder method")
            #expect(try state.eval("return type(getmetatable(gateway.\(kind.luaName).builder('x')).__index.\(method))") == .string("function"))
        }
    }

    @Test func invalidSpecsRaiseEveryIssueWithItsPathAndLine() throws {
        let state = try gatewayState()
        let message = try state.failure(#"""
            local d = gateway.deployment.new{name = "Llama", gatewayIds = {}, runtime = {engine = "vllm", version = "8"},
              resources = {instanceType = "H100_80GB_SXM5", gpuCount = 3}, model = {name = "abc"}, autoscaling = {min = 2, max = 1}}
            """#)
        #expect(message.hasPrefix("spec:1: invalid deployment spec (6 errors):"), "\(message)")
        for path in ["name:", "gatewayIds:", "runtime.version:", "resources.gpuCount:", "model.name:", "autoscaling.max:"] {
            #expect(message.contains("\n  \(path) "), "\(path) in \(message)")
        }
        let claim = try state.failure(#"""
            gateway.capacity_claim.new{name = "c", resources = {instanceId = "x", instanceCount = 1, zones = {"US-WEST-04A"},
              capacityType = "CAPACITY_TYPE_CUSTOMER"}}
            """#)
        #expect(claim.contains("resources.capacityType: CAPACITY_TYPE_CUSTOMER cannot be used: it is deprecated and the API refuses it"))
    }

    @Test func validateNeverRaisesAndParametersAreChecked() throws {
        let state = try gatewayState()
        let result = try state.eval(#"""
            local p = {instanceTypes = {"L40S_48GB"}, engineEnvOptions = {vllm = {allowedNames = {"HF_HUB_OFFLINE"}}}}
            local ok, issues = gateway.deployment.validate(\#(deploymentTable), {parameters = p})
            local out = {}
            for _, i in ipairs(issues) do out[#out + 1] = i.path end
            return tostring(ok) .. " " .. table.concat(out, ",")
            """#)
        #expect(result == .string("false resources.instanceType"))
        #expect(try state.eval("return (gateway.deployment.validate(42))") == .boolean(false))
    }

    @Test func fleetGatewayNamesStandForIds() throws {
        let state = try gatewayState()
        let ok = try state.eval(#"""
            local t = \#(deploymentTable)
            t.gatewayIds = {"llm-east"}
            return gateway.deployment.new(t, {gateways = {"llm-east"}}).gatewayIds[1]
            """#)
        #expect(ok == .string("llm-east"))
    }

    @Test func builderArgumentsAreCheckedAtTheCall() throws {
        let state = try gatewayState()
        let message = try state.failure(#"gateway.deployment.builder("x"):gpu_count("two")"#)
        #expect(message.contains("spec:1:") && message.contains(":gpu_count (resources.gpuCount)"), "\(message)")
    }

    @Test func specTablesPrintAsLua() throws {
        let state = try gatewayState()
        let text = try state.eval("return tostring(gateway.deployment.new\(deploymentTable))")
        guard case .string(let s) = text else { Issue.record("no text"); return }
        #expect(s.string.hasPrefix(#"gateway.deployment{name = "llama-8b", gatewayIds = {"#), "\(s)")
        #expect(s.string.contains(#"engineConfig = {["max-model-len"] = "8192"}"#), "\(s)")
    }

    @Test func everyFunctionAndMethodHasHelp() throws {
        _ = try gatewayState()
        for kind in ResourcesAPI.kinds {
            let k = kind.luaName
            for name in ["gateway.\(k).new", "gateway.\(k).validate", "gateway.\(k).to_json", "gateway.\(k).builder", "gateway.\(k).spec",
                         "c:create_\(k)", "c:get_\(k)", "c:list_\(kind.fleetKey)", "c:update_\(k)", "c:delete_\(k)", "c:wait_\(k)", "c:\(k)_parameters"] {
                #expect(LuaHelp.entry(for: name) != nil, "no help for \(name)")
            }
        }
        let methods = Set(ClientAPI.luaClass.methods.map(\.name))
        for alias in ["create_gateway", "get_gateway", "list_gateways", "update_gateway", "delete_gateway", "wait_gateway", "gateway_parameters"] {
            #expect(methods.contains(alias))
        }
    }
}
