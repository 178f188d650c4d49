#!/usr/bin/env python3
"""Writes the seed corpora of fuzz_vtd_qi and fuzz_vtd_irte (fuzz/corpus/vtd_qi, vtd_irte).
Descriptors, IRTEs and descriptors are built from the VT-d digest's bit positions; see the
input layouts at the top of each fuzz target. Run from the repository root."""
import os
import struct

def q(v):
    return struct.pack('<Q', v & 0xFFFFFFFFFFFFFFFF)

# ---- vtd_qi: cfg, answer, then records (op, 16 bytes) ----
def rec(op, lo=0, hi=0):
    return bytes([op]) + q(lo) + q(hi)

def desc(lo, hi=0):
    return rec(0, lo, hi)

KICK = rec(2)
STATUS = 0x30000
def wait(data, sw=1, iflag=0):
    return desc(5 | iflag << 4 | sw << 5 | data << 32, STATUS)

def cc(g, did=0, sid=0):
    return desc(1 | g << 4 | did << 16 | sid << 32)

def iotlb(g, did=0, addr=0, am=0, ih=0):
    return desc(2 | g << 4 | did << 16, addr | ih << 6 | am)

def devtlb(sid, addr, s=0):
    return desc(3 | sid << 32, addr | s)

def iec(g, im=0, idx=0):
    return desc(4 | g << 4 | im << 27 | idx << 32)

qi = {
    'empty': b'',
    'linux_submit_sync': bytes([0, 0]) + cc(1) + iotlb(1) + wait(2) + KICK + iotlb(3, 1, 0x5000) + wait(3) + KICK,
    'iqe_bad_type_recover': bytes([0, 0]) + wait(1) + desc(0) + wait(2) + KICK + rec(4, 0x10) + rec(2),
    'iqe_reserved': bytes([0, 0]) + desc(1 | 1 << 4 | 1 << 6) + KICK + rec(4, 0x10) + desc(2) + KICK + rec(4, 0x10),
    'iqe_bad_tail': bytes([0, 0]) + rec(3, 0x1000) + rec(4, 0x10) + rec(3, 0x10) + rec(4, 0x10),
    'devtlb_done': bytes([0, 0]) + devtlb(0x10, 0x5000) + devtlb(0x10, 0x400FF000, 1) + wait(4) + KICK,
    'devtlb_pending': bytes([0, 1]) + devtlb(0x10, 0x5000) + wait(5, 1, 1) + KICK + rec(5, 1, 1) + rec(5, 1, 0x1 << 32),
    'devtlb_no_answer': bytes([0, 2]) + devtlb(0x10, 0x5000) + wait(6) + KICK + rec(4, 0x40) + devtlb(0x99, 0) + KICK,
    'iec_and_wait_irq': bytes([0, 0]) + iec(0) + iec(1, 2, 8) + wait(7, 1, 1) + KICK + rec(6, 2, 0) + rec(6, 1, 1),
    'no_dt_qs1': bytes([0x11, 0]) + devtlb(0x10, 0) + KICK + rec(4, 0x10) + b''.join(wait(i) for i in range(20)) + KICK,
    'disable_reenable': bytes([4, 0]) + wait(1) + KICK + rec(7, 1, 0) + wait(2) + KICK + rec(6, 0, 0x10800) + rec(7, 0, 1 << 26),
    'valid_types': bytes([0, 0]) + b''.join(rec(1, (t << 60) | 0x1234567 , 0x1000) for t in range(5)) + KICK,
}

# ---- vtd_irte: flags, S, 8 IRTEs, PID, requests (sid, addr lo, data, addr hi) ----
def irte(vector, dst, svt=0, sq=0, sid=0, dlm=0, tm=0, dm=0, rh=0, fpd=0, p=1):
    lo = p | fpd << 1 | dm << 2 | rh << 3 | tm << 4 | dlm << 5 | vector << 16 | dst << 32
    hi = sid | sq << 16 | svt << 18
    return q(lo) + q(hi)

