"""Reference for `scripts/bench specs`: Python jsonschema validating the same
CreateGateway documents (JSON Lines) with docs/schema/create-gateway.schema.json."""
import json
import statistics
import sys
import time

import jsonschema
from importlib.metadata import version

schema_path, documents_path, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
with open(schema_path) as f:
    schema = json.load(f)
with open(documents_path) as f:
    lines = [line for line in f if line.strip()]
validator = jsonschema.Draft202012Validator(schema)
times = []
for _ in range(rounds):
    start = time.perf_counter()
    invalid = 0
    for line in lines:
        # Parse and validate, as gwlua parses Lua tables and validates.
        if not validator.is_valid(json.loads(line)):
            invalid += 1
    times.append(time.perf_counter() - start)
    assert invalid == 0, f"{invalid} documents invalid"
per_spec = statistics.median(times) / len(lines) * 1e6
print(f"  python jsonschema {version('jsonschema'):8} {len(lines) / statistics.median(times):9.0f} specs/s  {per_spec:6.2f} us/spec  (same documents, parse + validate)")
print(f"PY_US_PER_SPEC {per_spec:.4f}")
