"""LLDP frame decoding, on a frame captured from lldpd (see tests/fixtures/SOURCES.tsv)."""

from __future__ import annotations

import struct

from hypothesis import given
from hypothesis import strategies as st

from arrow_agent.collectors import lldp
from tests.fakeroot import FIXTURES

FRAME = (FIXTURES / "lldp/lldpd-1.0.16-veth.bin").read_bytes()


def test_captured_lldpd_frame_gives_switch_port_and_name():
    parsed = lldp.parse_frame("eth0", FRAME)
    assert parsed.warnings == []
    assert parsed.facts == lldp.Neighbor(
        interface="eth0",
        chassis_id="9e:4a:4a:42:62:a6",
        port_id="9e:4a:4a:42:62:a6",
        port_description="uplink to rack 7",
        system_name="sw-test-01",
        system_description="Debian GNU/Linux 12 (bookworm)",
        management_address="fe80::9c4a:4aff:fe42:62a6",
    )


def _with_tlv(frame: bytes, kind: int, value: bytes) -> bytes:
    """*frame* with one TLV inserted before its End TLV (the last two bytes)."""
    return frame[:-2] + struct.pack("!H", kind << 9 | len(value)) + value + frame[-2:]


def test_port_vlan_id_of_the_8021_tlv_is_read():
    frame = _with_tlv(FRAME, 127, b"\x00\x80\xc2\x01\x00\x2a")
    assert lldp.parse_frame("eth0", frame).facts.vlan_id == 42


def test_a_frame_that_is_not_lldp_is_a_warning():
    parsed = lldp.parse_frame("eth0", FRAME[:12] + b"\x08\x00" + FRAME[14:])
    assert parsed.facts is None
    assert parsed.warnings == ["eth0: frame is not LLDP"]


def test_a_truncated_frame_keeps_the_whole_tlvs():
    assert lldp.parse_frame("eth0", FRAME[:40]).facts.chassis_id == "9e:4a:4a:42:62:a6"


@given(st.binary(max_size=300))
def test_parse_frame_is_total_on_any_bytes(data):
    lldp.parse_frame("eth0", FRAME[:14] + data)


def test_no_linked_port_means_no_wait():
    failures = []
    assert lldp.collect(failures, [], wait_s=35) == []
    assert failures == []


def test_the_agents_announcement_is_an_lldp_med_endpoint_with_a_short_ttl():
    frame = lldp.announcement("eno1", bytes.fromhex("1c697a0a1b2c"))
    assert frame[:6] == lldp.LLDP_MULTICAST
    neighbor = lldp.parse_frame("eno1", frame).facts
    assert (neighbor.chassis_id, neighbor.port_id, neighbor.system_name) == (
        "1c:69:7a:0a:1b:2c",
        "eno1",
        "arrow-inventory",
    )
    kinds = dict(lldp.tlvs(frame[14:]))
    assert kinds[3] == b"\x00\x3c"  # TTL 60 s
    assert kinds[127] == b"\x00\x12\xbb\x01\x00\x01\x01"  # LLDP-MED capabilities, Class I


def test_a_port_id_by_interface_name_is_text_and_by_network_address_an_address():
    # TLV headers: type << 9 | length (chassis id 0x0207, port id 0x0408 / 0x0406)
    head = FRAME[:14] + b"\x02\x07\x04" + bytes.fromhex("1c697a0a1b2c")  # chassis: MAC
    assert lldp.parse_frame("eth0", head + b"\x04\x08\x05Gi1/0/7").facts.port_id == "Gi1/0/7"
    by_address = head + b"\x04\x06\x04\x01\x0a\x00\x00\x07"
    assert lldp.parse_frame("eth0", by_address).facts.port_id == "10.0.0.7"
