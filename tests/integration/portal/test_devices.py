"""The device list (search, filters, sorting, export, bulk status) and the device page."""

import csv
import io

import pytest

from inventory.choices import HistoryKind, SnSource
from inventory.models import Device, DeviceHistory
from inventory.services import pciids
from tests.factories import DeviceFactory, DeviceMacFactory, DeviceSpecFactory
from tests.fakeroot import FIXTURES

pytestmark = pytest.mark.django_db


def _listed(response) -> list[str]:
    return [row.record.pk for row in response.context["table"].paginated_rows]


@pytest.mark.parametrize(
    "typed",
    ["00-E0-4C-92-F7-A4", "00:e0:4c:92:f7:a4", "00e0.4c92.f7a4", "00E04C92F7A4", "F7-A4"],
    ids=["dash upper", "colon lower", "cisco dots", "bare", "partial"],
)
def test_search_finds_a_mac_typed_in_any_form(staff_client, typed):
    wanted = DeviceMacFactory(mac="00:e0:4c:92:f7:a4").device
    DeviceMacFactory()
    assert _listed(staff_client.get("/devices/", {"q": typed})) == [wanted.pk]


def test_search_finds_serial_name_and_id(staff_client):
    device = DeviceFactory(name="PVE-4711", serial_number="G6TN0042")
    DeviceFactory()
    for typed in ("g6tn0042", "PVE-47", device.pk):
        assert _listed(staff_client.get("/devices/", {"q": typed})) == [device.pk]


def test_filters_combine(staff_client, orgs):
    spec = DeviceSpecFactory()
    match = DeviceFactory(organization=orgs["own"], spec=spec, has_modem=True)
    DeviceFactory(organization=orgs["own"], spec=None, has_modem=True)
    DeviceFactory(organization=orgs["other"], spec=spec, has_modem=True)
    DeviceFactory(organization=orgs["own"], spec=spec, has_modem=False)
    params = {"organization": orgs["own"].slug, "spec": spec.name, "has_modem": "true"}
    assert _listed(staff_client.get("/devices/", params)) == [match.pk]


def test_spec_filter_no_match_lists_devices_without_spec(staff_client):
    unmatched = DeviceFactory(spec=None)
    DeviceFactory(spec=DeviceSpecFactory())
    assert _listed(staff_client.get("/devices/", {"spec": "none"})) == [unmatched.pk]


def test_status_filters(staff_client):
    wanted = DeviceFactory(inventory_status="assigned", imaging_status="imaged")
    DeviceFactory(inventory_status="assigned")
    params = {"inventory_status": "assigned", "imaging_status": "imaged"}
    assert _listed(staff_client.get("/devices/", params)) == [wanted.pk]


def test_sorting_by_name_both_ways(staff_client):
    names = ["B", "C", "A"]
    for name in names:
        DeviceFactory(name=name)
    up = staff_client.get("/devices/", {"sort": "name"})
    assert [r.record.name for r in up.context["table"].paginated_rows] == ["A", "B", "C"]
    down = staff_client.get("/devices/", {"sort": "-name"})
    assert [r.record.name for r in down.context["table"].paginated_rows] == ["C", "B", "A"]


def test_pagination_shows_fifty_a_page(staff_client):
    for _ in range(51):
        DeviceFactory()
    first = staff_client.get("/devices/")
    assert len(_listed(first)) == 50
    assert len(_listed(staff_client.get("/devices/", {"page": 2}))) == 1
    assert "51 found" in first.content.decode()


def test_device_list_query_count_does_not_grow_with_devices(staff_client):
    def count_queries() -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            assert staff_client.get("/devices/").status_code == 200
        return len(queries)

    DeviceMacFactory(device__spec=DeviceSpecFactory())
    one = count_queries()
    for _ in range(20):
        DeviceMacFactory(device__spec=DeviceSpecFactory())
    assert count_queries() == one


def test_export_is_the_filtered_list_as_csv(staff_client):
    wanted = DeviceMacFactory(mac="02:aa:00:00:00:31", device__name="=HYPERLINK(1)").device
    DeviceFactory()
    response = staff_client.get("/devices/export.csv", {"q": "02-AA-00-00-00-31"})
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [r["id"] for r in rows] == [wanted.pk]
    assert rows[0]["macs"] == "eth0:02:aa:00:00:00:31"
    assert rows[0]["name"] == "'=HYPERLINK(1)"  # a spreadsheet must not run it


