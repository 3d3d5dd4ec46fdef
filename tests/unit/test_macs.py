import pytest
from hypothesis import given
from hypothesis import strategies as st

from inventory.services.macs import InvalidMac, is_shared_mac, normalize_mac


@pytest.mark.parametrize(
    "text",
    [
        "00:e0:4c:92:f7:a4",
        "00:E0:4C:92:F7:A4",
        "00-E0-4C-92-F7-A4",
        "00e0.4c92.f7a4",
        "00E04C92F7A4",
        "  00:e0:4c:92:f7:a4\n",
    ],
    ids=["colon", "upper colon", "dash", "cisco dots", "bare", "surrounding blanks"],
)
def test_normalize_mac_accepts_every_written_form(text):
    assert normalize_mac(text) == "00:e0:4c:92:f7:a4"


@pytest.mark.parametrize(
    "value",
    [
        "",
        "5",
        "00:e0:4c:92:f7",
        "00:e0:4c:92:f7:a4:00:11",
        "zz:e0:4c:92:f7:a4",
        "00:e0:4c:92:f7:a4; DROP TABLE",
        "<script>",
        12,
        None,
        ["00:e0:4c:92:f7:a4"],
    ],
)
def test_normalize_mac_rejects_anything_else_naming_field_and_value(value):
    with pytest.raises(InvalidMac) as err:
        normalize_mac(value, field="target_macs[2]")
    assert err.value.field == "target_macs[2]"
    assert err.value.code == "invalid_mac"
    assert repr(value)[:5] in err.value.message


@given(st.binary(min_size=6, max_size=6), st.sampled_from([":", "-", ""]), st.booleans())
def test_normalize_mac_round_trips_any_six_bytes(raw, sep, upper):
    text = sep.join(f"{b:02x}" for b in raw)
    text = text.upper() if upper else text
    expected = ":".join(f"{b:02x}" for b in raw)
    assert normalize_mac(text) == expected
    assert normalize_mac(normalize_mac(text)) == expected


@given(st.text(max_size=30))
def test_normalize_mac_never_raises_anything_but_invalid_mac(text):
    try:
        result = normalize_mac(text)
    except InvalidMac:
        return
    assert len(result) == 17
    assert result == result.lower()


@pytest.mark.parametrize(
    ("mac", "shared"),
    [
        ("00:a0:c6:00:00:00", True),
        ("00:00:00:00:00:00", True),
        ("ff:ff:ff:ff:ff:ff", True),
        ("00:e0:4c:92:f7:a4", False),
    ],
)
def test_shared_macs_are_known(mac, shared):
    assert is_shared_mac(mac) is shared


def test_operator_can_add_shared_macs_and_ouis(settings):
    from inventory.services import macs

    settings.ARROW_SHARED_MACS = ["AA-BB-CC-00-11-22"]
    settings.ARROW_SHARED_OUIS = ["de:ad:be"]
    macs._shared_sets.cache_clear()
    try:
        assert is_shared_mac("aa:bb:cc:00:11:22")
        assert is_shared_mac("de:ad:be:12:34:56")
        assert not is_shared_mac("de:ad:bf:12:34:56")
    finally:
        macs._shared_sets.cache_clear()
