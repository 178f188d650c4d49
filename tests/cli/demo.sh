#!/usr/bin/env bash
# softiommu demo: the six steps, exit 0, under 2 seconds, real figures; --json the same figures.
. "$(dirname "$0")/lib/assert.sh"
start=$(date +%s%N)
expect_status 0 "$SIO" demo
end=$(date +%s%N)
ms=$(( (end - start) / 1000000 ))
if [ "$ms" -lt 2000 ]; then passes=$((passes + 1)); else
  echo "FAIL: demo took $ms ms (limit 2000)"; fails=$((fails + 1)); fi
for step in 1 2 3 4 5 6; do expect_grep out "^$step\. "; done
expect_grep out 'received 2000 packets .* sent 2000 packets'
expect_grep out 'IOTLB hit rate [0-9.]+%'
# Interrupt remapping: the NIC's MSIs posted into A's vCPU through an IRTE the host driver
# wrote; B's device forging them is blocked (source id); the released IRTE after deassign.
expect_grep out 'MSIs delivered to VM A \(vCPU 0\), posted through IRTE 0x0 \(MSI address 0xfee00018\)'
expect_grep out 'sent [0-9]+ notifications \(vector 0xf2\)'
expect_grep out '^   DMAR: \[INTR-REMAP\] Request device \[0000:02:00\.0\] fault index 0x0 \[fault reason 0x26\] Blocked an interrupt request due to source-id verification failure$'
expect_grep out '^   DMAR: \[INTR-REMAP\] Request device \[0000:01:00\.0\] fault index 0x0 \[fault reason 0x22\] Present field in the IRTE entry is clear$'
# The Linux-format fault lines for the blocked attack (write and read) and the stale DMA.
expect_grep out '^   DMAR: \[DMA Write NO_PASID\] Request device \[0000:01:00\.0\] fault addr 0x81000000 \[fault reason 0x05\] PTE Write access is not set$'
expect_grep out '^   DMAR: \[DMA Read NO_PASID\] Request device \[0000:01:00\.0\] fault addr 0x81000000 \[fault reason 0x06\] PTE Read access is not set$'
expect_grep out 'checksum before (0x[0-9a-f]+), after \1: unchanged'
expect_grep out 'CORRUPTED'
expect_grep out 'the wire carried "VM B.s secret'
expect_grep out 'now translates to host 0x80200000 \(VM B\)'
expect_grep out "refused, VM 'A' does not own 0000:01:00.0 \(it is assigned to VM 'B'\)"
expect_grep out 'pass-through\): bus 0x140001000 -> host 0x140001000'
expect_grep out '^Every step did what it should'
expect_lines err 0
expect_status 0 "$SIO" demo --json
python3 - "$TMPD/out" <<'PY' && passes=$((passes + 1)) || { echo "FAIL: bad demo JSON"; fails=$((fails + 1)); }
import json, sys
d = json.load(open(sys.argv[1]))
assert d["ok"] is True, d.get("failure")
a = d["vms_and_assignment"]
assert a["device"] == "0000:01:00.0" and a["vm"] == "A" and a["vm_ram_bytes"] == 2 << 30, a
t = d["traffic"]
assert t["rx_packets"] == 2000 and t["tx_packets"] == 2000 and t["checksum_errors"] == 0, t
assert t["rx_bytes"] > 0 and t["tx_bytes"] > 0 and t["msis"] >= 2000, t
assert t["translations"] == t["iotlb_hits"] + t["iotlb_misses"] and t["translations"] > 0, t
assert 0.9 < t["iotlb_hit_rate"] <= 1.0, t
assert t["msi_delivery"] == "posted" and t["msis_posted"] == t["msis"] and t["msis_remapped"] == 0, t
assert t["pi_notifications"] >= 1 and t["msi_address"] == "0xfee00018", t
x = d["attack_with_iommu"]
assert x["write_fault_reason"] == 5 and x["read_fault_reason"] == 6, x
assert x["write_fault_line"].startswith("DMAR: [DMA Write NO_PASID] Request device [0000:01:00.0] fault addr 0x81000000"), x
assert x["vm_b_unchanged"] and x["vm_b_checksum_before"] == x["vm_b_checksum_after"], x
assert not x["exfiltrated"], x
assert x["spoofed_msi_fault_reason"] == 0x26 and not x["vm_a_interrupted"], x
assert x["spoofed_msi_fault_line"].startswith("DMAR: [INTR-REMAP] Request device [0000:02:00.0] fault index 0x0 [fault reason 0x26]"), x
n = d["attack_without_iommu"]
assert n["vm_b_corrupted"] and n["vm_b_checksum_before"] != n["vm_b_checksum_after"], n
assert n["exfiltrated"], n
r = d["reassignment"]
assert r["stale_dma_result"] == "SIO_EPERM" and r["forced_fault_reason"] in (1, 2), r
assert r["vm_b_rx_packets"] == 200 and r["vm_a_buffers_unchanged"], r
assert r["now_translates_to"] == "0x80200000", r
assert r["context_invalidations"] >= 1 and r["iotlb_invalidations"] >= 1, r
assert r["stale_msi_fault_reason"] == 0x22, r
p = d["iommu_pt"]
assert p["host_translates_to"] == p["host_bus_addr"] and p["host_dma_landed"], p
assert p["guest_translates_to"] == "0x80200000", p
assert d["elapsed_ms"] < 2000, d["elapsed_ms"]
PY
# --walk: the unit's walk of the blocked write to host 0x81000000. By hand (VT-d 2): PML4
# index = bits 47:39 = 0, PDPT index = bits 38:30 = 2; VM A's 2 GiB are two 1 GiB leaves
# (entries 0 and 1), so entry 2 is empty and a write there is fault 0x05.
expect_status 0 "$SIO" demo --walk
expect_grep out 'walk 0000:01:00\.0 iova 0x81000000 write: TE=1'
expect_grep out 'L4 PML4E\[000\]'
expect_grep out 'L3 PDPTE\[002\] @0x[0-9a-f]+: 0x0000000000000000'
expect_grep out 'result: fault 0x05 PTE Write access is not set'
finish
