-- A gateway, the models behind it and the capacity they run on, one call at a time:
--   gwlua run --local scripts/examples/models.lua
-- Deployments and capacity claims use the same verbs as gateways:
-- c:create_deployment, c:get_…, c:list_deployments, c:update_…, c:delete_…, c:wait_…, c:deployment_parameters.
local c = gateway.client()

local g = c:create_gateway(gateway.new{
  name = "models-demo", zones = {"US-WEST-04A"}, coreWeaveAuth = {},
  bodyBasedRouting = {apiType = "API_TYPE_OPENAI"},
})
c:wait(g.spec.id, {timeout = 60, interval = 0.2})

-- What the API offers: checked by gateway.deployment.new when passed as parameters.
local offered = c:deployment_parameters()

local llama = gateway.deployment.new({
  name = "llama-8b",
  gatewayIds = {g.spec.id},
  runtime = {engine = "vllm", version = "0.8.5", engineConfig = {["max-model-len"] = "8192"}},
  resources = {instanceType = "H100_80GB_SXM5", gpuCount = 1},
  model = {name = "meta-llama/Llama-3.1-8B", bucket = "models", path = "llama-3.1-8b"},
  autoscaling = {min = 1, max = 4, concurrency = 16,
                 capacityClasses = {"CAPACITY_CLASS_RESERVED", "CAPACITY_CLASS_ON_DEMAND"}},
}, {parameters = offered})

-- The builder makes the same kind of spec table.
local qwen = gateway.deployment.builder("qwen-7b")
  :gateway(g.spec.id):engine("vllm"):instance_type("L40S_48GB"):gpu_count(1)
  :model("Qwen/Qwen2.5-7B-Instruct"):model_bucket("models")
  :min_instances(1):max_instances(2):capacity_class("CAPACITY_CLASS_ON_DEMAND")
  :build{parameters = offered}

local claim = gateway.capacity_claim.builder("h100-west")
  :instance_type("h100-8x"):count(2):zone("US-WEST-04A")
  :build{parameters = c:capacity_claim_parameters()}

local made = {}
for _, spec in ipairs{llama, qwen} do
  local d = c:create_deployment(spec)
  made[#made + 1] = d.spec.id
  -- Done means READY with the ResourcesApplied condition True.
  d = c:wait_deployment(d.spec.id, {timeout = 60, interval = 0.2})
  print(("%-10s %s"):format(d.spec.name, d.status.status))
end
local cl = c:wait_capacity_claim(c:create_capacity_claim(claim).spec.id, {timeout = 60, interval = 0.2})
print(("%-10s %s, %d of %d instances allocated"):format(cl.spec.name, cl.status.status,
  cl.status.allocatedInstances, cl.spec.resources.instanceCount))

-- Scale the claim: instanceCount is the one field a claim changes in place.
local more = c:get_capacity_claim(cl.spec.id).spec
more.resources.instanceCount = 3
print("claim now asks for", c:update_capacity_claim(cl.spec.id, more).spec.resources.instanceCount)

-- The gateway cannot go while deployments route to it: delete them first.
local ok, err = pcall(c.delete_gateway, c, g.spec.id)
print("delete the gateway first:", ok, err.code)
-- Both go at once; waiting for the later one waits for both.
c:delete_deployment(made[1])
c:delete_deployment(made[2], {wait = true, interval = 0.2})
c:delete_capacity_claim(cl.spec.id)
c:delete_gateway(g.spec.id)
print(#c:list_deployments(), "deployments left")
