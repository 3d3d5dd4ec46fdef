"""What the boot-path tests wait for and show when it does not come: accepted submissions."""

from __future__ import annotations

from inventory.models import Submission


def accepted_for(mac: str):
    """A condition for QemuGuest.wait_for: the accepted submission of the device with *mac*."""

    def check():
        return Submission.objects.filter(outcome="accepted", device__macs__mac=mac).first()

    return check


def journal_text() -> str:
    rows = Submission.objects.order_by("id").values_list("id", "outcome", "error")
    return "journal:\n" + "\n".join(f"  {r}" for r in rows) if rows else "journal: empty"
