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
