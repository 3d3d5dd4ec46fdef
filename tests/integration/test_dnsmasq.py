"""Rendered dnsmasq configurations are accepted by the real dnsmasq (`dnsmasq --test`)."""

import shlex
import shutil
import subprocess
import tempfile
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
        ["--mode", "dhcp", "--range", "10.9.0.100,10.9.0.200", "--no-ping"],
    ],
    ids=["proxy", "dhcp", "dhcp with ipxe.efi", "dhcp without ping"],
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
    # The boot server as third field: iPXE ignores a proxy answer without a next-server.
    assert "dhcp-boot=tag:ipxe,tftp://192.0.2.10/arrow.ipxe,,192.0.2.10" in text
    assert "dhcp-userclass=set:ipxe,iPXE" in text
    assert "bind-dynamic" in text.splitlines()
    assert "log-dhcp" not in text.splitlines()  # quiet by default
    assert (tmp_path / "tftp" / "undionly.kpxe").resolve() == (Path("/usr/lib/ipxe/undionly.kpxe"))
    stage = (tmp_path / "tftp" / "arrow.ipxe").read_text()
    assert "http://192.0.2.10:8000/pxe/boot.ipxe?mac=${netX/mac}" in stage


def test_boot_server_option_wins_and_a_hostname_needs_it(tmp_path):
    out = StringIO()
    call_command(
        "render_dnsmasq", "--interface", "eth1", "--server", "http://arrow.lab:8000",
        "--subnet", "10.0.0.0/24", "--boot-server", "10.0.0.7", "--verbose-log", stdout=out,
    )  # fmt: skip
    lines = out.getvalue().splitlines()
    assert "dhcp-boot=tag:ipxe,tftp://10.0.0.7/arrow.ipxe,,10.0.0.7" in lines
    assert "log-dhcp" in lines
    with pytest.raises(CommandError, match="--boot-server"):
        call_command(
            "render_dnsmasq", "--interface", "eth1", "--server", "http://arrow.lab:8000",
            "--subnet", "10.0.0.0/24", stdout=StringIO(),
        )  # fmt: skip
    with pytest.raises(CommandError, match="--boot-server must be an IPv4 address"):
        call_command(
            "render_dnsmasq", "--interface", "eth1", "--server", "http://10.0.0.5",
            "--subnet", "10.0.0.0/24", "--boot-server", "arrow.lab", stdout=StringIO(),
        )  # fmt: skip


def test_unsupported_architectures_are_named_in_the_configuration():
    out = StringIO()
    call_command(
        "render_dnsmasq", "--interface", "eth1", "--server", "http://10.0.0.5",
        "--subnet", "10.0.0.0/24", stdout=out,
    )  # fmt: skip
    assert "# Unsupported: 32-bit UEFI (client architecture 6) and ARM64 UEFI (11)" in (
        out.getvalue()
    )


def test_proxy_mode_answers_only_the_boot_part(tmp_path):
    out = StringIO()
    call_command(
        "render_dnsmasq", "--interface", "eth1", "--server", "http://10.0.0.5",
        "--subnet", "10.0.0.0/24", stdout=out,
    )  # fmt: skip
    text = out.getvalue()
    assert "dhcp-range=10.0.0.0,proxy" in text
    assert 'pxe-service=tag:!ipxe,x86PC,"ARROW network boot (BIOS)",undionly' in text
    # The site's DHCP server makes the address offer; only it could tell iPXE to skip proxies.
    assert "encap:175" not in text


def test_full_dhcp_mode_tells_ipxe_not_to_wait_for_proxy_offers():
    out = StringIO()
    call_command(
        "render_dnsmasq", "--interface", "eth1", "--server", "http://10.0.0.5",
        "--mode", "dhcp", "--range", "10.0.0.100,10.0.0.200", stdout=out,
    )  # fmt: skip
    lines = out.getvalue().splitlines()
    assert "dhcp-option=tag:ipxe,encap:175,176,1" in lines
    assert "no-ping" not in lines  # dnsmasq's check that an address is free stays on by default


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--server", "http://x"], "--subnet"),
        (["--server", "http://x", "--mode", "dhcp"], "--range"),
        (["--server", "ftp://x", "--subnet", "10.0.0.0"], "--server"),
        (["--subnet", "10.0.0.0"], "--server"),
        (["--server", "http://x", "--subnet", "10.0.0.0", "--no-ping"], "--no-ping is for dhcp"),
    ],
)
def test_missing_options_are_named(options, message, settings):
    settings.ARROW_PUBLIC_URL = ""
    with pytest.raises(CommandError, match=message):
        call_command("render_dnsmasq", "--interface", "eth0", *options, stdout=StringIO())