def test_the_export_link_carries_the_filters(staff_client):
    html = staff_client.get("/devices/", {"q": "abc", "has_modem": "true"}).content.decode()
    assert 'href="/devices/export.csv?q=abc&amp;has_modem=true"' in html


def test_bulk_status_sets_the_status_records_the_actor_and_returns_to_the_list(
    staff_client, staff_user
):
    devices = [DeviceFactory() for _ in range(3)]
    response = staff_client.post(
        "/devices/bulk-status/",
        {
            "device_ids": [d.pk for d in devices],
            "new_status": "processed",
            "next": "/devices/?sort=name",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == "/devices/?sort=name"
    assert set(Device.objects.values_list("inventory_status", flat=True)) == {"processed"}
    history = DeviceHistory.objects.filter(kind=HistoryKind.STATUS)
    assert history.count() == 3
    assert {h.actor for h in history} == {staff_user}


def test_bulk_status_refuses_a_system_status_and_an_empty_selection(staff_client):
    device = DeviceFactory()
    for data in (
        {"device_ids": [device.pk], "new_status": "newly_inventoried"},
        {"new_status": "reviewed"},
    ):
        response = staff_client.post("/devices/bulk-status/", data, follow=True)
        assert [m.level_tag for m in response.context["messages"]] == ["error"]
    device.refresh_from_db()
    assert device.inventory_status == "newly_inventoried"


def test_bulk_status_ignores_an_offsite_next(staff_client):
    device = DeviceFactory()
    response = staff_client.post(
        "/devices/bulk-status/",
        {"device_ids": [device.pk], "new_status": "reviewed", "next": "https://evil.example/"},
    )
    assert response["Location"] == "/devices/"


def test_detail_shows_identity_macs_modem_and_no_match(staff_client):
    device = DeviceFactory(
        spec=None, reported_spec="Mystery Box 3000", has_modem=True, imei="490154203237518"
    )
    DeviceMacFactory(device=device, mac="02:aa:00:00:00:41", interface="wwan0")
    html = staff_client.get(f"/devices/{device.pk}/").content.decode()
    for text in ("no match", "Mystery Box 3000", "490154203237518", "wwan0", "02:aa:00:00:00:41"):
        assert text in html


def test_serial_by_hand_is_saved_as_manual_with_the_actor(staff_client, staff_user):
    device = DeviceFactory(serial_number=None, sn_source=None, hardware_generated_sn=False)
    response = staff_client.post(f"/devices/{device.pk}/serial/", {"serial_number": " LBL-77 "})
    assert response.status_code == 302
    device.refresh_from_db()
    assert (device.serial_number, device.sn_source) == ("LBL-77", SnSource.MANUAL)
    entry = DeviceHistory.objects.get(device=device, kind=HistoryKind.MANUAL)
    assert entry.actor == staff_user
    assert entry.changes["serial_number"] == [None, "LBL-77"]


def test_edit_locks_the_chosen_spec(staff_client, orgs):
    device = DeviceFactory(organization=orgs["own"])
    spec = DeviceSpecFactory()
    data = {"name": device.name, "spec": spec.pk, "organization": orgs["own"].pk}
    assert staff_client.post(f"/devices/{device.pk}/edit/", data).status_code == 302
    device.refresh_from_db()
    assert device.spec == spec
    assert device.locked_fields == ["spec"]


def test_reinventory_flags_the_device(staff_client, staff_user):
    device = DeviceFactory()
    assert staff_client.post(f"/devices/{device.pk}/reinventory/").status_code == 302
    device.refresh_from_db()
    assert device.flagged_for_inventory
    assert DeviceHistory.objects.get(device=device).actor == staff_user


def test_raw_submission_bodies_are_escaped_on_the_device_page(staff_client):
    from tests.inventory_data import nuc, submit

    entry = submit(nuc("02:aa:00:00:00:51", name="<script>alert(1)</script>", serial="S-51"))
    html = staff_client.get(f"/devices/{entry.device_id}/").content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_unknown_device_is_404(staff_client):
    assert staff_client.get("/devices/dev-missing/").status_code == 404


@pytest.mark.parametrize(
    "sort",
    [
        "id",
        "serial_number",
        "spec",
        "-organization",
        "inventory_status",
        "has_modem",
        "-updated_at",
    ],
)
def test_every_sortable_column_sorts_a_searched_list(staff_client, orgs, sort):
    # A MAC search joins the MAC table and makes the query DISTINCT: sorting must survive it.
    for n in range(3):
        DeviceMacFactory(
            mac=f"02:aa:00:00:01:0{n}",
            device__spec=DeviceSpecFactory(),
            device__organization=orgs["own"] if n % 2 else orgs["other"],
        )
    response = staff_client.get("/devices/", {"q": "02:aa:00:00:01", "sort": sort})
    assert response.status_code == 200
    assert len(_listed(response)) == 3
    export = staff_client.get("/devices/export.csv", {"q": "02:aa:00:00:01", "sort": sort})
    assert len(b"".join(export.streaming_content).decode().splitlines()) == 4


def test_detail_shows_lists_of_hardware_records_as_tables_not_json(staff_client):
    hardware = {
        "boot_mode": "UEFI",
        "secure_boot": True,
        "memory_modules": [
            {"slot": "A1", "size_mb": 32768, "type": "DDR4", "serial": "3780385B"},
            {"slot": "A2", "size_mb": 32768, "type": "DDR4", "serial": None},
        ],
        "lldp": [{"interface": "eno1", "system_name": "sw-rack7", "port_id": "Gi1/0/7"}],
        "tpm": {"present": True, "version": 2},
    }
    device = DeviceFactory(hardware=hardware)
    html = staff_client.get(f"/devices/{device.pk}/").content.decode()
    assert 'data-testid="hw-memory_modules"' in html
    assert '<th scope="col">size mb</th>' in html
    assert "<td>3780385B</td>" in html
    assert "<td>—</td>" in html  # a missing serial reads as a dash, not "None"
    assert 'data-testid="hw-lldp"' in html
    assert "<td>sw-rack7</td>" in html
    assert '"slot"' not in html  # no JSON for the records


def test_detail_names_pci_devices_and_shows_bmc_and_tpm_as_tables(staff_client, settings):
    settings.ARROW_PCI_IDS = str(FIXTURES / "pciids" / "pci.ids.excerpt")
    hardware = {
        "pci_devices": [{"bus": "0000:00:03.0", "vendor_id": "8086", "product_id": "10d3"}],
        "bmc": {"bmc_address": "10.0.7.21", "bmc_mac": "3c:ec:ef:12:34:56", "vlan_id": None},
        "tpm": {"present": True, "version": 2},
    }
    device = DeviceFactory(hardware=hardware)
    try:
        html = staff_client.get(f"/devices/{device.pk}/").content.decode()
    finally:
        pciids._names.cache_clear()
    assert "<td>82574L Gigabit Network Connection</td>" in html
    assert "<td>Intel Corporation</td>" in html
    assert 'data-testid="hw-bmc"' in html
    assert "<td>10.0.7.21</td>" in html
    assert 'data-testid="hw-tpm"' in html
    assert "<td>yes</td>" in html
    assert "bmc_address" not in html  # labels, not JSON keys


def test_detail_shows_hardware_changes_agent_version_and_collection_errors(staff_client, demo):
    from inventory.services.submission import submission_process
    from tests.integration.test_submission_service import _with_hardware, journal

    submission_process(entry=journal(_with_hardware()))
    failing = [{"collector": "modem", "stage": "read", "message": "mmcli: command not found"}]
    upgraded = _with_hardware(
        agent_version="0.2.0", memory_bytes=32 * 2**30, collection_errors=failing
    )
    submission_process(entry=journal(upgraded))
    device = Device.objects.get()
    html = staff_client.get(f"/devices/{device.pk}/").content.decode()
    assert '<span class="old">16 GiB</span> → <span class="new fw-medium">32 GiB</span>' in html
    assert 'data-testid="agent-version">0.2.0<' in html
    assert "modem/read: mmcli: command not found" in html


def test_the_list_debian_installs_names_pci_devices_by_default(staff_client):
    # requirements/system.txt installs pci.ids (the tests need it; a server without it shows ids).
    device = DeviceFactory(hardware={"pci_devices": [{"vendor_id": "8086", "product_id": "10d3"}]})
    try:
        html = staff_client.get(f"/devices/{device.pk}/").content.decode()
    finally:
        pciids._names.cache_clear()
    assert "<td>82574L Gigabit Network Connection</td>" in html
