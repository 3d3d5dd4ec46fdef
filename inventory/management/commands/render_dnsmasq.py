"""Renders the dnsmasq configuration for an operator's network (pxe/dnsmasq.conf.tmpl).

Proxy-DHCP mode (default) answers only the boot part beside the site's own DHCP server; full DHCP
mode hands out addresses too. `--prepare-tftp` lays out the TFTP root with Debian's iPXE builds
and writes arrow.ipxe, the stage script iPXE gets first (inventory/ipxe.py).
"""

from __future__ import annotations

import ipaddress
import os
import stat
from pathlib import Path
from string import Template
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from inventory.ipxe import stage_script

TEMPLATE = settings.BASE_DIR / "pxe" / "dnsmasq.conf.tmpl"
# TFTP name -> file of Debian's ipxe package. In proxy mode dnsmasq's pxe-service appends ".0"
# to the basename for legacy BIOS clients, hence undionly.0.
TFTP_FILES = {
    "undionly.kpxe": "undionly.kpxe",
    "undionly.0": "undionly.kpxe",
    "snponly.efi": "snponly.efi",
    "ipxe.efi": "ipxe.efi",
}
STAGE_SCRIPT = "arrow.ipxe"
SHIM = "shimx64.efi"
# The Secure Boot chain: Debian's shim, signed by Microsoft, loads grubx64.efi from the same
# TFTP directory; Debian's signed network GRUB (grubnetx64) is that file.
SECURE_BOOT_FILES = {
    SHIM: Path("/usr/lib/shim/shimx64.efi.signed"),
    "grubx64.efi": Path("/usr/lib/grub/x86_64-efi-signed/grubnetx64.efi.signed"),
}


def boot_server_address(boot_server: str | None, server_url: str) -> str:
    """This host's IPv4 address on the devices' side: given, or the host of --server."""
    if boot_server:
        try:
            return str(ipaddress.IPv4Address(boot_server))
        except ValueError as exc:
            raise CommandError(f"--boot-server must be an IPv4 address: {exc}") from None
    host = urlsplit(server_url).hostname or ""
    try:
        return str(ipaddress.IPv4Address(host))
    except ValueError:
        raise CommandError(
            "--boot-server is required when --server does not name an IPv4 address: give the "
            "address of this dnsmasq host on --interface"
        ) from None


def _proxy_lines(subnet: str | None, efi_file: str) -> tuple[str, str]:
    """(range lines, boot lines) of proxy DHCP: the site's DHCP server gives the addresses."""
    if not subnet:
        raise CommandError("--subnet is required in proxy mode (e.g. 192.168.10.0)")
    network = ipaddress.ip_network(subnet if "/" in subnet else f"{subnet}/32", strict=False)
    range_lines = f"dhcp-range={network.network_address},proxy"
    boot_lines = "\n".join(
        [
            'pxe-prompt="ARROW network boot",0',
            'pxe-service=tag:!ipxe,x86PC,"ARROW network boot (BIOS)",undionly',
            f'pxe-service=tag:!ipxe,X86-64_EFI,"ARROW network boot (UEFI)",{efi_file}',
            f'pxe-service=tag:!ipxe,BC_EFI,"ARROW network boot (UEFI)",{efi_file}',
        ]
    )
    return range_lines, boot_lines


