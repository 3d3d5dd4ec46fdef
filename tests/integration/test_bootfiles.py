"""The PXE filter's host files and the Secure Boot chain's GRUB configs follow the database."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from inventory.services.catalog import request_save
from inventory.services.devices import device_quick_add
from inventory.services.pxe import boot_token_check

pytestmark = pytest.mark.django_db(transaction=True)  # the files follow committed changes

DEMO_MAC = "00:e0:4c:92:f7:a4"
NEW_MAC = "52:54:00:aa:bb:01"


@pytest.fixture
def dirs(tmp_path, settings):
    settings.ARROW_DHCP_HOSTS_DIR = str(tmp_path / "hosts")
    settings.ARROW_GRUB_DIR = str(tmp_path / "grub")
    settings.ARROW_PUBLIC_URL = "http://10.0.0.5:8000"
    (tmp_path / "grub").mkdir()
    return tmp_path / "hosts", tmp_path / "grub"


def test_the_resync_command_writes_a_file_per_wanted_mac(demo, dirs):
    hosts, grub = dirs
    call_command("arrow_boot_files", stdout=StringIO())
    assert (hosts / DEMO_MAC.replace(":", "-")).read_text() == f"{DEMO_MAC}\n"
    config = (grub / f"mac-{DEMO_MAC}.cfg").read_text()
    assert "linux /vmlinuz " in config
    assert "initrd /initrd.img" in config
    assert "arrow.server=http://10.0.0.5:8000 arrow.token=" in config
    assert f"arrow.mac={DEMO_MAC}" in config
    token = config.split("arrow.token=")[1].split()[0]
    assert boot_token_check(token).mac == DEMO_MAC  # the agent's credential for this MAC
    again = StringIO()
    call_command("arrow_boot_files", stdout=again)
    assert again.getvalue().strip() == "boot files: 0 changed"  # same token, same files


def test_a_new_request_or_device_is_wanted_at_once_and_a_cancelled_one_is_ignored(demo, dirs):
    hosts, grub = dirs
    request = request_save(organization="Demo Org", target_macs=[NEW_MAC])
    assert (hosts / NEW_MAC.replace(":", "-")).read_text() == f"{NEW_MAC}\n"
    assert (grub / f"mac-{NEW_MAC}.cfg").is_file()
    request_save(organization="Demo Org", target_macs=[NEW_MAC], status="cancelled", pk=request.pk)
    # Never deleted: dnsmasq keeps a record whose file is removed until it is restarted.
    assert (hosts / NEW_MAC.replace(":", "-")).read_text() == f"{NEW_MAC},ignore\n"
    assert not (grub / f"mac-{NEW_MAC}.cfg").exists()
    other = "52:54:00:aa:bb:02"
    device_quick_add(mac_address=other, organization="Demo Org")
    assert (hosts / other.replace(":", "-")).read_text() == f"{other}\n"


def test_without_the_settings_nothing_is_written_and_the_command_says_why(demo, settings):
    settings.ARROW_DHCP_HOSTS_DIR = settings.ARROW_GRUB_DIR = ""
    with pytest.raises(CommandError, match="ARROW_DHCP_HOSTS_DIR or ARROW_GRUB_DIR"):
        call_command("arrow_boot_files", stdout=StringIO())
