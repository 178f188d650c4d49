#!/usr/bin/env bash
# softiommu host [--root DIR] [--json] against the fixture trees in tests/data/host (one per
# situation), and on the machine running the test: a verdict always, exit 0 ready / 1 not ready.
. "$(dirname "$0")/lib/assert.sh"
FIX="$SRC/tests/data/host"

expect_status 0 "$SIO" host --help
expect_grep out '^usage: softiommu host \[--root DIR\] \[--json\]'
expect_status 2 "$SIO" host --bogus
expect_lines err 1
expect_grep err "softiommu host: unknown option '--bogus'"
expect_status 2 "$SIO" host --root
expect_lines err 1
expect_status 2 "$SIO" host extra
expect_lines err 1

# No IOMMU at all.
expect_status 1 "$SIO" host --root "$FIX/no_iommu"
expect_grep out '^CPU        GenuineIntel: Intel\(R\) Core\(TM\)2 Duo'
expect_grep out 'VT-x \(vmx\): yes'
expect_grep out '^firmware   DMAR: absent$'
expect_grep out '^verdict    no IOMMU: the firmware published neither a DMAR nor an IVRS table'

# VT-d in the chipset, off in firmware.
expect_status 1 "$SIO" host --root "$FIX/vtd_off_firmware"
expect_grep out '^chipset    00:00.0 \[8086:29b0\] Intel Q35 Express'
expect_grep out '^verdict    VT-d is off in firmware: the Intel Q35 Express .* enable "VT-d"'

# VT-d on, translated, lazy.
expect_status 0 "$SIO" host --root "$FIX/vtd_translated"
expect_grep out '^firmware   DMAR: present, 408 bytes: 4 remapping units \(DRHD\), 8 RMRR'
expect_grep out 'VT-d driver: on \(intel_iommu=on\)'
expect_grep out 'invalidation: lazy \(kernel default: CONFIG_IOMMU_DEFAULT_DMA_LAZY=y\)'
expect_grep out 'IOMMU units: dmar0 dmar1 dmar2 dmar3'
expect_grep out '^  group 1    00:02.0 VGA compatible controller \[0300\]: Intel Corporation Device \[8086:29b2\] \(driver i915\)$'
expect_grep out '^verdict    READY: VT-d is on \(4 units\), host DMA translated \(lazy\)'
expect_grep out 'allow_unsafe_interrupts=1'

# iommu=pt.
expect_status 0 "$SIO" host --root "$FIX/iommu_pt"
expect_grep out 'default domain: pass-through \(identity\) \(iommu=pt\)'
expect_grep out '^verdict    READY: .*pass-through'

# AMD-Vi, with the common mistake amd_iommu=on.
expect_status 0 "$SIO" host --root "$FIX/amd_vi"
expect_grep out 'AMD-V \(svm\): yes'
expect_grep out '^firmware   DMAR: absent$'
expect_grep out 'IVRS: present, 496 bytes'
expect_grep out 'AMD-Vi driver: on'
expect_grep out '^verdict    READY: AMD-Vi is on \(4 units\), host DMA translated \(strict\)'
expect_grep out "amd_iommu=on is not an option Linux knows"

# Several groups, names from pci.ids.
expect_status 0 "$SIO" host --root "$FIX/several_groups"
expect_grep out '^groups     8 IOMMU groups$'
expect_grep out '02:00.3 Ethernet controller \[0200\]: Intel Corporation I350 Gigabit Network Connection \[8086:1521\] \(driver igb\)'
expect_grep out 'IOMMU group 4 holds 4 devices'

# Off on the command line, off by the kernel's default, a malformed table.
expect_status 1 "$SIO" host --root "$FIX/vtd_cmdline_off"
expect_grep out '^verdict    VT-d present but disabled on the kernel command line \(intel_iommu=off\): remove it and add intel_iommu=on$'
expect_status 1 "$SIO" host --root "$FIX/vtd_default_off"
expect_grep out 'add intel_iommu=on to the kernel command line'
expect_status 1 "$SIO" host --root "$FIX/bad_table"
expect_grep out 'MALFORMED at offset 0x32'

# JSON for the AMD machine and the several-groups one.
expect_status 0 "$SIO" host --json --root "$FIX/amd_vi"
python3 - "$TMPD/out" <<'PY' && passes=$((passes + 1)) || { echo "FAIL: bad host JSON"; fails=$((fails + 1)); }
import json, sys
d = json.load(open(sys.argv[1]))
assert d["verdict"] == "READY" and d["ready"] is True, d["verdict"]
assert d["cpu"]["svm"] is True and d["cpu"]["vmx"] is False
assert d["firmware"]["IVRS"]["present"] and d["firmware"]["IVRS"]["ivhd"] >= 4
assert d["firmware"]["DMAR"]["present"] is False
k = d["kernel"]
assert k["iommu"] == "AMD-Vi" and k["driver_enabled"] is True and k["strict"] is True
assert k["units"] == ["ivhd0", "ivhd1", "ivhd2", "ivhd3"]
assert any("amd_iommu=on" in w for w in k["warnings"])
g = d["groups"][3]
assert g["id"] == 3 and g["type"] == "DMA" and [x["bdf"] for x in g["devices"]] == ["0000:21:00.0", "0000:21:00.1"]
assert g["devices"][0]["vendor"] == "10de" and g["devices"][0]["class"] == "030000"
PY
expect_status 1 "$SIO" host --json --root "$FIX/vtd_off_firmware"
python3 - "$TMPD/out" <<'PY' && passes=$((passes + 1)) || { echo "FAIL: bad host JSON"; fails=$((fails + 1)); }
import json, sys
d = json.load(open(sys.argv[1]))
assert d["verdict"] == "FIRMWARE_OFF" and d["ready"] is False
assert d["chipset"]["host_bridge"] == "8086:29b0" and d["chipset"]["vtd"] is True
assert d["groups"] == []
PY

# Nothing there at all.
expect_status 1 "$SIO" host --root "$TMPD/nothing"
expect_grep out '^verdict    cannot tell'

# This machine: never a crash, always a verdict.
"$SIO" host >"$TMPD/out" 2>"$TMPD/err"
st=$?
if [ "$st" -le 1 ]; then passes=$((passes + 1)); else echo "FAIL: live host exited $st"; fails=$((fails + 1)); fi
expect_grep out '^verdict    '
"$SIO" host --json >"$TMPD/out" 2>"$TMPD/err"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["verdict"] and d["verdict_text"]' "$TMPD/out" \
  && passes=$((passes + 1)) || { echo "FAIL: live host JSON"; fails=$((fails + 1)); }
finish