def _dhcp_lines(
    dhcp_range: str | None,
    router: str | None,
    efi_file: str,
    interface: str,
    *,
    ipv6_ra: bool,
    no_ping: bool,
) -> tuple[str, str]:
    """(range lines, boot lines) of a full DHCP server on an isolated network."""
    if not dhcp_range:
        raise CommandError("--range is required in dhcp mode (e.g. 10.0.0.100,10.0.0.200)")
    parts = [p.strip() for p in dhcp_range.split(",")]
    if len(parts) != 2:
        raise CommandError("--range takes FIRST,LAST addresses")
    for part in parts:
        ipaddress.ip_address(part)
    range_lines = f"dhcp-range={parts[0]},{parts[1]},12h"
    if router:
        range_lines += f"\ndhcp-option=option:router,{ipaddress.ip_address(router)}"
    if ipv6_ra:
        # iPXE waits about 16 s for IPv6 autoconfiguration unless a router advertisement
        # comes; this announces the interface's own IPv6 prefix (stateless, no DHCPv6).
        range_lines += f"\nenable-ra\ndhcp-range=::,constructor:{interface},ra-only"
    if no_ping:
        # dnsmasq pings an address before its first offer and waits about 3 s for an answer.
        range_lines += "\n# Offered without a ping first (--no-ping): nothing static in the range"
        range_lines += "\nno-ping"
    boot_lines = "\n".join(
        [
            "dhcp-boot=tag:bios,tag:!ipxe,undionly.kpxe",
            f"dhcp-boot=tag:efi64,tag:!ipxe,{efi_file}",
            "# iPXE waits 2 s for ProxyDHCP offers after the first offer unless the offer says",
            "# there are none (iPXE's no-pxedhcp, option 175.176): this server is the only one.",
            "dhcp-option=tag:ipxe,encap:175,176,1",
        ]
    )
    return range_lines, boot_lines


def render(
    *,
    mode: str,
    interface: str,
    boot_url: str,
    tftp_root: str,
    subnet: str | None = None,
    dhcp_range: str | None = None,
    router: str | None = None,
    efi_file: str = "snponly.efi",
    boot_server: str | None = None,
    verbose_log: bool = False,
    ipv6_ra: bool = False,
    no_ping: bool = False,
    secure_boot: bool = False,
    pxe_filter: str | None = None,
) -> str:
    # UEFI firmware's own PXE gets Debian's signed shim -> GRUB chain with --secure-boot.
    pxe_efi = SHIM if secure_boot else efi_file
    if mode == "proxy":
        range_lines, boot_lines = _proxy_lines(subnet, pxe_efi)
    elif mode == "dhcp":
        range_lines, boot_lines = _dhcp_lines(
            dhcp_range, router, pxe_efi, interface, ipv6_ra=ipv6_ra, no_ping=no_ping
        )
    else:
        raise CommandError("--mode is proxy or dhcp")
    if ipv6_ra and mode != "dhcp":
        raise CommandError("--ipv6-ra is for dhcp mode: in proxy mode the site's router sends them")
    if no_ping and mode != "dhcp":
        raise CommandError("--no-ping is for dhcp mode: in proxy mode the site hands out addresses")
    if not boot_url.startswith(("http://", "https://")):
        raise CommandError("--server must be an http:// URL of this backend")
    # Default: one line per DHCP exchange and TFTP file; --verbose-log: every option sent.
    log_lines = "log-dhcp" if verbose_log else "# log-dhcp (render with --verbose-log to trace)"
    boot_lines += "\n" + filter_lines(pxe_filter)
    return Template(TEMPLATE.read_text()).substitute(
        mode=mode,
        interface=interface,
        log_lines=log_lines,
        range_lines=range_lines,
        boot_lines=boot_lines,
        tftp_root=tftp_root,
        efi_file=pxe_efi,
        http_efi=efi_file,
        server=boot_url.rstrip("/"),
        boot_server=boot_server_address(boot_server, boot_url),
    )


def filter_lines(hosts_dir: str | None) -> str:
    """The PXE filter: answer only MACs with a `MAC` file in *hosts_dir* (the backend writes
    them, inventory/services/bootfiles.py); every MAC while discovery is on."""
    if not hosts_dir:
        return "# PXE filter off: every PXE client is answered (render with --pxe-filter DIR)"
    lines = [f"dhcp-hostsdir={hosts_dir}"]
    if settings.ARROW_DISCOVER_UNKNOWN:
        lines.append("# discovery is on (ARROW_DISCOVER_UNKNOWN): every MAC is answered")
    else:
        lines.append("dhcp-ignore=tag:!known")
    return "\n".join(lines)


