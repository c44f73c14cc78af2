/// The shapes of the gateway's two siblings in the inference API, declared once as
/// the gateway's is (../shared/API.md "Deployments and capacity claims"; wire names
/// are the protobuf JSON names of CoreWeave's Terraform provider's request structs).
/// Validation, the document reader, the Lua read and push, the builder, the
/// planner's comparison, help, completion and the generated files read these.
public enum DeploymentShape {
    public static let capacityClass = ShapeEnum("deployment.CapacityClass",
                                                ["CAPACITY_CLASS_UNSPECIFIED", "CAPACITY_CLASS_RESERVED", "CAPACITY_CLASS_ON_DEMAND"])
    public static let gpuCounts: [Int64] = [1, 2, 4, 8, 16]

    public static let runtime = ShapeRecord("deployment.Runtime", doc: "The inference engine and how it runs.", [
        ShapeField("engine", .string, required: true, minLength: 1, builder: "engine", rules: [.engine], requiredHint: "such as vllm",
                   doc: "The engine, from c:deployment_parameters() (vllm)."),
        ShapeField("version", .string, builder: "runtime_version", rules: [.semver],
                   doc: "The engine's version (semver, such as 0.8.5); unset: the latest available."),
        ShapeField("engineConfig", .stringMap, builder: "engine_config",
                   doc: "Engine options, as strings (max-model-len = \"8192\")."),
        ShapeField("engineEnv", .stringMap, builder: "engine_env", rules: [.engineEnvName],
                   doc: "Environment variables for the engine; names from the engine's allow list."),
    ])

    public static let resources = ShapeRecord("deployment.Resources", doc: "What each instance runs on.", [
        ShapeField("instanceType", .string, required: true, minLength: 1, builder: "instance_type", rules: [.instanceType],
                   requiredHint: "such as H100_80GB_SXM5", doc: "The instance type, from c:deployment_parameters()."),
        ShapeField("gpuCount", .integer, required: true, allowedIntegers: gpuCounts, builder: "gpu_count",
                   doc: "GPUs per instance: 1, 2, 4, 8 or 16."),
    ])

    public static let model = ShapeRecord("deployment.Model", doc: "The model served, from CoreWeave Object Storage.", [
        ShapeField("name", .string, required: true, minLength: 4, maxLength: 63, builder: "model",
                   doc: "The name clients send in requests, 4 to 63 characters (meta-llama/Llama-3.1-8B)."),
        ShapeField("bucket", .string, minLength: 1, builder: "model_bucket", doc: "The Object Storage bucket holding the weights."),
        ShapeField("path", .string, builder: "model_path", doc: "The weights' path inside the bucket."),
    ])

    public static let autoscaling = ShapeRecord("deployment.Autoscaling", doc: "How many instances, and from which capacity.",
                                                checks: [.atLeast("max", "min")], [
        ShapeField("min", .integer, minimum: 1, builder: "min_instances", doc: "The fewest instances, at least 1 (no scale to zero)."),
        ShapeField("max", .integer, minimum: 1, builder: "max_instances", doc: "The most instances, at least min."),
        ShapeField("priority", .integer, minimum: 0, maximum: 1000, builder: "priority",
                   doc: "0 to 1000; higher wins under contention."),
        ShapeField("concurrency", .integer, minimum: 1, builder: "concurrency", doc: "Requests in flight per instance, at least 1."),
        ShapeField("capacityClasses", .enumerations(capacityClass), builder: "capacity_class",
                   doc: "Where instances may come from, in order: the first that can be satisfied wins; no repeats."),
    ])

    public static let traffic = ShapeRecord("deployment.Traffic", doc: "The deployment's share of its model's traffic.", [
        ShapeField("weight", .integer, minimum: 0, maximum: 1000, serverDefault: .integer(0), builder: "weight",
                   doc: "0 to 1000, normalised across deployments sharing a model name; 0 or unset: the API's default."),
    ])

    public static let spec = ShapeRecord("deployment.Spec", doc: "A CreateDeployment body, with the API's own (camelCase) field names.", [
        ShapeField("id", .string, comparison: .ignored, access: .answerOnly, doc: "Set by the API in its answers."),
        ShapeField("name", .string, required: true, maxLength: 63, replaces: true, rules: [.label],
                   doc: "The deployment's name: a DNS label, at most 63 characters; the provider replaces a deployment to rename it."),
        ShapeField("organizationId", .string, comparison: .ignored, access: .answerOnly, doc: "Set by the API in its answers."),
        ShapeField("gatewayIds", .strings, required: true, minItems: 1, comparison: .caselessSet, builder: "gateway",
                   rules: [.gatewayReference], requiredHint: "the gateways that route to it",
                   doc: "The gateways that route to it (a set, at least one): ids, or in a fleet file the names of its gateways."),
        ShapeField("disabled", .boolean, serverDefault: .bool(false), builder: "disabled", doc: "Keep it but serve nothing."),
        ShapeField("runtime", .record(runtime), required: true, doc: "The engine."),
        ShapeField("resources", .record(resources), required: true, doc: "The instance type and GPUs."),
        ShapeField("model", .record(model), required: true, doc: "The model."),
        ShapeField("autoscaling", .record(autoscaling), doc: "Instances and capacity classes."),
        ShapeField("traffic", .record(traffic), doc: "Traffic weight."),
    ])
}

