"""Instructions per spec under callgrind: gateway.new, the builder and the plain-Lua
validator (Benchmarks/gwlua-bench/PlainValidator.swift), on the bench's spec and on the
minimal one (name, one zone, coreWeaveAuth, bodyBasedRouting). Each figure is the
difference between 40,000 and 20,000 iterations, so start-up drops out; unlike a rate
it repeats on a loaded machine. Usage: specs_instructions.py GWLUA_BINARY"""
import os, re, subprocess, sys, tempfile

gwlua = sys.argv[1]
root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
source = open(os.path.join(root, "Benchmarks/gwlua-bench/PlainValidator.swift")).read()
validator = source[source.index('#"""') + 4:source.rindex('"""#')]
zones = '{"US-EAST-04A", "US-WEST-04A", "US-CENTRAL-07A", "RNO2A"}'
full = ('name = "llm-" .. i, zones = {zones[i % 4 + 1]}, coreWeaveAuth = {}, bodyBasedRouting = {apiType = "API_TYPE_OPENAI"}, '
        'endpointConfiguration = {additionalDns = {"llm" .. i .. ".example.com"}}')
minimal = 'name = "llm-" .. i, zones = {zones[i % 4 + 1]}, coreWeaveAuth = {}, bodyBasedRouting = {apiType = "API_TYPE_OPENAI"}'
chain = 'gateway.builder("llm-" .. i):zone(zones[i % 4 + 1]):coreweave_auth():body_routing()'
variants = [
    ("the bench's spec", [("gateway.new", "gateway.new{%s}" % full),
                          ("builder", chain + ':additional_dns("llm" .. i .. ".example.com"):build()'),
                          ("plain-Lua validator", "plainValidate{%s}" % full)]),
    ("the minimal spec", [("gateway.new", "gateway.new{%s}" % minimal), ("builder", chain + ":build()"),
                          ("plain-Lua validator", "plainValidate{%s}" % minimal)]),
]
scratch = tempfile.mkdtemp()
with open(os.path.join(scratch, "validator.lua"), "w") as f:
    f.write("ZONES = %s\n%s" % (zones, validator))

def instructions(body, n):
    path = os.path.join(scratch, "loop.lua")
    with open(path, "w") as f:
        f.write('dofile(%r)\ncollectgarbage("generational")\nlocal n = tonumber(arg[1]) local zones = %s local last\n'
                'for i = 1, n do last = %s end\n' % (os.path.join(scratch, "validator.lua"), zones, body))
    out = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", gwlua, "run", path, str(n)],
                         capture_output=True, text=True).stderr
    return int(re.search(r"Collected : (\d+)", out).group(1))

print("specs-instructions: instructions per spec (callgrind, 40,000 minus 20,000 iterations, input table included)")
for label, runs in variants:
    counts = {name: (instructions(body, 40000) - instructions(body, 20000)) // 20000 for name, body in runs}
    plain = counts["plain-Lua validator"]
    print("  %s:" % label)
    for name, count in counts.items():
        ratio = "" if name == "plain-Lua validator" else "  %.2fx the plain-Lua validator" % (plain / count)
        print("    %-20s %7d%s" % (name, count, ratio))
