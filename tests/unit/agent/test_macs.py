"""The agent's MAC normalization: one canonical spelling, None for anything else."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from arrow_agent.macs import is_usable_mac, normalize_mac

six_bytes = st.binary(min_size=6, max_size=6)
CANONICAL = re.compile(r"(?:[0-9a-f]{2}:){5}[0-9a-f]{2}")


def canonical(raw: bytes) -> str:
    return ":".join(f"{b:02x}" for b in raw)


@st.composite
def written_forms(draw: st.DrawFn) -> tuple[bytes, str]:
    """A MAC and one of the ways tools write it (case, separator, padding, short groups)."""
    raw = draw(six_bytes)
    groups = [f"{b:02x}" for b in raw]
    style = draw(st.sampled_from(["colon", "dash", "cisco", "bare", "unpadded"]))
    if style == "colon":
        text = ":".join(groups)
    elif style == "dash":
        text = "-".join(groups)
    elif style == "cisco":
        joined = "".join(groups)
        text = ".".join(joined[i : i + 4] for i in range(0, 12, 4))
    elif style == "bare":
        text = "".join(groups)
    else:
        text = ":".join(f"{b:x}" for b in raw)  # BSD-style 0:e0:4c:...
    if draw(st.booleans()):
        text = text.upper()
    blanks = st.text(alphabet=" \t\n", max_size=2)
    return raw, draw(blanks) + text + draw(blanks)


@given(written_forms())
def test_every_written_form_normalizes_to_the_canonical_spelling(case):
    raw, text = case
    assert normalize_mac(text) == canonical(raw)


@given(st.text())
def test_normalize_is_total_and_returns_canonical_or_none(text):
    result = normalize_mac(text)
    assert result is None or CANONICAL.fullmatch(result)


@given(st.text())
def test_normalize_is_idempotent(text):
    once = normalize_mac(text)
    assert once is None or normalize_mac(once) == once


@pytest.mark.parametrize(
    "text",
    [
        None,
        "",
        "00:e0:4c:92:f7",
        "00:e0:4c:92:f7:a4:00",
        "00:e0:4c:92:f7:g4",
        "000:e0:4c:92:f7:a4",
        "80:00:02:08:fa:81:00:00:00:00:00:00:00:23:7d:ff:ff:94:73:fd",
        "00e0.4c92.f7a",
    ],
    ids=[
        "none",
        "empty",
        "five groups",
        "seven groups",
        "not hex",
        "long group",
        "infiniband",
        "short cisco group",
    ],
)
def test_what_is_not_a_48_bit_mac_gives_none(text):
    assert normalize_mac(text) is None


@pytest.mark.parametrize(
    ("mac", "usable"),
    [
        ("00:e0:4c:92:f7:a4", True),
        ("02:fc:00:00:00:01", True),
        ("00:00:00:00:00:00", False),
        ("ff:ff:ff:ff:ff:ff", False),
        ("01:00:5e:00:00:01", False),
    ],
    ids=["vendor", "locally administered", "all zeros", "broadcast", "multicast"],
)
def test_only_unicast_nonzero_macs_can_name_a_nic(mac, usable):
    assert is_usable_mac(mac) is usable
