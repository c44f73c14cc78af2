---@meta gwlua
-- lua-language-server definitions for gwlua's globals: `gateway` (specs, the client,
-- plan and apply) and `json`. Point a project's .luarc.json at this folder:
--   { "runtime.version": "Lua 5.4", "workspace.library": ["/path/to/gwlua/editor"] }
-- Spec classes are exact: a field the API lacks assigned to a spec is flagged (inject-field),
-- and a spec missing `name` or `zones` (a misspelled `nmae`) is reported as missing fields.

---@alias gateway.APIType "API_TYPE_UNSPECIFIED"|"API_TYPE_OPENAI"
---@alias gateway.StatusCode "STATUS_UNSPECIFIED"|"STATUS_CREATING"|"STATUS_READY"|"STATUS_UPDATING"|"STATUS_DELETING"|"STATUS_ERROR"|"STATUS_FAILED"
---@alias gateway.Action "create"|"update"|"replace"|"unchanged"|"delete"

---A CreateGateway body, with the API's own (camelCase) field names.
---@class (exact) gateway.Spec
---@field name string
---@field zones string[]
---@field id? string A client-chosen UUID.
---@field coreWeaveAuth? {} Exactly one auth: this or weightsAndBiasesAuth.
---@field weightsAndBiasesAuth? gateway.WandbAuth
---@field bodyBasedRouting? gateway.BodyRouting Exactly one routing: body, header or path.
---@field headerBasedRouting? gateway.HeaderRouting
---@field pathBasedRouting? {}
---@field endpointConfiguration? gateway.EndpointConfiguration
---@field organizationId? string Set by the API in its answers; accepted and not sent.

---@class (exact) gateway.WandbAuth
---@field apiKey? string Never printed, logged or journalled by gwlua.
---@field serverUrl? string https only.
---@field enableUsageReports? boolean
---@field enableRateLimiting? boolean

---@class (exact) gateway.BodyRouting
---@field apiType gateway.APIType

---@class (exact) gateway.HeaderRouting
---@field headerName string

---@class (exact) gateway.EndpointConfiguration
---@field additionalDns? string[]
---@field allowedSourceIpRanges? string[] CIDR ranges, IPv4 or IPv6.

---@class gateway.Condition
---@field type? string
---@field status? "Unknown"|"True"|"False"
---@field reason? string
---@field message? string
---@field zone? string
---@field lastUpdateTime? string

---@class gateway.GatewayStatus
---@field status gateway.StatusCode
---@field endpoints string[]
---@field conditions gateway.Condition[]
---@field createdAt? string
---@field updatedAt? string

---A gateway as the API answers it.
---@class gateway.Gateway
---@field spec gateway.Spec
---@field status gateway.GatewayStatus

---@class gateway.Issue
---@field severity "error"|"warning"
---@field path string The field's path, as `endpointConfiguration.additionalDns[2]`.
---@field message string

---An API failure, or gwlua's own around a call; `tostring(err)` is one line.
---@class gateway.Error
---@field code string "INVALID_ARGUMENT", "NOT_FOUND", …, or gwlua's "VALIDATION", "TIMEOUT", "CONFIG", "TRANSPORT", "STALE_PLAN".
---@field message string
---@field http_status? integer
---@field details table[] `{type = "google.rpc.BadRequest", fieldViolations = {…}}` and the like.
---@field issues? gateway.Issue[] For VALIDATION.
---@field gateway? gateway.Gateway For a gateway that reached STATUS_FAILED.

---@class gateway.ValidateOptions
---@field zones? string[] The zones the API offers (`c:parameters().zones`).

---@class gateway.JSONOptions
---@field pretty? boolean

---@class gateway.ClientOptions
---@field endpoint? string
---@field token? string
---@field timeout? number Seconds per request.
---@field max_attempts? integer
---@field retry_delay? number
---@field retry_max_delay? number

---@class gateway.WaitOptions
---@field timeout? number
---@field interval? number
---@field on_status? fun(g: gateway.Gateway)

---@class gateway.DeleteOptions
---@field wait? boolean Return once get answers 404.
---@field timeout? number
---@field interval? number

---@class gateway.ListOptions
---@field updated_after? string An RFC 3339 time.

---@class gateway.Fingerprint
---@field desired string
---@field existing string

---@class gateway.PlanOptions
---@field prune? boolean Delete gateways no spec names (within the prefix).
---@field prefix? string Consider only gateways whose names start with it.
---@field replace? boolean|string[] Replace gateways whose difference an update cannot make.
---@field target? string[] Only these names' items.

---@class gateway.ApplyOptions: gateway.PlanOptions
---@field concurrency? integer
---@field wait? boolean Wait for READY after creates and updates, for 404 after deletes.
---@field wait_timeout? number
---@field wait_interval? number
---@field fail_fast? boolean
---@field journal? string A JSON Lines journal; a killed run resumes from it.
---@field expect? gateway.Fingerprint Apply only while a plan's fingerprint still holds.
---@field dry_run? boolean
---@field on_result? fun(item: gateway.ApplyItem)

---@class gateway.Change
---@field path string
---@field old? any
---@field new? any

