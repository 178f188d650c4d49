#!/usr/bin/env bash
# The CLI's contract: --help/--version exit 0; an unknown command or option is one line on
# stderr naming it, and exit status 2.
. "$(dirname "$0")/lib/assert.sh"

expect_status 0 "$SIO" --help
expect_grep out '^usage: softiommu <command>'
expect_grep out 'bench'
expect_status 0 "$SIO" --version
expect_grep out '^softiommu [0-9]+\.[0-9]+\.[0-9]+$'
expect_status 2 "$SIO"
expect_status 2 "$SIO" frobnicate
expect_lines err 1
expect_grep err "unknown command 'frobnicate'"
expect_status 2 "$SIO" --frob
expect_lines err 1
expect_grep err "unknown option '--frob'"
for cmd in demo bench; do
  expect_status 0 "$SIO" "$cmd" --help
  expect_grep out "^usage: softiommu $cmd"
  expect_status 2 "$SIO" "$cmd" --no-such-option
  expect_lines err 1
  expect_grep err "softiommu $cmd: unknown option '--no-such-option'"
  expect_status 2 "$SIO" "$cmd" -Z
  expect_lines err 1
  expect_grep err "unknown option '-Z'"
done
expect_status 2 "$SIO" bench no_such_bench
expect_lines err 1
expect_grep err "unknown benchmark 'no_such_bench'"
expect_status 2 "$SIO" demo extra-arg
expect_lines err 1
finish
