"""Network interfaces: which are physical, their permanent MACs, and their link details.

The sysfs rule comes first: an interface is physical when ``/sys/class/net/<if>/device``
exists, which drops lo, bridges, bonds, VLANs, veth, tun/tap and docker interfaces. A physical
interface must also have a usable 48-bit MAC (InfiniBand and raw-IP ``wwan`` devices have none).
A bond member reports the bond's address, so the permanent address wins where one is known:
``bonding_slave/perm_hwaddr`` in sysfs, ``permaddr`` (or ``perm_hwaddr``) from ``ip``.

``ip`` output (``ip -j -d link``, else plain ``ip link``) is parsed as a fallback when sysfs
cannot be listed. Without device links, "physical" is decided by heuristics: link/ether, no
``@`` parent, no virtual kind (``-d``) and no virtual name (br*, bond*, veth*, docker*, ...).
SR-IOV ``vf N`` lines are settings of their parent, not interfaces.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace

from arrow_agent import run
from arrow_agent.collectors import Failure, Parsed, parse_guarded
from arrow_agent.macs import is_usable_mac, normalize_mac

NAME = "net"

IP_COMMANDS = (["ip", "-j", "-d", "link"], ["ip", "link"])


@dataclass(frozen=True)
class Nic:
    """A physical interface as reported: its permanent MAC and what sysfs says about its link."""

    name: str
    mac: str
    driver: str | None = None
    speed_mbps: int | None = None
    operstate: str | None = None
    carrier: bool | None = None
    firmware_version: str | None = None
    pci_address: str | None = None
    shared: bool = False  # a BMC's USB network device: the same MAC on many machines


# USB network devices that BMCs present to their host (vendor:product). Their MAC is the BMC
# firmware's, often one value for a whole product line, so it never identifies a device.
BMC_USB_NICS = {
    "046b:ffb0": "AMI MegaRAC virtual Ethernet (Supermicro, ASRock Rack, Gigabyte, ...)",
    "413c:a102": "Dell iDRAC virtual NIC",
    "04b3:4010": "Lenovo XClarity Controller / IBM IMM USB RNDIS",
}


@dataclass(frozen=True)
class DrvInfo:
    """What ``ethtool -i`` tells: the driver, its version, the NIC's firmware and bus address."""

    driver: str | None = None
    version: str | None = None
    firmware_version: str | None = None
    bus_info: str | None = None


@dataclass(frozen=True)
class Link:
    """One interface as ``ip`` reports it."""

    name: str
    link_type: str | None = None  # "ether", "loopback", "none", "infiniband", ...
    address: str | None = None  # canonical, or None when not a 48-bit MAC
    permanent: str | None = None  # permaddr / perm_hwaddr, canonical
    kind: str | None = None  # info_kind from ip -d ("bridge", "veth", ...)
    stacked: bool = False  # "name@parent", or an IFLA_LINK in JSON: VLAN, macvlan, veth, tunnel

    @property
    def mac(self) -> str | None:
        return self.permanent or self.address

    @property
    def looks_physical(self) -> bool:
        return (
            self.link_type == "ether"
            and self.mac is not None
            and is_usable_mac(self.mac)
            and not self.stacked
            and self.kind not in VIRTUAL_KINDS
            and not is_virtual_name(self.name)
        )


@dataclass(frozen=True)
class SysNet:
    """The raw sysfs view of one entry of /sys/class/net."""

    name: str
    has_device: bool
    address: str | None = None
    perm_hwaddr: str | None = None
    driver: str | None = None
    speed: str | None = None
    operstate: str | None = None
    carrier: str | None = None
    usb_id: str | None = None  # "vendor:product" of a USB network device


# Link kinds (ip -d) that are never hardware. Slave kinds (bond_slave, bridge_slave,
# openvswitch_slave) describe a physical port's membership, so they are absent on purpose.
VIRTUAL_KINDS = frozenset(
    {
        "bond",
        "bridge",
        "dummy",
        "erspan",
        "geneve",
        "gre",
        "gretap",
        "ifb",
        "ip6gre",
        "ip6gretap",
        "ip6tnl",
        "ipip",
        "ipvlan",
        "macsec",
        "macvlan",
        "macvtap",
        "netkit",
        "nlmon",
        "openvswitch",
        "sit",
        "team",
        "tun",
        "vcan",
        "veth",
        "vlan",
        "vrf",
        "vti",
        "vxcan",
        "vxlan",
        "wireguard",
        "xfrm",
    }
)
_VIRTUAL_PREFIXES = (
    "bond",
    "br",
    "cali",
    "cni",
    "docker",
    "dummy",
    "erspan",
    "flannel",
    "geneve",
    "gre",
    "ifb",
    "ip6",
    "ip_vti",
    "kube",
    "macvlan",
    "macvtap",
    "nlmon",
    "ovs",
    "ppp",
    "sit",
    "tap",
    "team",
    "tun",
    "veth",
    "virbr",
    "vlan",
    "vnet",
    "vxlan",
    "wg",
)
# Bridges named after their owner: incusbr0, lxdbr0, lxcbr0, Proxmox's vmbr0.
_BRIDGE_SUFFIX = re.compile(r"br\d+$")


