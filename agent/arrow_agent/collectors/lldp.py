"""LLDP neighbours: which switch port each linked NIC is plugged into.

Listens for LLDP frames (ethertype 0x88cc) on raw AF_PACKET sockets, on every linked port at
once, for at most ``wait_s`` seconds. First it announces itself on each port as an LLDP-MED
endpoint: a switch with LLDP-MED fast start (IEEE 802.1AB-2009 txFast, ANSI/TIA-1057) answers a
new endpoint within a second instead of at its next 30 s tick. Stops as soon as every linked
port has heard a neighbour, and at once when no port is linked.
Decodes chassis id, port id, port description, system name and description, management
address and the port VLAN id (IEEE 802.1 TLV). Knows nothing about the rest of the NIC.
"""

from __future__ import annotations

import ipaddress
import select
import socket
import struct
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from arrow_agent.collectors import Failure, Parsed

NAME = "lldp"
ETH_P_LLDP = 0x88CC
LLDP_MULTICAST = bytes.fromhex("0180c200000e")
DEFAULT_WAIT_S = 3.0
ANNOUNCE_TTL_S = 60  # the switch forgets the inventory ramdisk a minute after it reboots
SYSTEM_NAME = b"arrow-inventory"
_PACKET_OUTGOING = 4
_SOL_PACKET = 263
_PACKET_ADD_MEMBERSHIP = 1
_PACKET_MR_MULTICAST = 0


@dataclass(frozen=True)
class Neighbor:
    """Field names follow ironic-python-agent's ``lldp`` processing (chassis_id, port_id...)."""

    interface: str
    chassis_id: str | None = None
    port_id: str | None = None
    port_description: str | None = None
    system_name: str | None = None
    system_description: str | None = None
    management_address: str | None = None
    vlan_id: int | None = None


@dataclass(frozen=True)
class Heard:
    """What the early listener heard: the ports it listened on, their neighbours, its failures."""

    interfaces: tuple[str, ...]
    neighbors: tuple[Neighbor, ...]
    failures: tuple[Failure, ...]


def _mac(data: bytes) -> str:
    return ":".join(f"{b:02x}" for b in data)


_MAC_SUBTYPE = {1: 4, 2: 3}  # chassis id subtype 4, port id subtype 3: a MAC address
_ADDRESS_SUBTYPE = {1: 5, 2: 4}  # chassis id subtype 5, port id subtype 4: a network address


def _id_value(kind: int, data: bytes) -> str | None:
    """A chassis (TLV 1) or port (TLV 2) id: a MAC or an address by its subtype, else text
    (interface names, aliases, locally assigned ids)."""
    if not data:
        return None
    subtype, value = data[0], data[1:]
    if subtype == _MAC_SUBTYPE[kind] and len(value) == 6:
        return _mac(value)
    if subtype == _ADDRESS_SUBTYPE[kind] and value:
        return _address(value)
    return value.decode("utf-8", errors="replace")


def _address(data: bytes) -> str | None:
    """An address with its IANA family byte (1 IPv4, 2 IPv6)."""
    family, raw = data[0], data[1:]
    if family == 1 and len(raw) == 4:
        return str(ipaddress.IPv4Address(raw))
    if family == 2 and len(raw) == 16:
        return str(ipaddress.IPv6Address(raw))
    return raw.hex() or None


def tlvs(payload: bytes) -> list[tuple[int, bytes]]:
    """The (type, value) pairs of an LLDPDU, up to the End TLV or the last whole TLV."""
    found = []
    offset = 0
    while offset + 2 <= len(payload):
        header = struct.unpack_from("!H", payload, offset)[0]
        kind, length = header >> 9, header & 0x1FF
        offset += 2
        if kind == 0 or offset + length > len(payload):
            break
        found.append((kind, payload[offset : offset + length]))
        offset += length
    return found


def parse_frame(interface: str, frame: bytes) -> Parsed[Neighbor | None]:
    """The neighbour in one Ethernet frame; None with a warning when it is not LLDP."""
    if len(frame) < 14 or struct.unpack_from("!H", frame, 12)[0] != ETH_P_LLDP:
        return Parsed(None, [f"{interface}: frame is not LLDP"])
    values: dict[str, object] = {}
    for kind, value in tlvs(frame[14:]):
        if kind in (1, 2):
            values["chassis_id" if kind == 1 else "port_id"] = _id_value(kind, value)
        elif kind in (4, 5, 6):
            name = {4: "port_description", 5: "system_name", 6: "system_description"}[kind]
            values[name] = value.decode("utf-8", errors="replace")
        elif kind == 8 and len(value) > 1 and "management_address" not in values:
            values["management_address"] = _address(value[1 : 1 + value[0]])
        elif kind == 127 and value[:3] == b"\x00\x80\xc2" and len(value) >= 6:
            _dot1(value, values)
    if "chassis_id" not in values:
        return Parsed(None, [f"{interface}: LLDP frame without a chassis id"])
    return Parsed(Neighbor(interface=interface, **values))  # type: ignore[arg-type]


def _dot1(value: bytes, values: dict[str, object]) -> None:
    """IEEE 802.1 TLVs: subtype 1 is the port VLAN id, subtype 3 a VLAN name (id first)."""
    vid = struct.unpack_from("!H", value, 4)[0]
    if value[3] == 1 and vid:
        values["vlan_id"] = vid
    elif value[3] == 3:
        values.setdefault("vlan_id", vid)


