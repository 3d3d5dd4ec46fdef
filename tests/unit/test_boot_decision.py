import pytest

from inventory.services.boot import BootAction, BootState, decide_boot

MAC = "00:e0:4c:92:f7:a4"
DONE = {"inventoried": True, "has_serial": True, "has_spec": True}

CASES = [
    ("a pending request targets the MAC", {"request_id": 7, "request_org": "Demo Org"},
     BootAction.INVENTORY, None, "Demo Org"),
    ("a pending request wins over a finished device",
     {"device_id": "dev-1", "request_id": 7, "imaging_status": "imaged", **DONE},
     BootAction.INVENTORY, "dev-1", None),
    ("a manually added device is flagged",
     {"device_id": "dev-1", "flagged": True, "device_org": "Org A"},
     BootAction.INVENTORY, "dev-1", "Org A"),
    ("a device without accepted inventory", {"device_id": "dev-1"},
     BootAction.INVENTORY, "dev-1", None),
    ("a device awaiting inventory without a serial",
     {"device_id": "dev-1", "imaging_status": "awaiting_inventory", **DONE, "has_serial": False},
     BootAction.INVENTORY, "dev-1", None),
    ("a device awaiting inventory without a spec",
     {"device_id": "dev-1", "imaging_status": "awaiting_inventory", **DONE, "has_spec": False},
     BootAction.INVENTORY, "dev-1", None),
    ("a device held from imaging because its hardware fails its spec boots locally",
     {"device_id": "dev-1", "imaging_status": "awaiting_inventory", **DONE, "fails_spec": True},
     BootAction.LOCAL, "dev-1", None),
    ("a device failing its spec that is ready anyway (image anyway) goes on to imaging",
     {"device_id": "dev-1", "imaging_status": "ready_for_imaging", **DONE, "fails_spec": True},
     BootAction.IMAGING, "dev-1", None),
    ("an inventoried device without spec that is ready goes on to imaging",
     {"device_id": "dev-1", "imaging_status": "ready_for_imaging", **DONE, "has_spec": False},
     BootAction.IMAGING, "dev-1", None),
    ("a device ready for imaging",
     {"device_id": "dev-1", "imaging_status": "ready_for_imaging", **DONE},
     BootAction.IMAGING, "dev-1", None),
    ("a device already imaging chains to imaging again",
     {"device_id": "dev-1", "imaging_status": "imaging", **DONE},
     BootAction.IMAGING, "dev-1", None),
    ("an imaged device boots locally",
     {"device_id": "dev-1", "imaging_status": "imaged", **DONE},
     BootAction.LOCAL, "dev-1", None),
    ("a device whose imaging failed boots locally until an operator acts",
     {"device_id": "dev-1", "imaging_status": "failed", **DONE},
     BootAction.LOCAL, "dev-1", None),
    ("an unknown MAC boots locally", {}, BootAction.LOCAL, None, None),
    ("an unknown MAC is inventoried when discovery is on", {"discover_unknown": True},
     BootAction.INVENTORY, None, None),
    ("a shared MAC never identifies a device, even with discovery",
     {"shared_mac": True, "discover_unknown": True}, BootAction.LOCAL, None, None),
]  # fmt: skip


@pytest.mark.parametrize(
    ("facts", "action", "device_id", "org"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_decide_boot(facts, action, device_id, org):
    decision = decide_boot(BootState(mac=MAC, **facts))
    assert decision.action is action
    assert decision.needs_inventory is (action is BootAction.INVENTORY)
    assert decision.device_id == device_id
    assert decision.organization == org
    assert decision.reason