def is_virtual_name(name: str) -> bool:
    """True when the interface name says it is not hardware (used only without sysfs)."""
    return name == "lo" or name.startswith(_VIRTUAL_PREFIXES) or bool(_BRIDGE_SUFFIX.search(name))


def read_ip() -> str:
    """``ip -j -d link`` output, else plain ``ip link`` (BusyBox has no -j)."""
    errors = []
    for argv in IP_COMMANDS:
        try:
            return run.run(argv, timeout=15)
        except run.RunError as exc:
            errors.append(str(exc))
    raise run.RunError("; ".join(errors))


def read_sysfs() -> list[SysNet]:
    """Every entry of /sys/class/net; raises OSError when the directory cannot be listed."""

    def value(path: str) -> str | None:
        try:
            return run.read_sys(path).strip()
        except OSError:  # speed and carrier refuse to be read while the link is down
            return None

    entries = []
    for name in run.list_sys("/sys/class/net"):
        base = f"/sys/class/net/{name}"
        entries.append(
            SysNet(
                name=name,
                has_device=run.sys_exists(f"{base}/device"),
                address=value(f"{base}/address"),
                perm_hwaddr=value(f"{base}/bonding_slave/perm_hwaddr"),
                driver=run.sys_link_name(f"{base}/device/driver"),
                speed=value(f"{base}/speed"),
                operstate=value(f"{base}/operstate"),
                carrier=value(f"{base}/carrier"),
                usb_id=_usb_id(
                    value(f"{base}/device/../idVendor"), value(f"{base}/device/../idProduct")
                ),
            )
        )
    return entries


def _usb_id(vendor: str | None, product: str | None) -> str | None:
    return f"{vendor.lower()}:{product.lower()}" if vendor and product else None


def parse_ip(text: str) -> Parsed[list[Link]]:
    """Links from ``ip -j link`` JSON or from ``ip link`` / ``ip -o link`` / ``ip addr`` text."""
    if text.lstrip().startswith("["):
        return parse_ip_json(text)
    return parse_ip_text(text)


def parse_ip_json(text: str) -> Parsed[list[Link]]:
    try:
        entries = json.loads(text)
    except ValueError as exc:
        return Parsed([], [f"ip -j output is not JSON: {exc}"])
    if not isinstance(entries, list):
        return Parsed([], ["ip -j output is not a JSON list"])
    links = []
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("ifname"), str):
            continue
        info = entry.get("linkinfo") if isinstance(entry.get("linkinfo"), dict) else {}
        slave = info.get("info_slave_data") if isinstance(info.get("info_slave_data"), dict) else {}
        links.append(
            Link(
                name=entry["ifname"],
                link_type=_text(entry.get("link_type")),
                address=normalize_mac(_text(entry.get("address"))),
                permanent=normalize_mac(_text(entry.get("permaddr")))
                or normalize_mac(_text(slave.get("perm_hwaddr"))),
                kind=_text(info.get("info_kind")),
                stacked="link" in entry or "link_index" in entry,
            )
        )
    return Parsed(links)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


# "2: eth0: <...>", "6: bond0.2@bond0: <...>", "10: gre0@NONE: <...>"
_HEADER = re.compile(r"^\d+:\s+([^\s:@]+)(@\S*)?:\s")


def parse_ip_text(text: str) -> Parsed[list[Link]]:
    links: list[Link] = []
    current: dict[str, object] | None = None
    # ip -o puts a whole link on one line, with a backslash where a newline would be.
    for line in (piece for raw in text.splitlines() for piece in raw.split("\\")):
        header = _HEADER.match(line)
        if header:
            if current is not None:
                links.append(Link(**current))  # type: ignore[arg-type]
            current = {"name": header.group(1), "stacked": header.group(2) is not None}
            continue
        words = line.split()
        if current is None or not words or not line[0].isspace():
            continue  # a line wrapped mid-word by whoever captured it, or a stray line
        first = words[0]
        if first.startswith("link/") and "link_type" not in current:
            current["link_type"] = first[len("link/") :]
            current["address"] = normalize_mac(words[1]) if len(words) > 1 else None
            current["permanent"] = normalize_mac(_after(words, "permaddr"))
        elif first.endswith("_slave") and current.get("permanent") is None:
            current["permanent"] = normalize_mac(_after(words, "perm_hwaddr"))
        elif first in VIRTUAL_KINDS and "kind" not in current:
            current["kind"] = first
    if current is not None:
        links.append(Link(**current))  # type: ignore[arg-type]
    warnings = [] if links else ["ip output lists no interfaces"]
    return Parsed(links, warnings)


