"""Rendered dnsmasq configurations are accepted by the real dnsmasq (`dnsmasq --test`)."""

import shutil
import subprocess
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command


def dnsmasq_test(path) -> subprocess.CompletedProcess:
    binary = shutil.which("dnsmasq") or "/usr/sbin/dnsmasq"
    assert Path(binary).exists(), "dnsmasq is missing: apt-get install dnsmasq"
    return subprocess.run([binary, "--test", "-C", str(path)], capture_output=True, text=True)


@pytest.mark.parametrize(
    "options",
    [
        ["--subnet", "192.168.10.0/24"],
        ["--mode", "dhcp", "--range", "10.9.0.100,10.9.0.200", "--router", "10.9.0.1"],
        ["--mode", "dhcp", "--range", "10.9.0.100,10.9.0.200", "--efi", "ipxe.efi"],
    ],
    ids=["proxy", "dhcp", "dhcp with ipxe.efi"],
)
def test_rendered_configuration_passes_dnsmasq_test(tmp_path, options):
    conf = tmp_path / "arrow-dnsmasq.conf"
    call_command(
        "render_dnsmasq", "--interface", "lo", "--server", "http://192.0.2.10:8000",
        "--tftp-root", str(tmp_path / "tftp"), "--prepare-tftp", "-o", str(conf), *options,
        stderr=StringIO(),
    )  # fmt: skip
    result = dnsmasq_test(conf)
    assert result.returncode == 0, result.stderr
    text = conf.read_text()
    assert "dhcp-boot=tag:ipxe,http://192.0.2.10:8000/pxe/boot.ipxe?mac=${netX/mac}" in text
    assert "dhcp-userclass=set:ipxe,iPXE" in text
    assert (tmp_path / "tftp" / "undionly.kpxe").resolve() == (Path("/usr/lib/ipxe/undionly.kpxe"))


def test_proxy_mode_answers_only_the_boot_part(tmp_path):
    out = StringIO()
    call_command(
        "render_dnsmasq", "--interface", "eth1", "--server", "http://10.0.0.5",
        "--subnet", "10.0.0.0/24", stdout=out,
    )  # fmt: skip
    text = out.getvalue()
    assert "dhcp-range=10.0.0.0,proxy" in text
    assert 'pxe-service=tag:!ipxe,x86PC,"ARROW network boot (BIOS)",undionly' in text


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--server", "http://x"], "--subnet"),
        (["--server", "http://x", "--mode", "dhcp"], "--range"),
        (["--server", "ftp://x", "--subnet", "10.0.0.0"], "--server"),
        (["--subnet", "10.0.0.0"], "--server"),
    ],
)
def test_missing_options_are_named(options, message, settings):
    settings.ARROW_PUBLIC_URL = ""
    with pytest.raises(CommandError, match=message):
        call_command("render_dnsmasq", "--interface", "eth0", *options, stdout=StringIO())