public enum CapacityClaimShape {
    public static let capacityType = ShapeEnum(
        "capacity_claim.CapacityType", ["CAPACITY_TYPE_UNSPECIFIED", "CAPACITY_TYPE_MANAGED", "CAPACITY_TYPE_CUSTOMER"],
        refused: ["CAPACITY_TYPE_CUSTOMER": "it is deprecated and the API refuses it"])

    public static let resources = ShapeRecord("capacity_claim.Resources", doc: "The capacity claimed.", [
        ShapeField("instanceId", .string, required: true, minLength: 1, replaces: true, builder: "instance_type", rules: [.claimInstanceType],
                   requiredHint: "the instance type, such as gb200-4x", doc: "The instance type (the wire name is instanceId)."),
        ShapeField("instanceCount", .integer, required: true, minimum: 1, builder: "count",
                   doc: "Instances claimed, at least 1; the only field changed in place."),
        ShapeField("capacityType", .enumeration(capacityType), serverDefault: .string("CAPACITY_TYPE_MANAGED"), replaces: true,
                   builder: "capacity_type", doc: "CAPACITY_TYPE_MANAGED (CUSTOMER is deprecated and refused by the API)."),
        ShapeField("zones", .strings, required: true, minItems: 1, comparison: .caselessSet, replaces: true, builder: "zone",
                   rules: [.claimZone], doc: "Zones (a set, at least one), from c:capacity_claim_parameters()."),
    ])

    public static let spec = ShapeRecord("capacity_claim.Spec", doc: "A CreateCapacityClaim body, with the API's own field names.", [
        ShapeField("id", .string, comparison: .ignored, access: .answerOnly, doc: "Set by the API in its answers."),
        ShapeField("name", .string, required: true, maxLength: 63, replaces: true, rules: [.label],
                   doc: "The claim's name: a DNS label, at most 63 characters."),
        ShapeField("organizationId", .string, comparison: .ignored, access: .answerOnly, doc: "Set by the API in its answers."),
        ShapeField("resources", .record(resources), required: true, doc: "What is claimed, and where."),
    ])
}

/// The three kinds of the inference API, each with its declared shape and where it lives.
public enum ResourceKind: String, Sendable, CaseIterable, Hashable, Codable {
    case gateway, deployment, capacityClaim

    public var shape: ShapeRecord {
        switch self {
        case .gateway: return GatewayShape.spec
        case .deployment: return DeploymentShape.spec
        case .capacityClaim: return CapacityClaimShape.spec
        }
    }

    /// The collection's path under the API's root.
    public var path: String {
        switch self {
        case .gateway: return "/v1alpha1/inference/gateways"
        case .deployment: return "/v1alpha1/inference/deployments"
        case .capacityClaim: return "/v1alpha1/inference/capacityclaims"
        }
    }

    /// The key of a one-resource answer (`{"deployment": …}`).
    public var envelopeKey: String { rawValue }

    /// The keys a list answer may hold its items under: the documented one first, then `items`.
    public var listKeys: [String] {
        switch self {
        case .gateway, .deployment: return ["items"]
        case .capacityClaim: return ["capacityClaims", "items"]
        }
    }

    /// In sentences: "capacity claim".
    public var noun: String { self == .capacityClaim ? "capacity claim" : rawValue }
    public var plural: String { self == .capacityClaim ? "capacity claims" : rawValue + "s" }
    /// In Lua names: `gateway.capacity_claim`, `c:create_capacity_claim`.
    public var luaName: String { self == .capacityClaim ? "capacity_claim" : rawValue }
    /// A fleet file's key: `capacity_claims`.
    public var fleetKey: String { luaName + "s" }
    /// The JSON Schema file of its create request.
    public var schemaFile: String {
        switch self {
        case .gateway: return "docs/schema/create-gateway.schema.json"
        case .deployment: return "docs/schema/create-deployment.schema.json"
        case .capacityClaim: return "docs/schema/create-capacity-claim.schema.json"
        }
    }
    /// The request's name in the API's terms (CreateDeployment).
    public var requestName: String {
        switch self {
        case .gateway: return "CreateGateway"
        case .deployment: return "CreateDeployment"
        case .capacityClaim: return "CreateCapacityClaim"
        }
    }
    /// The answer spec's schema name in docs/openapi.yaml.
    public var specSchemaName: String {
        switch self {
        case .gateway: return "GatewaySpec"
        case .deployment: return "DeploymentSpec"
        case .capacityClaim: return "CapacityClaimSpec"
        }
    }

    /// The enums its shape uses, in declared order, each once.
    public var enums: [ShapeEnum] {
        var seen: Set<String> = [], out: [ShapeEnum] = []
        for (_, field) in ShapePaths.all(of: shape) {
            let e: ShapeEnum?
            switch field.kind {
            case .enumeration(let x), .enumerations(let x): e = x
            default: e = nil
            }
            if let e, seen.insert(e.typeName).inserted { out.append(e) }
        }
        return out
    }
}

/// Field paths of any declared record.
public enum ShapePaths {
    /// Every field path (`runtime.engine`) with its declaration, each record before its fields.
    public static func all(of record: ShapeRecord, prefix: String = "") -> [(path: String, field: ShapeField)] {
        record.fields.flatMap { field -> [(path: String, field: ShapeField)] in
            let path = prefix + field.name
            return [(path, field)] + (field.record.map { all(of: $0, prefix: path + ".") } ?? [])
        }
    }
}
