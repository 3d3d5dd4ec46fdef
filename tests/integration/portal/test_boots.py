"""The Boots page: who asked the boot endpoint, unknown MACs included, scoped for members."""

import pytest

from inventory.models import BootEvent
from tests.factories import DeviceFactory

pytestmark = pytest.mark.django_db


def test_staff_see_every_boot_including_unknown_macs(staff_client, client, demo):
    client.get("/pxe/boot.ipxe", {"mac": "02-00-00-00-99-01"})
    client.get("/pxe/boot.ipxe", {"mac": "00:e0:4c:92:f7:a4"})
    page = staff_client.get("/boots/").content.decode()
    assert "02:00:00:00:99:01" in page
    assert "unknown MAC" in page
    assert "pending device request" in page
    only = staff_client.get("/boots/", {"mac": "020000009901"}).content.decode()
    assert "02:00:00:00:99:01" in only
    assert "00:e0:4c:92:f7:a4" not in only


def test_a_bad_mac_filter_says_so(staff_client):
    page = staff_client.get("/boots/", {"mac": "nope"}).content.decode()
    assert "is not a MAC address" in page


def test_members_see_only_their_devices_boots(member_client, orgs):
    mine = DeviceFactory(organization=orgs["own"])
    theirs = DeviceFactory(organization=orgs["other"])
    BootEvent.objects.create(mac="02:00:00:00:01:01", action="local", reason="x", device=mine)
    BootEvent.objects.create(mac="02:00:00:00:02:02", action="local", reason="y", device=theirs)
    BootEvent.objects.create(mac="02:00:00:00:03:03", action="local", reason="unknown MAC")
    page = member_client.get("/boots/").content.decode()
    assert "02:00:00:00:01:01" in page
    assert "02:00:00:00:02:02" not in page
    assert "02:00:00:00:03:03" not in page
