"""The placeholder filter shared with the backend: vendor defaults never identify a device."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from arrow_agent.serials import PLACEHOLDER_SERIALS, clean_serial, is_placeholder_serial

padding = st.text(alphabet=" \t", max_size=3)


@given(st.characters(), st.integers(min_value=1, max_value=20), padding, padding)
def test_one_repeated_character_is_a_placeholder(char, count, before, after):
    assert is_placeholder_serial(before + char * count + after)


@given(st.sampled_from(sorted(PLACEHOLDER_SERIALS)), padding, padding, st.booleans())
def test_listed_values_are_placeholders_in_any_case_and_padding(value, before, after, upper):
    text = value.upper() if upper else value
    assert is_placeholder_serial(before + text + after)


@given(st.text())
def test_clean_serial_is_none_exactly_for_placeholders(text):
    assert (clean_serial(text) is None) == is_placeholder_serial(text)


@given(st.text())
def test_a_clean_serial_is_stripped_real_and_stable(text):
    cleaned = clean_serial(text)
    if cleaned is not None:
        assert cleaned == cleaned.strip()
        assert not is_placeholder_serial(cleaned)
        assert clean_serial(cleaned) == cleaned


@pytest.mark.parametrize(
    "value",
    [
        "To Be Filled By O.E.M.",
        "System Serial Number",
        "0123456789",
        "XXXXXXXXXX",
        ".........",
        "--",
        "0",
        "00000000",
        "  ",
        "",
        None,
        "Default string",
        "Chassis Serial Number",
        "System manufacturer",
    ],
)
def test_placeholders_seen_in_the_corpus_are_filtered(value):
    assert is_placeholder_serial(value)


@pytest.mark.parametrize(
    "value",
    ["2RJF153", "42", "$$T02XB1K9", "VMware-42 30 bf 6a ce 71 e1 68-6c 2d 17 6e 66 d0 4a 0d"],
)
def test_real_serials_pass(value):
    assert clean_serial(value) == value


# Each family with values seen on real machines or in real firmware sources:
# - the issue reports from 123 public captures ("Type1 - 123456", "1234567890", "SYS-1234567890",
#   "#A123456789", "123456789000", "EVAL");
# - Insyde's ApolloLake SMBIOS defaults (PcdType001Strings "Type1 - TBD by OEM;Type1 - 123456789");
# - BlissOS's list of default serials it replaces ("ABCDEF0123456789", "0123456789ABCDEF");
# - shared/corpus dmidecode dumps ("TBD by ODM", "SerNum0".."SerNum7", "OEM Define 3").
FAMILIES = {
    "vendor template": ["TBD by ODM", "SerNum3", "SerNum01", "OEM Define 3", "Default string"],
    "counting sequence": [
        "1234567890",
        "123456789000",
        "SYS-1234567890",
        "#A123456789",
        "MB-1234567890",
        "ABCDEF0123456789",
        "0123456789ABCDEF",
        "9876543210",
    ],
    "Type<N> template": [
        "Type1 - 123456",
        "Type1 - 123456789",
        "Type1 - TBD by OEM",
        "Type2 - Board Serial Number",
    ],
    "evaluation marker": ["EVAL", "Eval", "Evaluation Board", "Engineering Sample"],
}


@pytest.mark.parametrize(
    ("family", "value"),
    [(family, value) for family, values in FAMILIES.items() for value in values],
    ids=[f"{family}: {value}" for family, values in FAMILIES.items() for value in values],
)
def test_placeholder_families_are_filtered(family, value):
    assert is_placeholder_serial(value)


@pytest.mark.parametrize(
    "value",
    [
        "CZJ1280RQ2",
        "48368130c2f8",
        "QTFCQ57140285",
        "S212101X7A18218",
        "3135-4298-3414-7021-8716-7514-85",
        "1234",  # too short to be a template run
        "12345ABC",
        "EVALBOARD1X",  # a word starting with the letters, not the marker
        "Evanston1",
        "Type1X",
    ],
)
def test_real_serials_near_a_family_still_pass(value):
    assert clean_serial(value) == value


@given(st.integers(min_value=0, max_value=9), st.integers(min_value=6, max_value=20))
def test_any_climbing_digit_run_of_six_or_more_is_a_placeholder(start, length):
    run = "".join(str((start + i) % 10) for i in range(length))
    assert is_placeholder_serial(run)
    assert is_placeholder_serial(run[::-1])