GRUB_CFG = """# ARROW Auto-Inventory, Secure Boot chain (shim -> GRUB -> kernel, all over TFTP).
# Written by `render_dnsmasq --secure-boot --prepare-tftp`. The backend writes one file per MAC
# to inventory beside this one (ARROW_GRUB_DIR); a MAC without one boots the next device.
set timeout=0
echo "ARROW: asking what to boot for ${net_default_mac}"
source /grub/mac-${net_default_mac}.cfg
echo "ARROW: ${net_default_mac}: nothing to do here - booting the next device"
exit
"""


def prepare_secure_boot(root: Path, image_dir: Path) -> list[Path]:
    """Links Debian's signed shim and network GRUB and the (signed) inventory image into
    *root*, and writes grub/grub.cfg."""
    made = [_link(root / name, src) for name, src in SECURE_BOOT_FILES.items()]
    for name in ("vmlinuz", "initrd.img"):
        made.append(_link(root / name, image_dir / name, "run make image"))
    grub = root / "grub"
    grub.mkdir(exist_ok=True)
    grub.chmod(0o755)
    (grub / "grub.cfg").write_text(GRUB_CFG)
    (grub / "grub.cfg").chmod(0o644)
    return [*made, grub / "grub.cfg"]


def _link(link: Path, src: Path, hint: str = "") -> Path:
    """Links *src* into the TFTP root, after making sure dnsmasq will be able to serve it."""
    if not src.is_file():
        raise CommandError(f"{src} is missing: {hint or 'see requirements/system.txt'}")
    if problem := _not_public(src):
        raise CommandError(
            f"{src}: dnsmasq serves TFTP as an unprivileged user and could not read it "
            f"({problem}); keep it where anyone may read it (e.g. --image-dir /srv/arrow/image)"
        )
    if link.is_symlink() or link.exists():
        link.unlink()
    os.symlink(src, link)
    return link


def _not_public(path: Path) -> str | None:
    """Why a user with no special rights cannot read *path*, or None: every directory on the
    way must let others through (x), the file must let them read (r)."""
    path = path.resolve()
    for directory in reversed(path.parents):
        if not directory.stat().st_mode & stat.S_IXOTH:
            return f"{directory} is not open to others"
    if not path.stat().st_mode & stat.S_IROTH:
        return "the file is not readable by others"
    return None


def boot_script_url(server: str) -> str:
    return f"{server.rstrip('/')}/pxe/boot.ipxe"


def prepare_tftp(root: Path, ipxe_dir: Path, server: str) -> list[Path]:
    """Links Debian's iPXE builds into *root* and writes the stage script for *server*."""
    root.mkdir(parents=True, exist_ok=True)
    made = []
    for name, source in TFTP_FILES.items():
        src = ipxe_dir / source
        if not src.is_file():
            raise CommandError(f"{src} is missing: install Debian's ipxe package")
        made.append(_link(root / name, src))
    stage = root / STAGE_SCRIPT
    stage.write_text(stage_script(boot_script_url(server)))
    stage.chmod(0o644)  # dnsmasq serves it as an unprivileged user
    made.append(stage)
    return made


