"""The inventory image boots under QEMU and its agent submits what the machine is.

The first test takes the whole network-boot path: SeaBIOS, Debian's iPXE ROM, QEMU's DHCP with a
boot file URL, an iPXE script, the image over HTTP, then init and the real agent. The second boots
the image directly with a static address on a subnet that is not QEMU's default.

A small stdlib HTTP server stands in for the backend here and only here: it answers the iPXE
script, serves build/image, and records submissions. The backend's own end-to-end scenario runs
against the real application elsewhere.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from arrow_agent.inventory import device_name
from inventory.services.pxe import IMAGE_KERNEL_ARGS
from tests.e2e.conftest import ROOT
from tests.e2e.platform_sim import BmcLan, ipmi_bmc, tpm2
from tests.e2e.qemu import Nic, QemuGuest, Smbios

pytestmark = pytest.mark.slow

TOKEN = "t0k"
MAC_BOOT = "52:54:00:a0:00:01"  # virtio-net-pci, carries the iPXE ROM
MAC_SECOND = "52:54:00:a0:00:02"  # e1000 on a network of its own
SMBIOS = Smbios(manufacturer="Intel Corporation", product="NUC11TNHi5", serial="ABC123XYZ")
INITRD_BUDGET_MIB = 30.0
# QEMU start -> submission received under TCG: the target is 20 s, and an idle host of this kind
# makes it (docs/image.md). TCG speed follows the host's load, though (56.6 s was seen with a
# second full test run and QEMU guests beside it on 2 cores), so the test fails only at four
# times the target, a boot that is broken rather than slow; it prints the figure.
BOOT_TARGET_S = 20.0
BOOT_CEILING_S = 4 * BOOT_TARGET_S
WAIT_S = 120.0  # how long to wait at all, so a slow boot still shows how slow it was
REBOOT_WAIT_S = 60.0  # accepted submission -> the agent reboots (QEMU exits with -no-reboot)


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    at: float  # time.monotonic()


class BootServer:
    """The backend's stand-in: /pxe/boot.ipxe, /image/<file>, POST /api/inventory/submit."""

    def __init__(self, image_dir: Path, kernel_args: str) -> None:
        self.image_dir = image_dir
        self.kernel_args = kernel_args
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    def start(self) -> BootServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def seen(self, method: str, path: str) -> Request | None:
        """The first request with this method and path (query ignored), if any."""
        with self._lock:
            for request in self.requests:
                if request.method == method and urlsplit(request.path).path == path:
                    return request
        return None

    def log(self) -> str:
        with self._lock:
            return "\n".join(f"  {r.method} {r.path}" for r in self.requests) or "  (nothing)"

    def boot_script(self) -> bytes:
        # Mirrors what the backend answers for a device that needs inventory.
        return (
            "#!ipxe\n"
            "echo ARROW test: booting the inventory image for ${net0/mac}\n"
            f"kernel http://10.0.2.100/image/vmlinuz initrd=initrd.img {self.kernel_args}\n"
            "initrd http://10.0.2.100/image/initrd.img\n"
            "boot\n"
        ).encode()

    def _record(self, request: Request) -> None:
        with self._lock:
            self.requests.append(request)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _keep(self, body: bytes = b"") -> None:
                server._record(
                    Request(self.command, self.path, dict(self.headers), body, time.monotonic())
                )

            def _send(self, status: int, body: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                self._keep()
                path = urlsplit(self.path).path
                if path == "/pxe/boot.ipxe":
                    self._send(200, server.boot_script(), "text/plain")
                elif path in ("/image/vmlinuz", "/image/initrd.img"):
                    data = (server.image_dir / path.rsplit("/", 1)[1]).read_bytes()
                    self._send(200, data, "application/octet-stream")
                else:
                    self._send(404, b"not found\n", "text/plain")

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self._keep(body)
                if self.path != "/api/inventory/submit":
                    self._send(404, b"{}", "application/json")
                    return
                reply = {"device_id": "dev-1", "status": "newly_inventoried"}
                self._send(200, json.dumps(reply).encode(), "application/json")

            def log_message(self, format: str, *args: object) -> None:
                pass  # the request list is the log

        return Handler


@pytest.fixture
def boot_server(inventory_image):
    """A started BootServer for the built image; kernel_args are set by the test."""
    server = BootServer(inventory_image, kernel_args="").start()
    yield server
    server.stop()


def wait_for_submission(guest: QemuGuest, server: BootServer) -> Request:
    return guest.wait_for(
        lambda: server.seen("POST", "/api/inventory/submit"),
        timeout=WAIT_S,
        what="POST /api/inventory/submit",
        context=lambda: "the test server saw:\n" + server.log(),
    )


def submitted_macs(body: bytes) -> dict[str, str]:
    """mac -> interface name, from the documented "interface:mac" strings."""
    pairs = json.loads(body)["inventory_data"]["mac_address"]
    return {entry.split(":", 1)[1].lower(): entry.split(":", 1)[0] for entry in pairs}


def test_image_initrd_fits_the_size_budget(inventory_image):
    size_mib = (inventory_image / "initrd.img").stat().st_size / 2**20
    print(f"\ninitrd.img {size_mib:.1f} MiB (budget {INITRD_BUDGET_MIB:g} MiB)")
    assert size_mib <= INITRD_BUDGET_MIB


def initrd_listing(image_dir: Path, *, verbose: bool = False) -> list[str]:
    """The initrd's member names (``cpio -t``), or its ``cpio -tv`` lines."""
    unpacked = subprocess.run(
        ["zstd", "-dc", str(image_dir / "initrd.img")], capture_output=True, check=True
    ).stdout
    args = ["cpio", "-tv", "--quiet"] if verbose else ["cpio", "-t", "--quiet"]
    listing = subprocess.run(args, input=unpacked, capture_output=True, check=True).stdout
    return listing.decode().splitlines()


def test_image_carries_every_firmware_file_and_the_wifi_driver(inventory_image):
    listing = initrd_listing(inventory_image)
    wanted = [
        f"usr/lib/firmware/{line.split()[1]}"
        for line in (ROOT / "image/firmware.txt").read_text().splitlines()
        if line.split("#")[0].strip()
    ]
    assert wanted
    assert [path for path in wanted if path not in listing] == []
    assert any(path.endswith("/iwlmvm.ko.xz") for path in listing)


def test_image_hides_modprobe_from_the_starting_kernel_and_init_restores_it(inventory_image):
    """No /sbin/modprobe for the kernel's requests before /init; /init names kmod's new path."""
    lines = initrd_listing(inventory_image, verbose=True)
    names = {line.split()[8]: line for line in lines if len(line.split()) > 8}
    assert "usr/sbin/modprobe" not in names
    init = (ROOT / "image/init").read_text()
    written = [
        line.split()[1]
        for line in init.splitlines()
        if line.strip().endswith(">/proc/sys/kernel/modprobe")
    ]
    assert len(written) == 1, "init writes the kernel's modprobe path once"
    assert names[written[0].lstrip("/")].endswith("-> /bin/kmod")


def test_image_python_has_no_tls_and_loads_no_openssl(inventory_image):
    """ssl and OpenSSL's hashlib are left out (image/build.sh); the device name comes from the
    interpreter's built-in sha256 (the boot test below checks it)."""
    listing = initrd_listing(inventory_image)
    dynload = [path for path in listing if "/lib-dynload/" in path]
    assert [path for path in dynload if "/_ssl." in path or "/_hashlib." in path] == []
    assert [path for path in listing if "/libssl.so" in path] == []


def test_image_boots_through_ipxe_and_submits_serial_macs_and_token(boot_server, tmp_path):
    boot_server.kernel_args = (
        f"console=ttyS0 arrow.server=http://10.0.2.100 arrow.token={TOKEN} "
        f"arrow.mac=${{net0/mac}} arrow.after=reboot {IMAGE_KERNEL_ARGS}"
    )
    guest = QemuGuest(
        workdir=tmp_path,
        nics=[
            Nic("virtio-net-pci", MAC_BOOT),
            Nic("e1000", MAC_SECOND, net="10.0.3.0/24", rom=False),
        ],
        forward_port=boot_server.port,
        bootfile="http://10.0.2.100/pxe/boot.ipxe?mac=${net0/mac}",
        smbios=SMBIOS,
    )
    with guest:
        submission = wait_for_submission(guest, boot_server)
        exit_code = guest.wait_for_exit(timeout=REBOOT_WAIT_S, what="the agent's reboot")

    script = boot_server.seen("GET", "/pxe/boot.ipxe")
    initrd = boot_server.seen("GET", "/image/initrd.img")
    assert script is not None
    assert initrd is not None
    took = guest.elapsed(submission.at)
    verdict = "within" if took <= BOOT_TARGET_S else "OVER"
    print(
        f"\nQEMU start -> boot.ipxe {guest.elapsed(script.at):.1f} s -> initrd.img "
        f"{guest.elapsed(initrd.at):.1f} s -> submission received {took:.1f} s "
        f"({verdict} the {BOOT_TARGET_S:g} s target)"
    )

    assert parse_qs(urlsplit(script.path).query)["mac"] == [MAC_BOOT], "iPXE expands ${net0/mac}"
    data = json.loads(submission.body)["inventory_data"]
    assert data["serial_number"] == "ABC123XYZ"
    assert data["sn_source"] == "dmidecode"
    assert data["device_name"] == device_name("PVE", "ABC123XYZ", []), "sha256 without OpenSSL"
    macs = submitted_macs(submission.body)
    assert set(macs) == {MAC_BOOT, MAC_SECOND}, data["mac_address"]
    assert all(name for name in macs.values()), data["mac_address"]
    assert submission.headers.get("X-Inventory-Token") == TOKEN
    # /init's ARROW_LLDP_EARLY=1: the window ran from the agent's first line (docs/agent.md)
    assert "lldp: listening since the agent started" in guest.console()
    assert exit_code == 0, "QEMU exits cleanly when the guest reboots (-no-reboot)"
    assert took <= BOOT_CEILING_S, f"{took:.1f} s to submission\n{guest.console_tail()}"


def test_image_takes_static_address_from_kernel_command_line_on_any_subnet(
    inventory_image, boot_server, tmp_path
):
    """arrow.ip skips DHCP; a subnet other than QEMU's 10.0.2.0/24 shows nothing assumes it."""
    guest = QemuGuest(
        workdir=tmp_path,
        nics=[Nic("e1000", MAC_BOOT, net="192.168.77.0/24", rom=False)],
        forward_port=boot_server.port,
        forward_ip="192.168.77.100",
        smbios=SMBIOS,
        kernel=inventory_image / "vmlinuz",
        initrd=inventory_image / "initrd.img",
        append=(
            f"console=ttyS0 arrow.server=http://192.168.77.100 arrow.token={TOKEN} "
            f"arrow.mac={MAC_BOOT} arrow.ip=192.168.77.50/24 arrow.after=poweroff "
            f"{IMAGE_KERNEL_ARGS}"
        ),
    )
    with guest:
        submission = wait_for_submission(guest, boot_server)
        guest.wait_for_exit(timeout=REBOOT_WAIT_S, what="the agent's poweroff")
    print(f"\ndirect boot: QEMU start -> submission received {guest.elapsed(submission.at):.1f} s")

    assert "static address 192.168.77.50/24" in guest.console()
    assert "asking DHCP" not in guest.console()
    assert submitted_macs(submission.body).keys() == {MAC_BOOT}
    assert submission.headers.get("X-Inventory-Token") == TOKEN


def direct_boot(
    image: Path,
    server: BootServer,
    workdir: Path,
    kernel_args: str,
    *,
    nics: list[Nic] | None = None,
    extra_args: list[str] | None = None,
) -> QemuGuest:
    """A guest booting the image's kernel and initrd directly (no iPXE), reaching *server* as
    http://10.0.2.100, with the per-boot token and the image's own kernel arguments."""
    return QemuGuest(
        workdir=workdir,
        nics=nics or [Nic("virtio-net-pci", MAC_BOOT, rom=False)],
        forward_port=server.port,
        smbios=SMBIOS,
        kernel=image / "vmlinuz",
        initrd=image / "initrd.img",
        append=f"console=ttyS0 arrow.token={TOKEN} {kernel_args} {IMAGE_KERNEL_ARGS}",
        extra_args=extra_args or [],
    )


def submitted_hardware(guest: QemuGuest, server: BootServer) -> tuple[dict, Request]:
    """Runs *guest* until the agent has submitted and powered off; the ``hardware`` object."""
    with guest:
        submission = wait_for_submission(guest, server)
        guest.wait_for_exit(timeout=REBOOT_WAIT_S, what="the agent's poweroff")
    return json.loads(submission.body)["inventory_data"]["hardware"], submission


# QEMU's emulated disks, each with the identity a real one reports: NVMe, SATA behind AHCI (a
# spinning one, with a WWN), SCSI behind virtio-scsi (VPD page 0x80) and virtio-blk.
DISKS = {
    "nvme": ("nvme,serial=NVME0042SN", 64),
    "sata": ("ide-hd,bus=ahci.0,serial=SATA0042SN,model=ARROW SATA HDD,rotation_rate=7200,"
             "wwn=0x5000c500a1b2c3d4", 96),
    "scsi": ("scsi-hd,bus=scsi.0,serial=SCSI0042SN,rotation_rate=1", 128),
    "virtio": ("virtio-blk-pci,serial=VIRTIO0042SN", 32),
}  # fmt: skip


def disk_args(workdir: Path) -> list[str]:
    args = ["-device", "ahci,id=ahci", "-device", "virtio-scsi-pci,id=scsi"]
    for kind, (device, size_mib) in DISKS.items():
        image = workdir / f"{kind}.img"
        with image.open("wb") as sparse:
            sparse.truncate(size_mib * 2**20)
        args += ["-drive", f"if=none,id={kind},format=raw,file={image}"]
        args += ["-device", f"{device},drive={kind}"]
    return args


def test_image_reports_disks_nics_memory_and_pci_devices_from_the_booted_kernel(
    inventory_image, boot_server, tmp_path
):
    """The hardware facts as the image's own kernel and drivers expose them, with no udev:
    NVMe, SATA, SCSI and virtio disks (serial, model, size, rotational, transport, WWN), each
    NIC's driver, PCI address, speed and link, the memory module and the PCI devices."""
    nics = [
        Nic("virtio-net-pci", MAC_BOOT, rom=False),
        Nic("e1000", MAC_SECOND, net="10.0.3.0/24", rom=False),
    ]
    args = "arrow.server=http://10.0.2.100 arrow.after=poweroff"
    guest = direct_boot(
        inventory_image, boot_server, tmp_path, args, nics=nics, extra_args=disk_args(tmp_path)
    )
    hardware, _ = submitted_hardware(guest, boot_server)
    disks = {disk["transport"]: disk for disk in hardware["disks"]}
    assert sorted(disks) == sorted(DISKS), hardware["disks"]
    for kind, (_, size_mib) in DISKS.items():
        assert disks[kind]["serial"] == f"{kind.upper()}0042SN", disks[kind]
        assert disks[kind]["size_bytes"] == size_mib * 2**20, disks[kind]
    assert disks["sata"]["model"] == "ARROW SATA HDD"
    assert disks["sata"]["rotational"] is True
    assert disks["sata"]["wwn"] == "naa.5000c500a1b2c3d4"
    assert disks["scsi"]["rotational"] is False
    assert disks["nvme"]["model"] == "QEMU NVMe Ctrl"
    assert not [e for e in hardware["collection_errors"] if e["collector"] == "disks"]

    nics = {nic["mac"]: nic for nic in hardware["nics"]}
    assert (nics[MAC_BOOT]["driver"], nics[MAC_SECOND]["driver"]) == ("virtio_net", "e1000")
    assert nics[MAC_SECOND]["speed_mbps"] == 1000
    assert all(nic["carrier"] is True for nic in nics.values()), nics
    pci = {device["bus"]: device for device in hardware["pci_devices"]}
    e1000 = pci[nics[MAC_SECOND]["pci_address"]]
    assert (e1000["vendor_id"], e1000["product_id"], e1000["driver"]) == ("8086", "100e", "e1000")
    assert {pci[address]["driver"] for address in pci} >= {"ahci", "nvme", "virtio-pci"}
    [module] = hardware["memory_modules"]
    assert (module["slot"], module["size_mb"]) == ("DIMM 0", 512)
    assert (hardware["boot_mode"], hardware["secure_boot"]) == ("BIOS", None)
    # No modem, and no ModemManager by design: nothing to report (it was "mmcli: command not
    # found" on every machine); the only error is LLDP's, QEMU's network has no switch.
    assert [e["collector"] for e in hardware["collection_errors"]] == ["lldp"]


def test_image_reports_the_bmcs_lan_address_and_mac_over_ipmi_and_the_tpm(
    inventory_image, boot_server, tmp_path
):
    """A server's BMC on its KCS interface (OpenIPMI's simulator, tests/e2e/platform_sim.py): the
    image's kernel binds ipmi_si by its ACPI alias, /init adds ipmi_devintf, and the agent's
    ``ipmitool lan print`` reports the BMC's address, MAC, netmask and gateway; a TPM 2.0
    (swtpm) on its TIS interface is reported present, version 2."""
    lan = BmcLan()
    with ipmi_bmc(tmp_path / "bmc", lan) as bmc_args, tpm2(tmp_path / "tpm") as tpm_args:
        args = "arrow.server=http://10.0.2.100 arrow.after=poweroff"
        guest = direct_boot(
            inventory_image, boot_server, tmp_path, args, extra_args=bmc_args + tpm_args
        )
        hardware, submission = submitted_hardware(guest, boot_server)
    assert hardware["bmc"] == {
        "bmc_address": lan.address,
        "bmc_mac": lan.mac,
        "ip_source": "Static Address",
        "netmask": lan.netmask,
        "gateway": lan.gateway,
        "vlan_id": None,
    }, hardware["collection_errors"]
    assert not [e for e in hardware["collection_errors"] if e["collector"] == "bmc"]
    # The BMC's own MAC is a fact about the machine, never one of its identities.
    assert lan.mac not in submitted_macs(submission.body)
    assert hardware["tpm"] == {"present": True, "version": 2}


def test_image_refuses_an_https_server_at_start_and_reboots(inventory_image, boot_server, tmp_path):
    """The image has no TLS (no CA bundle, no ssl module): an https:// arrow.server is refused
    at once, naming the setting, instead of failing every attempt until the deadline."""
    args = "arrow.server=https://10.0.2.100 arrow.faildelay=0"
    guest = direct_boot(inventory_image, boot_server, tmp_path, args)
    with guest:
        guest.wait_for_exit(timeout=BOOT_CEILING_S, what="the reboot after the refusal")
    console = guest.console()
    assert "server (from cmdline) is an https:// URL, but this Python has no TLS" in console
    assert "AGENT FAILED (exit 2)" in console
    assert boot_server.seen("POST", "/api/inventory/submit") is None
