#!/usr/bin/env bash
# The README stays true: its embedding example is examples/embed.c, byte for byte, and every
# command it lists in the CLI section exists.
. "$(dirname "$0")/lib/assert.sh"
awk '/^```c$/{f=1;next} /^```$/{if(f){exit}} f' "$SRC/README.md" >"$TMPD/readme_block.c"
tail -n +2 "$SRC/examples/embed.c" >"$TMPD/example.c"
expect_status 0 cmp "$TMPD/readme_block.c" "$TMPD/example.c"
for cmd in $(sed -n '/^## The command line/,/^## /p' "$SRC/README.md" | grep -oE '^softiommu [a-z]+' | awk '{print $2}'); do
  expect_status 0 "$SIO" "$cmd" --help
done
finish
