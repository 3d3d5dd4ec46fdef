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
