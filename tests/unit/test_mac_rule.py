"""One MAC rule: the agent (stdlib) and the backend (netaddr) accept and reject the same text,
and agree on the canonical spelling of what they accept."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from arrow_agent.macs import normalize_mac as agent_normalize
from inventory.services.macs import InvalidMac
from inventory.services.macs import normalize_mac as backend_normalize


def backend(text: str) -> str | None:
    try:
        return backend_normalize(text)
    except InvalidMac:
        return None


# Text shaped like a MAC: groups of hex-ish digits of any length, joined by one separator (or by
# several kinds), with blanks around it; wrong digits and wrong lengths on purpose.
group = st.text(alphabet="0123456789abcdefABCDEFg", min_size=0, max_size=7)
separator = st.sampled_from([":", "-", ".", " ", "", "_", ":-", "\u2013"])
blank = st.sampled_from(["", " ", "\t", "\n", "\u00a0", "\u2028"])
mac_like = st.builds(
    lambda groups, sep, left, right: left + sep.join(groups) + right,
    st.lists(group, min_size=1, max_size=8),
    separator,
    blank,
    blank,
)


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("00:e0:4c:92:f7:a4", "00:e0:4c:92:f7:a4"),
        ("0:e0:4c:92:f7:a4", "00:e0:4c:92:f7:a4"),  # BSD arp drops leading zeros
        ("00-E0-4C-92-F7-A4", "00:e0:4c:92:f7:a4"),
        ("00e0.4c92.f7a4", "00:e0:4c:92:f7:a4"),
        ("00e0-4c92-f7a4", "00:e0:4c:92:f7:a4"),  # HPE Comware
        ("00e04c:92f7a4", "00:e0:4c:92:f7:a4"),  # PostgreSQL
        ("00E04C92F7A4", "00:e0:4c:92:f7:a4"),
        ("0e04c92f7a4", None),  # eleven bare digits: a typo
        ("00e0.4c92.f7a", None),  # so is a short Cisco group
        ("00e04c:92f7a", None),
        ("00:e0-4c:92:f7:a4", None),  # mixed separators
        ("00:e0:4c:92:f7:a4:00:11", None),  # EUI-64
        ("12", None),
    ],
)
def test_both_sides_give_the_same_answer(text, canonical):
    assert agent_normalize(text) == canonical
    assert backend(text) == canonical


@settings(max_examples=2000)
@given(mac_like)
@example("00:e0:4c:92:f7:a4\n")
@example("\u017f0:e0:4c:92:f7:a4")  # long s folds to s, never to a hex digit
def test_agent_and_backend_agree_on_mac_shaped_text(text):
    assert agent_normalize(text) == backend(text)


@settings(max_examples=1000)
@given(st.text(max_size=24))
def test_agent_and_backend_agree_on_any_text(text):
    assert agent_normalize(text) == backend(text)
