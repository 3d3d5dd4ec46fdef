"""The simulated rack: N devices with realistic inventory bodies, drawn from a fixed seed.

Pure: builds plain dicts that the load generator sends and the consistency check compares with
the database. Knows nothing about HTTP or the database.
"""

from __future__ import annotations

import random

ORG = "Bench Org"
# (name the agent reports, spec it should match or None): exact name, a name matched by pattern,
# a second spec, and a box nobody described.
SPECS = [
    ("Intel NUC 11 Pro", "Intel NUC 11 Pro"),
    ("Intel(R) Client Systems NUC11TNHi5", "Intel NUC 11 Pro"),
    ("Dell Inc. OptiPlex 7090", "Dell OptiPlex 7090"),
    ("Mystery Box 3000", None),
]
SPEC_ROWS = [
    {"name": "Intel NUC 11 Pro", "name_patterns": ["*NUC11TN*"], "capabilities": {"ram_gb": 16}},
    {"name": "Dell OptiPlex 7090", "name_patterns": ["*OptiPlex 7090*"]},
]
JUNK_SERIALS = ["To Be Filled By O.E.M.", "System Serial Number", "0123456789", "", "XXXXXXXX"]
GOBI_MAC = "00:a0:c6:00:00:00"  # every Gobi modem reports it: a shared MAC, never an identity


def mac_of(n: int) -> str:
    raw = f"{0x02BE00000000 + n:012x}"  # locally administered, never a real vendor
    return ":".join(raw[i : i + 2] for i in range(0, 12, 2))


def luhn_complete(digits14: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(digits14)):
        n = int(ch)
        if i % 2 == 0:
            n *= 2
            n -= 9 if n > 9 else 0
        total += n
    return digits14 + str((10 - total % 10) % 10)


def make_devices(count: int, *, seed: int = 7, resubmit_share: float = 0.2) -> list[dict]:
    """*count* devices. Each has 2-4 own MACs; a quarter are quick-added, a quarter targeted by a
    device request (so half are known before they boot); some have modems (a few report the shared
    Gobi MAC), junk serials or a spec nobody described; *resubmit_share* of them boot again."""
    rng = random.Random(seed)
    devices = []
    next_mac = 0
    for index in range(count):
        n_macs = rng.choice([2, 2, 3, 4])
        ifaces = ["eno1", "enp2s0", "wlo1", "enp3s0"][:n_macs]
        macs = [[iface, mac_of(next_mac + k)] for k, iface in enumerate(ifaces)]
        next_mac += n_macs
        modem = rng.random() < 0.3
        junk = rng.random() < 0.1
        reported_spec, spec = SPECS[rng.randrange(len(SPECS))]
        data: dict = {
            "mac_address": [f"{iface}:{mac}" for iface, mac in macs],
            "device_name": f"rack7-u{index:04d}",
            "serial_number": rng.choice(JUNK_SERIALS) if junk else f"BNCH{index:06d}{seed:02d}",
            "device_spec": reported_spec,
            "has_modem": modem,
            "hardware_generated_sn": not junk,
            "sn_source": None if junk else rng.choice(["dmidecode", "bios", "chassis"]),
            "hardware": {
                "cpu": "Intel(R) Core(TM) i5-1135G7 @ 2.40GHz",
                "cores": 4,
                "ram_mb": rng.choice([8192, 16384, 32768]),
                "disks": [{"name": "nvme0n1", "size_gb": rng.choice([256, 512, 1024])}],
                "bios": {"vendor": "Intel Corp.", "version": f"TNTGL357.0{rng.randrange(40, 70)}"},
                "agent_version": "0.1.0",
            },
        }
        if modem:
            data["imei"] = luhn_complete(f"35{index:012d}")
            if rng.random() < 0.5:
                data["mac_address"].append(f"wwan0:{GOBI_MAC}")
        if index % 8 == 0:
            prereg, prereg_mac = "quick_add", macs[0][1]
        elif index % 8 == 4:
            prereg, prereg_mac = "quick_add", macs[-1][1]  # known by a MAC it does not boot from
        elif index % 4 == 1:
            prereg, prereg_mac = "request", macs[0][1]
        else:
            prereg, prereg_mac = None, None
        resubmit = rng.random() < resubmit_share
        extra_mac = None
        if resubmit and rng.random() < 0.5:
            extra_mac = mac_of(10_000_000 + index)  # a USB NIC plugged in before the second boot
        devices.append(
            {
                "index": index,
                "boot_mac": macs[0][1],
                "own_macs": [mac for _, mac in macs],
                "prereg": prereg,
                "prereg_mac": prereg_mac,
                "expect_spec": spec,
                "junk_serial": junk,
                "resubmit": resubmit,
                "extra_mac": extra_mac,
                "body": {"inventory_data": data},
            }
        )
    return devices
