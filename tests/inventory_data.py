"""Builds realistic devices through the real services: submissions journaled and applied the way
the API does, so history, journal and conflicts look exactly as in production."""

from __future__ import annotations

import contextlib
import json

from inventory.errors import InventoryError
from inventory.models import Submission
from inventory.services.submission import submission_process, submission_record


def submit(inventory_data: dict, *, remote_addr: str = "10.20.0.15") -> Submission:
    """Journals and applies one submission; a rejection or conflict stays in the journal."""
    entry = submission_record(
        raw=json.dumps({"inventory_data": inventory_data}, indent=2).encode(),
        headers={"Content-Type": "application/json", "User-Agent": "arrow-agent/0.1"},
        remote_addr=remote_addr,
        credential="service_key",
    )
    with contextlib.suppress(InventoryError):
        submission_process(entry=entry)
    entry.refresh_from_db()
    return entry


def nuc(mac: str, *, name: str, serial: str, **extra) -> dict:
    """An Intel NUC's inventory, as the agent reports it."""
    data = {
        "mac_address": [f"eno1:{mac}"],
        "device_name": name,
        "serial_number": serial,
        "device_spec": "NUC11TNHi5",
        "has_modem": False,
        "hardware_generated_sn": True,
        "sn_source": "dmidecode",
        "hardware": {
            "manufacturer": "Intel Corporation",
            "product": "NUC11TNHi5",
            "cpu": "11th Gen Intel(R) Core(TM) i5-1135G7 @ 2.40GHz",
            "memory_gb": 16,
            "disks": [{"name": "nvme0n1", "size_gb": 512, "model": "Samsung SSD 980"}],
        },
    }
    data.update(extra)
    return data


def build_showcase() -> dict:
    """A small, believable fleet for the screenshots: three organizations, three specs, a dozen
    devices in every state, a device inventoried twice, a rejection and a conflict."""
    from django.contrib.auth import get_user_model

    from inventory.choices import ImagingStatus
    from inventory.models import Device
    from inventory.services.catalog import organization_save, request_save, spec_save
    from inventory.services.devices import device_quick_add_bulk
    from inventory.services.status import device_status_bulk_update

    # The site's operator (staff): specs and organizations are staff's to make.
    operator = get_user_model().objects.update_or_create(
        username="operator", defaults={"is_staff": True}
    )[0]
    demo = organization_save(name="Demo Org", actor=operator)
    blue = organization_save(name="Blue Team", actor=operator)
    organization_save(name="Red Team", actor=operator)
    spec_save(
        name="Intel NUC 11 Pro",
        name_patterns=["*NUC11TN*"],
        capabilities={"cpu": "Intel Core i5-1135G7", "cores": 4, "ram_gb": 16},
        actor=operator,
    )
    spec_save(
        name="Dell OptiPlex 7090",
        name_patterns=["*OptiPlex 7090*"],
        capabilities={"cores": 8, "ram_gb": 32},
        actor=operator,
    )
    spec_save(
        name="Lenovo ThinkCentre M70q",
        name_patterns=["*11DT*"],
        requirements={"cpu_pattern": "i5-10400T|i5-10500T", "min_memory_gib": 16, "min_disks": 2},
        actor=operator,
    )
    request_save(
        organization=blue,
        target_macs=[f"00:e0:4c:68:{i:02x}:10" for i in range(1, 7)],
        spec="Intel NUC 11 Pro",
        note="Rack B4, shelf 2",
        actor=operator,
    )
    request_save(organization=demo, target_macs=["00:e0:4c:92:f7:a4"], actor=operator)

    ids = []
    for i in range(1, 7):
        entry = submit(nuc(f"00:e0:4c:68:{i:02x}:10", name=f"PVE-{1200 + i}", serial=f"G6TN0{i}4X"))
        ids.append(entry.device_id)
    for i in range(1, 4):
        data = nuc(
            f"d8:9e:f3:1c:{i:02x}:20",
            name=f"OPTI-{300 + i}",
            serial=f"7H{i}QX53",
            device_spec="OptiPlex 7090",
        )
        data["hardware"] = {
            "manufacturer": "Dell Inc.",
            "product": "OptiPlex 7090",
            "memory_gb": 32,
        }
        ids.append(submit(data).device_id)
    unknown = nuc("3c:52:82:aa:00:01", name="EDGE-7", serial="PF3XK2AB", device_spec="Mystery 9")
    unknown.update(
        has_modem=True,
        imei="490154203237518",
        mac_address=["enp1s0:3c:52:82:aa:00:01", "wwan0:00:a0:c6:00:00:00"],
    )
    ids.append(submit(unknown).device_id)
    # A ThinkCentre in the agent's shape that fails its spec: 8 GiB and one disk.
    tiny = {
        "mac_address": ["enp0s31f6:e8:6a:64:3e:10:01"],
        "device_name": "TC-401",
        "serial_number": "MJ0DXK7Q",
        "device_spec": "11DT0049GE",
        "hardware": {
            "cpu": {"model": "Intel(R) Core(TM) i5-10400T CPU @ 2.00GHz", "cores": 6},
            "memory_modules": [{"slot": "ChannelA-DIMM0", "size_mb": 8192}],
            "disks": [{"name": "nvme0n1", "size_bytes": 256_060_514_304, "transport": "nvme"}],
        },
    }
    failing = submit(tiny).device_id
    # A second inventory of the first NUC: renamed, a modem fitted.
    second = nuc("00:e0:4c:68:01:10", name="PVE-1201-LAB", serial="G6TN014X")
    second.update(has_modem=True, imei="356938035643809")
    twice = submit(second).device_id

    device_quick_add_bulk(
        macs="00-E0-4C-71-AA-01\n00-E0-4C-71-AA-02\n00-E0-4C-71-AA-03",
        organization=blue,
        actor=operator,
    )
    device_status_bulk_update(device_ids=ids[:2], new_status="reviewed", actor=operator)
    device_status_bulk_update(device_ids=ids[2:4], new_status="assigned", actor=operator)
    device_status_bulk_update(device_ids=ids[6:8], new_status="processed", actor=operator)
    Device.objects.filter(pk__in=ids[:3]).update(imaging_status=ImagingStatus.IMAGED)
    Device.objects.filter(pk__in=ids[3:5]).update(imaging_status=ImagingStatus.IMAGING)
    Device.objects.filter(pk=ids[5]).update(
        imaging_status=ImagingStatus.FAILED, imaging_error="disk image checksum mismatch"
    )

    rejected = submit({"mac_address": ["eth0:00:e0:4c:zz:01:02"], "imei": "12345"})
    conflict = submit(nuc("d8:9e:f3:1c:01:20", name="OPTI-301", serial="G6TN024X"))
    return {
        "twice": twice,
        "failing": failing,
        "rejected": rejected,
        "conflict": conflict,
        "operator": operator,
    }