def documented_render_commands() -> list[list[str]]:
    """Every `manage.py render_dnsmasq ...` command in docs/pxe.md, as an argument list."""
    text = (Path(__file__).resolve().parents[2] / "docs" / "pxe.md").read_text()
    joined = text.replace("\\\n", " ")
    commands = []
    for line in joined.splitlines():
        if "manage.py render_dnsmasq" in line:
            words = shlex.split(line)
            commands.append(words[words.index("render_dnsmasq") + 1 :])
    return commands


@pytest.fixture
def readable_image():
    """An image directory anyone may read, as dnsmasq's unprivileged user must (pytest's own
    temporary directories are private to root)."""
    image = Path(tempfile.mkdtemp(prefix="arrow-test-image-"))
    image.chmod(0o755)
    for name in ("vmlinuz", "initrd.img"):
        (image / name).write_bytes(b"image")
        (image / name).chmod(0o644)
    yield image
    shutil.rmtree(image)


def test_documented_commands_render_what_dnsmasq_accepts(tmp_path, readable_image):
    commands = documented_render_commands()
    assert len(commands) == 4
    image = readable_image
    for number, words in enumerate(commands):
        out = words.index("-o")
        words[out + 1] = str(tmp_path / f"doc-{number}.conf")  # not /etc/dnsmasq.d here
        for option, value in (("--image-dir", image), ("--pxe-filter", tmp_path / "hosts")):
            if option in words:
                words[words.index(option) + 1] = str(value)
        root = ["--tftp-root", str(tmp_path / f"tftp-{number}")]
        call_command("render_dnsmasq", *words, *root, stderr=StringIO())
        result = dnsmasq_test(words[out + 1])
        assert result.returncode == 0, result.stderr
        assert (tmp_path / f"tftp-{number}" / "arrow.ipxe").is_file()


def test_an_image_the_unprivileged_tftp_user_cannot_read_is_refused_by_name(tmp_path):
    # Seen on a fresh machine: the image under /root (mode 700), dnsmasq serving TFTP as
    # "nobody": GRUB got "Permission denied" for vmlinuz and the machine booted its next device.
    private = tmp_path / "private"
    (private / "image").mkdir(parents=True)
    private.chmod(0o700)
    for name in ("vmlinuz", "initrd.img"):
        (private / "image" / name).write_bytes(b"image")
    with pytest.raises(CommandError) as refused:
        call_command(
            "render_dnsmasq", "--interface", "lo", "--server", "http://192.0.2.10:8000",
            "--mode", "dhcp", "--range", "192.0.2.100,192.0.2.200",
            "--tftp-root", str(tmp_path / "tftp"), "--prepare-tftp", "--secure-boot",
            "--image-dir", str(private / "image"), stdout=StringIO(), stderr=StringIO(),
        )  # fmt: skip
    message = str(refused.value)
    assert str(private / "image" / "vmlinuz") in message
    assert "is not open to others" in message  # the first directory on the way that is not


def test_secure_boot_and_the_pxe_filter_render_what_dnsmasq_accepts(
    tmp_path, settings, readable_image
):
    image = readable_image
    conf, root, hosts = tmp_path / "arrow.conf", tmp_path / "tftp", tmp_path / "hosts"
    call_command(
        "render_dnsmasq", "--interface", "lo", "--server", "http://192.0.2.10:8000",
        "--subnet", "192.0.2.0/24", "--tftp-root", str(root), "--prepare-tftp",
        "--secure-boot", "--image-dir", str(image), "--pxe-filter", str(hosts),
        "-o", str(conf), stderr=StringIO(),
    )  # fmt: skip
    result = dnsmasq_test(conf)
    assert result.returncode == 0, result.stderr
    lines = conf.read_text().splitlines()
    assert 'pxe-service=tag:!ipxe,X86-64_EFI,"ARROW network boot (UEFI)",shimx64.efi' in lines
    assert "dhcp-boot=tag:efi-http,http://192.0.2.10:8000/pxe/ipxe/snponly.efi" in lines
    assert f"dhcp-hostsdir={hosts}" in lines
    assert "dhcp-ignore=tag:!known" in lines
    assert hosts.is_dir()
    assert (root / "shimx64.efi").resolve() == Path("/usr/lib/shim/shimx64.efi.signed")
    grubnet = Path("/usr/lib/grub/x86_64-efi-signed/grubnetx64.efi.signed")
    assert (root / "grubx64.efi").resolve() == grubnet
    assert (root / "vmlinuz").resolve() == image / "vmlinuz"
    assert "source /grub/mac-${net_default_mac}.cfg" in (root / "grub" / "grub.cfg").read_text()
    settings.ARROW_DISCOVER_UNKNOWN = True
    out = StringIO()
    call_command(
        "render_dnsmasq", "--interface", "lo", "--server", "http://192.0.2.10:8000",
        "--subnet", "192.0.2.0/24", "--pxe-filter", str(hosts), stdout=out,
    )  # fmt: skip
    assert "dhcp-ignore=tag:!known" not in out.getvalue().splitlines()