def open_socket(interface: str) -> socket.socket:
    """A raw socket that receives LLDP frames on *interface* (joins the LLDP multicast group)."""
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_LLDP))
    try:
        sock.bind((interface, ETH_P_LLDP))
        index = socket.if_nametoindex(interface)
        mreq = struct.pack("iHH8s", index, _PACKET_MR_MULTICAST, 6, LLDP_MULTICAST)
        sock.setsockopt(_SOL_PACKET, _PACKET_ADD_MEMBERSHIP, mreq)
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


def _tlv(kind: int, value: bytes) -> bytes:
    return struct.pack("!H", kind << 9 | len(value)) + value


def announcement(interface: str, mac: bytes) -> bytes:
    """The LLDPDU the agent sends on *interface*: chassis = its MAC, port = its name, a short
    TTL, and the LLDP-MED capabilities TLV of a Class I endpoint, which starts fast start."""
    med_capabilities = b"\x00\x12\xbb\x01" + struct.pack("!HB", 0x0001, 1)
    body = (
        _tlv(1, b"\x04" + mac)
        + _tlv(2, b"\x05" + interface.encode("utf-8"))
        + _tlv(3, struct.pack("!H", ANNOUNCE_TTL_S))
        + _tlv(5, SYSTEM_NAME)
        + _tlv(127, med_capabilities)
        + _tlv(0, b"")
    )
    return LLDP_MULTICAST + mac + struct.pack("!H", ETH_P_LLDP) + body


def announce(sock: socket.socket, interface: str) -> None:
    """Sends the announcement; the socket's bound address gives the port's own MAC."""
    mac = sock.getsockname()[4]
    if len(mac) == 6:
        sock.send(announcement(interface, mac))


class Listening:
    """Raw sockets on ports that may join one by one: each port is announced on when it joins
    and listened to until it has heard a neighbour or *wait_s* has passed since it joined."""

    def __init__(
        self,
        failures: list[Failure],
        *,
        wait_s: float = DEFAULT_WAIT_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.failures = failures
        self.wait_s = wait_s
        self.clock = clock
        self.joined: list[str] = []
        self.sockets: dict[socket.socket, str] = {}
        self.until: dict[str, float] = {}
        self.heard: dict[str, Neighbor] = {}

    def join(self, interface: str) -> None:
        """Opens *interface*, announces the agent there and starts its window."""
        self.joined.append(interface)
        try:
            sock = open_socket(interface)
        except OSError as exc:
            self.failures.append(Failure(NAME, "read", f"{interface}: {exc.strerror or exc}"))
            return
        self.sockets[sock] = interface
        self.until[interface] = self.clock() + self.wait_s
        try:
            announce(sock, interface)
        except OSError as exc:  # still listen: a switch speaks on its own schedule too
            message = f"{interface}: announce: {exc.strerror or exc}"
            self.failures.append(Failure(NAME, "read", message))

    def waiting(self) -> list[str]:
        """Open ports that have heard nothing and whose window is still open."""
        now = self.clock()
        return [
            name for name, until in self.until.items() if name not in self.heard and until > now
        ]

    def poll(self, most_s: float) -> None:
        """Receives for at most *most_s* seconds, less when a window closes sooner."""
        ends = [self.until[name] for name in self.waiting()]
        if not ends:
            return
        left = min(most_s, min(ends) - self.clock())
        if left <= 0:
            return
        listening = [sock for sock, name in self.sockets.items() if name not in self.heard]
        for sock in select.select(listening, [], [], left)[0]:
            _receive(sock, self.sockets[sock], self.heard, self.failures)

    def close(self) -> list[Neighbor]:
        """Closes every socket; the first neighbour heard on each port, in joining order."""
        for sock in self.sockets:
            sock.close()
        self.sockets = {}
        return [self.heard[name] for name in self.joined if name in self.heard]


def listen(
    interfaces: Sequence[str],
    failures: list[Failure],
    *,
    wait_s: float = DEFAULT_WAIT_S,
    clock: Callable[[], float] = time.monotonic,
) -> list[Neighbor]:
    """The first neighbour heard on each interface, within *wait_s* seconds in all."""
    listening = Listening(failures, wait_s=wait_s, clock=clock)
    try:
        for interface in interfaces:
            listening.join(interface)
        while listening.waiting():
            listening.poll(wait_s)
    finally:
        neighbors = listening.close()
    return neighbors


def _receive(
    sock: socket.socket, interface: str, heard: dict[str, Neighbor], failures: list[Failure]
) -> None:
    try:
        frame, address = sock.recvfrom(9000)
    except BlockingIOError:
        return
    if address[2] == _PACKET_OUTGOING:
        return  # our own announcement
    parsed = parse_frame(interface, frame)
    failures.extend(Failure(NAME, "parse", warning) for warning in parsed.warnings)
    if parsed.facts is not None:
        heard.setdefault(interface, parsed.facts)


def collect(
    failures: list[Failure],
    linked: Sequence[str],
    *,
    wait_s: float = DEFAULT_WAIT_S,
    heard: Heard | None = None,
) -> list[Neighbor]:
    """Neighbours of the linked physical NICs; no port linked means no wait at all. With
    *heard* (what an earlier listener heard), only the linked ports it did not cover are
    listened to here."""
    if not linked or wait_s <= 0:
        return []
    neighbors: list[Neighbor] = []
    covered: set[str] = set()
    if heard is not None:
        neighbors += heard.neighbors
        failures.extend(heard.failures)
        covered = set(heard.interfaces)
    rest = [name for name in linked if name not in covered]
    if rest:
        neighbors += listen(rest, failures, wait_s=wait_s)
    silent = [name for name in linked if name not in {n.interface for n in neighbors}]
    if silent:
        message = f"no LLDP neighbour after {wait_s:g} s on {', '.join(silent)}"
        failures.append(Failure(NAME, "read", message))
    return neighbors
