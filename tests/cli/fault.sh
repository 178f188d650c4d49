#!/usr/bin/env bash
# softiommu fault: a raw 128-bit VT-d fault record decoded the way Linux prints it. Expected
# lines are written from the FRCD layout (VT-d 1): hi = F 63 | T1 62 | AT 61:60 | PV 59:40 |
# FR 39:32 | PP 31 | EXE 30 | PRIV 29 | T2 28 | SID 15:0; lo = FI 63:12.
. "$(dirname "$0")/lib/assert.sh"

expect_status 0 "$SIO" fault --help
expect_grep out '^usage: softiommu fault'

# DESIGN.md's line: F, FR 0x05, SID 00:02.0 (0x0010), write, page 0x80000000.
expect_status 0 "$SIO" fault 0x8000000500000010 0x80000000
expect_grep out '^DMAR: \[DMA Write NO_PASID\] Request device \[0000:00:02\.0\] fault addr 0x80000000 \[fault reason 0x05\] PTE Write access is not set$'
expect_grep out '^  F      1 \(fault pending\)'
expect_grep out '^  SID    0x0010 \(0000:00:02\.0\)'
expect_grep out '^  type   write'
expect_grep out 'qualified: FPD=1 suppresses it'

# A read (T1) of 0x7123 by 03:1f.7 (0x03ff), reason 0x06; low FI bits are reserved and ignored.
expect_status 0 "$SIO" fault C0000006000003FF 7123
expect_grep out '^DMAR: \[DMA Read NO_PASID\] Request device \[0000:03:1f\.7\] fault addr 0x7000 \[fault reason 0x06\] PTE Read access is not set$'

# Root entry not present (0x1) is non-qualified; segment 2.
expect_status 0 "$SIO" fault --segment 2 0x8000000100000100 0x1000
expect_grep out '^DMAR: \[DMA Write NO_PASID\] Request device \[0002:01:00\.0\] fault addr 0x1000 \[fault reason 0x01\] Present bit in root entry is clear$'
expect_grep out 'non-qualified: always recorded'

# Interrupt remapping: index 0x1f in FI 63:48, reason 0x22, from 00:1f.0.
expect_status 0 "$SIO" fault 0x80000022000000f8 0x001f000000000000
expect_grep out '^DMAR: \[INTR-REMAP\] Request device \[0000:00:1f\.0\] fault index 0x1f \[fault reason 0x22\] Present field in the IRTE entry is clear$'
expect_grep out '^  index  0x1f'

# PASID present (PP) with PV 0x12345, translation request (AT 01), reason 0x0c.
expect_status 0 "$SIO" fault 0x9123450C80000008 0xabc000
expect_grep out '^DMAR: \[DMA Write PASID 0x12345\] Request device \[0000:00:01\.0\] fault addr 0xabc000 \[fault reason 0x0c\] non-zero reserved fields in PTE$'
expect_grep out '^  AT     1 \(translation request'

# A cleared record still decodes, and says so.
expect_status 0 "$SIO" fault 0x0000000500000010 0x80000000
expect_grep out 'clear: this record holds no pending fault'

# JSON.
expect_status 0 "$SIO" fault --json 0x8000000500000010 0x80000000
if python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["reason"]==5 and d["sid"]==16 and d["pending"] is True and d["type"]=="write" and d["addr"]==0x80000000 and d["device"]=="0000:00:02.0"' "$TMPD/out"; then
  passes=$((passes + 1)); else echo "FAIL: --json output"; fails=$((fails + 1)); fi

# Bad arguments: one line on stderr, exit 2.
for args in "" "0x1" "0x1 0x2 0x3" "zz 0" "0 0xg" "0x 0" "12345678901234567 0" "0 --nope"; do
  # shellcheck disable=SC2086
  expect_status 2 "$SIO" fault $args
  expect_lines err 1
done
expect_status 2 "$SIO" fault --segment 10000 1 2
expect_lines err 1
expect_grep err 'bad segment'
expect_status 2 "$SIO" fault --no-such-option
expect_lines err 1
expect_grep err "softiommu fault: unknown option '--no-such-option'"
finish
