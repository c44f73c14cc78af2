-- A fleet of all three kinds: two gateways, the three models they route to, and the capacity behind them.
--   gwlua plan scripts/examples/fleet-with-models.lua --local          what would change (+ ~ - -/+)
--   gwlua apply scripts/examples/fleet-with-models.lua --local --yes   make it so
-- A deployment's gatewayIds may name the fleet's gateways: apply creates the gateways (and claims)
-- first, puts their ids in, then creates the deployments; deletes go the other way round.
local prefix = "models-"

local function gw(name, zone)
  return {
    name = prefix .. name, zones = {zone}, coreWeaveAuth = {},
    bodyBasedRouting = {apiType = "API_TYPE_OPENAI"},
  }
end

local function model(name, gateways, instance, hf)
  return {
    name = prefix .. name,
    gatewayIds = gateways,
    runtime = {engine = "vllm", version = "0.8.5", engineConfig = {["max-model-len"] = "8192"}},
    resources = {instanceType = instance, gpuCount = 1},
    model = {name = hf, bucket = "models", path = name},
    autoscaling = {min = 1, max = 4, concurrency = 16,
                   capacityClasses = {"CAPACITY_CLASS_RESERVED", "CAPACITY_CLASS_ON_DEMAND"}},
  }
end

return {
  prefix = prefix,
  prune = true,
  gateways = {gw("east", "US-EAST-04A"), gw("west", "US-WEST-04A")},
  deployments = {
    model("llama-8b", {prefix .. "east", prefix .. "west"}, "H100_80GB_SXM5", "meta-llama/Llama-3.1-8B"),
    model("qwen-7b", {prefix .. "east"}, "L40S_48GB", "Qwen/Qwen2.5-7B-Instruct"),
    model("mistral-7b", {prefix .. "west"}, "L40S_48GB", "mistralai/Mistral-7B-Instruct-v0.3"),
  },
  capacity_claims = {
    {name = prefix .. "h100-west", resources = {instanceId = "h100-8x", instanceCount = 2, zones = {"US-WEST-04A"}}},
  },
}