---@class gateway.PlanItem
---@field name string
---@field action gateway.Action
---@field id? string
---@field spec? gateway.Spec
---@field changes? gateway.Change[]
---@field replace_only? gateway.Change[]
---@field note? string
---@field duplicate_of? string

---@class gateway.Plan
---@field create gateway.PlanItem[]
---@field update gateway.PlanItem[]
---@field replace gateway.PlanItem[]
---@field unchanged gateway.PlanItem[]
---@field delete gateway.PlanItem[]
---@field notes string[]
---@field text string The plan as `p:show()` prints it.
---@field summary string `Plan: 1 to create, 0 to update, 0 to delete.`
---@field changes boolean
---@field fingerprint gateway.Fingerprint
---@field json string The plan as JSON Lines.
local Plan = {}

---Prints the plan (coloured on a terminal), or with `{json = true}` its JSON Lines.
---@param opts? {json?: boolean}
function Plan:show(opts) end

---@class gateway.ApplyItem
---@field name string
---@field action gateway.Action
---@field ok boolean
---@field id? string
---@field gateway? gateway.Gateway
---@field error? gateway.Error
---@field skipped? boolean
---@field duration number
---@field note? string
---@field kept? gateway.Change[]
---@field replaced_id? string

---@class gateway.ApplyResult
---@field created integer
---@field updated integer
---@field replaced integer
---@field unchanged integer
---@field deleted integer
---@field failed integer
---@field skipped integer
---@field duration number
---@field items gateway.ApplyItem[]
---@field dry_run? boolean
---@field plan? gateway.Plan

---@class gateway.Client
local Client = {}

---@return {zones: string[]}
function Client:parameters() end

---@param spec gateway.Spec
---@return gateway.Gateway
function Client:create(spec) end

---@param id string
---@return gateway.Gateway
function Client:get(id) end

---@param opts? gateway.ListOptions
---@return gateway.Gateway[]
function Client:list(opts) end

---Sends the whole spec (the API takes no field mask).
---@param id string
---@param spec gateway.Spec
---@return gateway.Gateway
function Client:update(id, spec) end

---@param id string
---@param opts? gateway.DeleteOptions
---@return gateway.Gateway
function Client:delete(id, opts) end

---Until STATUS_READY; through STATUS_ERROR; raises on STATUS_FAILED or the timeout.
---@param id string
---@param opts? gateway.WaitOptions
---@return gateway.Gateway
function Client:wait(id, opts) end

---@param specs gateway.Spec[]
---@param opts? gateway.PlanOptions
---@return gateway.Plan
function Client:plan(specs, opts) end

---@param specs gateway.Spec[]
---@param opts? gateway.ApplyOptions
---@return gateway.ApplyResult
function Client:apply(specs, opts) end

---@class gateway.Builder
local Builder = {}
---@param zone string
---@return gateway.Builder
function Builder:zone(zone) end
---@param zones string[]
---@return gateway.Builder
function Builder:zones(zones) end
---@param uuid string
---@return gateway.Builder
function Builder:id(uuid) end
---@return gateway.Builder
function Builder:coreweave_auth() end
---@param auth gateway.WandbAuth
---@return gateway.Builder
function Builder:wandb_auth(auth) end
---@param apiType? gateway.APIType Default API_TYPE_OPENAI.
---@return gateway.Builder
function Builder:body_routing(apiType) end
---@param headerName string
---@return gateway.Builder
function Builder:header_routing(headerName) end
---@return gateway.Builder
function Builder:path_routing() end
---@param ... string
---@return gateway.Builder
function Builder:additional_dns(...) end
---@param ... string CIDR ranges.
---@return gateway.Builder
function Builder:allowed_source_ip_ranges(...) end
---@param opts? gateway.ValidateOptions
---@return gateway.Spec
function Builder:build(opts) end

gateway = {}

---gwlua's version.
---@type string
gateway.version = ""

---Validates `t` and returns a fresh spec table, or raises the VALIDATION error.
---@param t gateway.Spec
---@param opts? gateway.ValidateOptions
---@return gateway.Spec
function gateway.new(t, opts) end

---@param name string
---@return gateway.Builder
function gateway.builder(name) end

---Never raises for a bad spec: `ok` is false when any issue is an error.
---@param t gateway.Spec|table
---@param opts? gateway.ValidateOptions
---@return boolean ok
---@return gateway.Issue[] issues
function gateway.validate(t, opts) end

---The exact CreateGateway body (sorted keys).
---@param spec gateway.Spec
---@param opts? gateway.JSONOptions
---@return string
function gateway.to_json(spec, opts) end

---A client; endpoint and token default to the command line's.
---@param opts? gateway.ClientOptions
---@return gateway.Client
function gateway.client(opts) end

json = {}

---JSON null, kept in decoded tables so positions and keys survive.
---@type lightuserdata
json.null = nil

---Sorted keys; `{pretty = true}` indents by two spaces.
---@param value any
---@param opts? gateway.JSONOptions
---@return string
function json.encode(value, opts) end

---@param text string
---@return any
function json.decode(text) end

---Marks `t` as an array, so an empty one encodes as `[]`.
---@generic T: table
---@param t T
---@return T
function json.array(t) end