class Command(BaseCommand):
    help = "Render a dnsmasq configuration that network-boots devices into ARROW."

    def add_arguments(self, parser):
        parser.add_argument("--mode", choices=["proxy", "dhcp"], default="proxy")
        parser.add_argument("--interface", required=True, help="interface facing the devices")
        parser.add_argument(
            "--server",
            default=settings.ARROW_PUBLIC_URL or "",
            help="URL devices use to reach this backend (default ARROW_PUBLIC_URL)",
        )
        parser.add_argument("--subnet", help="proxy mode: the devices' subnet, e.g. 10.1.0.0/24")
        parser.add_argument("--range", dest="dhcp_range", help="dhcp mode: FIRST,LAST")
        parser.add_argument("--router", help="dhcp mode: default gateway")
        self._add_dhcp_mode_arguments(parser)
        parser.add_argument("--tftp-root", default=str(settings.VAR_DIR / "tftp"))
        parser.add_argument("--ipxe-dir", default="/usr/lib/ipxe")
        parser.add_argument(
            "--efi",
            default="snponly.efi",
            choices=["snponly.efi", "ipxe.efi"],
            help="UEFI iPXE build: snponly.efi uses the firmware's NIC driver",
        )
        parser.add_argument(
            "--boot-server",
            help="this host's IPv4 address on --interface (TFTP, proxy DHCP); default: the "
            "host of --server when that is an IPv4 address",
        )
        parser.add_argument(
            "--prepare-tftp",
            action="store_true",
            help=f"link Debian's iPXE files into --tftp-root and write {STAGE_SCRIPT} there",
        )
        parser.add_argument(
            "--secure-boot",
            action="store_true",
            help="UEFI PXE clients get Debian's signed shim -> GRUB -> kernel chain over TFTP "
            "(with --prepare-tftp: link it and the image into --tftp-root)",
        )
        parser.add_argument(
            "--image-dir",
            default=str(settings.ARROW_IMAGE_DIR),
            help="--secure-boot: the inventory image (vmlinuz, initrd.img) served over TFTP",
        )
        parser.add_argument(
            "--pxe-filter",
            metavar="DIR",
            help="answer only MACs the backend wants to boot: the dhcp-hostsdir it writes "
            "(set ARROW_DHCP_HOSTS_DIR to the same directory)",
        )
        parser.add_argument(
            "--verbose-log", action="store_true", help="log every DHCP option sent (log-dhcp)"
        )
        parser.add_argument("--output", "-o", help="write here instead of standard output")

    @staticmethod
    def _add_dhcp_mode_arguments(parser):
        parser.add_argument(
            "--ipv6-ra",
            action="store_true",
            help="dhcp mode: send IPv6 router advertisements for the interface's IPv6 prefix "
            "(saves iPXE's IPv6 wait, about 16 s per boot)",
        )
        parser.add_argument(
            "--no-ping",
            action="store_true",
            help="dhcp mode: offer an address without pinging it first (saves about 3 s on "
            "each machine's first DHCP request); only when no host in --range has a static address",
        )

    def handle(self, *args, **opts):
        if not opts["server"]:
            raise CommandError("--server (or ARROW_PUBLIC_URL) is required")
        text = render(
            mode=opts["mode"],
            interface=opts["interface"],
            boot_url=opts["server"],
            tftp_root=opts["tftp_root"],
            subnet=opts["subnet"],
            dhcp_range=opts["dhcp_range"],
            router=opts["router"],
            efi_file=opts["efi"],
            boot_server=opts["boot_server"],
            verbose_log=opts["verbose_log"],
            ipv6_ra=opts["ipv6_ra"],
            no_ping=opts["no_ping"],
            secure_boot=opts["secure_boot"],
            pxe_filter=opts["pxe_filter"],
        )
        if opts["pxe_filter"]:
            Path(opts["pxe_filter"]).mkdir(parents=True, exist_ok=True)
            Path(opts["pxe_filter"]).chmod(0o755)
        if opts["prepare_tftp"]:
            root, ipxe_dir = Path(opts["tftp_root"]), Path(opts["ipxe_dir"])
            made = prepare_tftp(root, ipxe_dir, opts["server"])
            if opts["secure_boot"]:
                made += prepare_secure_boot(root, Path(opts["image_dir"]))
            for path in made:
                self.stderr.write(f"prepared {path}")
        if opts["output"]:
            Path(opts["output"]).write_text(text)
            self.stderr.write(f"wrote {opts['output']}")
        else:
            self.stdout.write(text, ending="")
