#!/usr/bin/env bash
# softiommu bench --json prints one JSON object with results[{name, ns_per_op, ops}].
. "$(dirname "$0")/lib/assert.sh"
export SIO_BENCH_MS=5
expect_status 0 "$SIO" bench --json memcpy4k
python3 - "$TMPD/out" <<'PY' && passes=$((passes + 1)) || { echo "FAIL: bad bench JSON"; fails=$((fails + 1)); }
import json, sys
doc = json.load(open(sys.argv[1]))
r = doc["results"]
assert len(r) == 1 and r[0]["name"] == "memcpy4k", r
assert r[0]["ns_per_op"] > 0 and r[0]["ops"] > 0, r
assert isinstance(doc["ratios"], list)
PY
expect_status 0 "$SIO" bench --list
expect_grep out '^memcpy4k '
finish