def pirte(vv, urg=0, svt=0, sid=0):
    lo = 1 | urg << 14 | 1 << 15 | vv << 16
    return q(lo) + q(sid | svt << 18)

def pid(on=0, sn=0, nv=0xF2, ndst=0):
    return bytes(32) + q(on | sn << 1 | nv << 16 | ndst << 32) + bytes(24)

def req(sid, addr, data=0):
    return struct.pack('<HIII', sid, addr & 0xFFFFFFFF, data, addr >> 32)

def remap_addr(handle, shv=0):
    return 0xFEE00000 | (handle & 0x7FFF) << 5 | 1 << 4 | shv << 3 | (handle >> 15) << 2

def table(*entries):
    es = list(entries) + [bytes(16)] * (8 - len(entries))
    return b''.join(es)

irte_c = {
    'empty': b'',
    'linux_remap': bytes([0, 7]) + table(irte(0x41, 3 << 8, 1, 0, 0x10)) + pid() + req(0x10, remap_addr(0)) + req(0x11, remap_addr(0)),
    'x2apic': bytes([1, 7]) + table(irte(0x55, 0x12345, 1, 0, 0x10)) + pid() + req(0x10, remap_addr(0)),
    'multi_msi_shv': bytes([0, 7]) + table(irte(0x60, 1 << 8), irte(0x61, 2 << 8), irte(0x62, 3 << 8), irte(0x63, 4 << 8)) + pid() + b''.join(req(0x10, remap_addr(0, 1), i) for i in range(6)) + req(0x10, remap_addr(0, 1), 0x10000),
    'posted': bytes([0x10, 7]) + table(irte(0x20, 1 << 8), pirte(0x45), pirte(0x46, 1)) + pid(0, 1, 0xF2, 7 << 8) + req(0x10, remap_addr(1)) + req(0x10, remap_addr(2)) + req(0x10, remap_addr(1)),
    'posted_bad_pid': bytes([0x10, 7]) + table(pirte(0x45)) + bytes(32) + q(0xFFFF) + bytes(24) + req(0x10, remap_addr(0)),
    'compat': bytes([2, 7]) + table() + pid() + req(0x10, 0xFEE01000, 0x8041) + req(0x10, 0xFEE02000 | (1 << 32), 0x41),
    'ir_off': bytes([4, 7]) + table() + pid() + req(0x10, 0xFEE00010, 0x41) + req(0x10, 0xFED00000),
    'faults': bytes([0, 3]) + table(irte(0x30, 2 << 8, 1, 0, 0x10), irte(0x31, 2 << 8, p=0), irte(0x32, 0x1, fpd=1), irte(0x33, 2 << 8, 3), irte(0x34, 2 << 8, 2, 0, 0x0204)) + pid() + b''.join(req(0x10, remap_addr(i)) for i in range(20)) + req(0x0300, remap_addr(4)) + req(0x10, remap_addr(0) | (1 << 32)),
    'sq_cases': bytes([0x20, 7]) + table(*[irte(0x40 + i, 1 << 8, 1, i, 0x1238) for i in range(4)]) + pid() + b''.join(req(0x1238 ^ x, remap_addr(i)) for i in range(4) for x in (0, 1, 2, 4, 7, 8)),
    'full_table': bytes([0, 15]) + table(*[irte(0x70 + i, 1 << 8) for i in range(8)]) + pid() + req(0x10, remap_addr(0x8000)) + req(0x10, remap_addr(0xFFFF)) + req(0x10, remap_addr(0xFFFF, 1), 2),
}

def write(name, seeds):
    d = os.path.join('fuzz', 'corpus', name)
    os.makedirs(d, exist_ok=True)
    for k, v in seeds.items():
        with open(os.path.join(d, k), 'wb') as f:
            f.write(v)

write('vtd_qi', qi)
write('vtd_irte', irte_c)
