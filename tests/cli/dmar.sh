#!/usr/bin/env bash
# softiommu dmar FILE: iasl-style text and --json for DMAR and IVRS tables; malformed tables are
# one line naming the offset (exit 1); usage errors exit 2.
. "$(dirname "$0")/lib/assert.sh"
ACPI="$SRC/../shared/data/acpi"

expect_status 0 "$SIO" dmar --help
expect_grep out '^usage: softiommu dmar'
expect_grep out 'IVRS'
expect_status 2 "$SIO" dmar
expect_lines err 1
expect_grep err 'missing FILE'
expect_status 2 "$SIO" dmar --bogus x
expect_lines err 1
expect_grep err "softiommu dmar: unknown option '--bogus'"
expect_status 2 "$SIO" dmar a b
expect_lines err 1

# A DMAR, as iasl prints it.
expect_status 0 "$SIO" dmar "$ACPI/dmar_apple_macbookpro14_3_andd.dat"
expect_grep out '^\[000h 0000 004h\]                   Signature : "DMAR"    \[DMA Remapping Table\]$'
expect_grep out '^\[038h 0056 008h\]       Register Base Address : 00000000FED90000$'
expect_grep out '^\[0C0h 0192 00Fh\]                 Device Name : "\\_SB.PCI0.I2C0"$'
# An IVRS through the same command, with its unknown subtable reported.
expect_status 0 "$SIO" dmar "$ACPI/ivrs_lenovo_thinkpad_t14_gen3_rembrandt.dat"
expect_grep out '\[Hardware Definition Block - Mixed Format \(IVHD\)\]'
expect_grep out '^\*\*\*\* Unknown IVRS subtable type 0x51$'
expect_grep out '^note: \[1C4h\] unknown subtable type 0x51 \(32 bytes\) skipped$'
# stdin
expect_status 0 sh -c "\"$SIO\" dmar - < \"$ACPI/dmar_lenovo_x230_coreboot.dat\""
expect_grep out 'Hardware Unit Definition'

# JSON: the same fields, structures and scopes nested.
expect_status 0 "$SIO" dmar --json "$ACPI/dmar_hp_proliant_dl380e_gen8.dat"
python3 - "$TMPD/out" <<'PY' && passes=$((passes + 1)) || { echo "FAIL: bad dmar JSON"; fails=$((fails + 1)); }
import json, sys
d = json.load(open(sys.argv[1]))
assert d["Signature"] == "DMAR" and d["Table Length"] == 1286, d["Table Length"]
subs = d["Subtables"]
assert subs[0]["Description"] == "Hardware Unit Definition", subs[0]
# the two-hop scope at 0x128 (HP DL380e RMRR): PCI Path 1C,07 then 00,00
paths = [s["PCI Path"] for st in subs for s in st.get("Device Scopes", [])]
assert ["1C,07", "00,00"] in paths, paths
assert d["Notes"] == [] or isinstance(d["Notes"], list)
PY
expect_status 0 "$SIO" dmar --json "$ACPI/ivrs_asus_rog_zenith2_threadripper_4iommu.dat"
python3 - "$TMPD/out" <<'PY' && passes=$((passes + 1)) || { echo "FAIL: bad ivrs JSON"; fails=$((fails + 1)); }
import json, sys
d = json.load(open(sys.argv[1]))
assert d["Signature"] == "IVRS"
ivhd = [s for s in d["Subtables"] if s["Subtable Type"] in (0x10, 0x11, 0x40)]
assert len(ivhd) >= 4, len(ivhd)
assert all("Device Entries" in s for s in ivhd)
PY

# --platform: the units in Linux's lookup order (INCLUDE_PCI_ALL last), RMRRs, ATS.
expect_status 0 "$SIO" dmar --platform "$ACPI/dmar_apple_macbookpro14_3_andd.dat"
expect_grep out '^  dmar0   segment 0, registers 0xfed90000 \(4 KB\)$'
expect_grep out '^  dmar1   segment 0, registers 0xfed91000 \(4 KB\), INCLUDE_PCI_ALL'
expect_grep out 'scope: IOAPIC 2=f0:1f.0 HPET 0=00:1f.0 ACPI 1=00:15.0'
expect_grep out '^  0x7b800000-0x7fffffff \(73728 KB\)  00:02.0$'
expect_status 0 "$SIO" dmar --platform "$ACPI/dmar_samsung_960qha_lnl_satc.dat"
expect_grep out '^  SATC segment 0, ATC_REQUIRED: 00:02.0 00:05.0 00:0b.0$'
expect_status 0 "$SIO" dmar --platform --json "$ACPI/dmar_dell_precision_t5810_hswep.dat"
python3 - "$TMPD/out" <<'PY' && passes=$((passes + 1)) || { echo "FAIL: bad platform JSON"; fails=$((fails + 1)); }
import json, sys
d = json.load(open(sys.argv[1]))
u = d["units"]
assert [x["include_pci_all"] for x in u] == [False, True], u
assert u[0]["register_base"] > 0 and u[0]["scopes"][0]["path"] == "00:1b.0"
assert d["interrupt_remapping"] is True and d["x2apic_opt_out"] is True
assert d["ats"][0]["kind"] == "ATSR" and d["rmrrs"][0]["scopes"]
PY
expect_status 2 "$SIO" dmar --platform "$ACPI/ivrs_supermicro_h8dgu_sr5690.dat"
expect_lines err 1
expect_grep err '\-\-platform needs a DMAR table'

# Malformed: one line with the offset and the problem, exit 1.
cp "$ACPI/dmar_apple_macbookpro14_3_andd.dat" "$TMPD/bad.dat"
printf '\x00\x00' | dd of="$TMPD/bad.dat" bs=1 seek=50 conv=notrunc 2>/dev/null
expect_status 1 "$SIO" dmar "$TMPD/bad.dat"
expect_lines err 1
expect_grep err 'offset 0x9: checksum 0x01 is wrong'
expect_status 1 "$SIO" dmar --json "$TMPD/bad.dat"
expect_lines err 1
expect_status 1 "$SIO" dmar --ignore-checksum "$TMPD/bad.dat"
expect_lines err 1
expect_grep err 'offset 0x32: structure at 0x30 \(type 0\): length 0 is below the 4-byte structure header'
head -c 100 "$ACPI/dmar_apple_macbookpro14_3_andd.dat" > "$TMPD/short.dat"
expect_status 1 "$SIO" dmar "$TMPD/short.dat"
expect_lines err 1
expect_grep err 'offset 0x4: table length says 352 bytes but only 100 are present'
printf 'FACP0000' > "$TMPD/facp.dat"
expect_status 1 "$SIO" dmar "$TMPD/facp.dat"
expect_grep err 'neither DMAR nor IVRS'
expect_status 1 "$SIO" dmar "$TMPD/no-such-file"
expect_lines err 1
expect_grep err 'cannot open'
finish