def _after(words: list[str], key: str) -> str | None:
    try:
        return words[words.index(key) + 1]
    except (ValueError, IndexError):
        return None


def nics_from_ip(links: list[Link]) -> list[Nic]:
    """Physical NICs by the ip heuristics, in ip's order."""
    return [Nic(name=link.name, mac=link.mac) for link in links if link.looks_physical and link.mac]


def nics_from_sysfs(entries: list[SysNet], permanent: dict[str, str]) -> list[Nic]:
    """Physical NICs by the sysfs rule; *permanent* holds ip's permaddr by interface name."""
    nics = []
    for entry in entries:
        mac = (
            normalize_mac(entry.perm_hwaddr)
            or permanent.get(entry.name)
            or normalize_mac(entry.address)
        )
        if not entry.has_device or mac is None or not is_usable_mac(mac):
            continue
        nics.append(
            Nic(
                name=entry.name,
                mac=mac,
                driver=entry.driver,
                speed_mbps=_speed(entry.speed),
                operstate=entry.operstate,
                carrier={"1": True, "0": False}.get(entry.carrier or ""),
                shared=entry.usb_id in BMC_USB_NICS,
            )
        )
    return nics


def _speed(text: str | None) -> int | None:
    try:
        speed = int(text or "")
    except ValueError:
        return None
    return speed if speed > 0 else None  # -1 (unknown) while the link is down


def mac_list(nics: list[Nic]) -> Parsed[list[str]]:
    """The ``iface:mac`` pairs for the payload, each MAC once (bond members without permaddr
    all report the bond's MAC; the first interface keeps it)."""
    pairs: list[str] = []
    warnings: list[str] = []
    owner: dict[str, str] = {}  # mac -> the interface that reported it first
    for nic in nics:
        if nic.shared:
            continue  # a BMC's USB NIC: listed in hardware.nics, never an identity
        if nic.mac in owner:
            warnings.append(f"{nic.name} reports the same MAC as {owner[nic.mac]}; sent once")
            continue
        owner[nic.mac] = nic.name
        pairs.append(f"{nic.name}:{nic.mac}")
    return Parsed(pairs, warnings)


def parse_drvinfo(raw: bytes) -> Parsed[DrvInfo]:
    """The strings of a ``struct ethtool_drvinfo`` (cmd, then five 32-byte NUL-padded fields)."""
    if len(raw) < 4 + 32 * 4:
        return Parsed(DrvInfo(), [f"ethtool driver info is {len(raw)} bytes, too short"])

    def field(index: int) -> str | None:
        text = raw[4 + 32 * index : 4 + 32 * (index + 1)].split(b"\0", 1)[0]
        value = text.decode("utf-8", errors="replace").strip()
        return value if value and value.upper() != "N/A" else None

    return Parsed(DrvInfo(field(0), field(1), field(2), field(3)))


_PCI_ADDRESS = re.compile(r"[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]")


def with_drvinfo(nic: Nic, failures: list[Failure]) -> Nic:
    """*nic* with its firmware version and PCI address from the driver (ethtool -i)."""
    try:
        raw = run.ethtool_drvinfo(nic.name)
    except OSError as exc:
        failures.append(Failure(NAME, "read", f"{nic.name}: ethtool: {exc.strerror or exc}"))
        return nic
    if raw is None:
        return nic
    info = parse_guarded(NAME, parse_drvinfo, raw, failures, DrvInfo())  # type: ignore[arg-type]
    bus = (info.bus_info or "").lower()
    return replace(
        nic,
        driver=nic.driver or info.driver,
        firmware_version=info.firmware_version,
        pci_address=bus if _PCI_ADDRESS.fullmatch(bus) else None,
    )


def collect(failures: list[Failure]) -> list[Nic]:
    """Physical NICs from sysfs, with ip's permanent addresses; from ip alone without sysfs."""
    links: list[Link] = []
    try:
        links = parse_guarded(NAME, parse_ip, read_ip(), failures, [])
    except run.RunError as exc:
        failures.append(Failure(NAME, "read", str(exc)))
    try:
        entries = read_sysfs()
    except OSError as exc:
        failures.append(Failure(NAME, "read", f"/sys/class/net: {exc.strerror or exc}"))
        entries = []
    if not entries:
        return nics_from_ip(links)
    permanent = {link.name: link.permanent for link in links if link.permanent}
    return [with_drvinfo(nic, failures) for nic in nics_from_sysfs(entries, permanent)]
