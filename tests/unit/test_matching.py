import pytest

from inventory.models import DeviceSpec
from inventory.services.matching import spec_pick

SPECS = [
    DeviceSpec(name="Intel NUC 11 Pro", name_patterns=["*NUC11TN*"]),
    DeviceSpec(name="Dell OptiPlex 7060", name_patterns=["Dell*OptiPlex 7060*"]),
    DeviceSpec(name="intel nuc 11 pro kit", name_patterns=[]),
]


@pytest.mark.parametrize(
    ("reported", "expected"),
    [
        ("Intel NUC 11 Pro", "Intel NUC 11 Pro"),
        ("intel  nuc 11 PRO", "Intel NUC 11 Pro"),
        ("Intel(R) Client Systems NUC11TNHi5", "Intel NUC 11 Pro"),
        ("Intel Client Systems NUC11TNKi5", "Intel NUC 11 Pro"),
        ("Dell Inc. OptiPlex 7060", "Dell OptiPlex 7060"),
        ("INTEL NUC 11 PRO KIT", "intel nuc 11 pro kit"),
        ("Lenovo ThinkPad T14", None),
        ("", None),
        (None, None),
    ],
    ids=[
        "exact name",
        "case and blanks differ",
        "pattern with trademark",
        "pattern, other SKU",
        "pattern with vendor suffix",
        "case-insensitive name before patterns",
        "no match",
        "empty",
        "missing",
    ],
)
def test_spec_pick(reported, expected):
    spec = spec_pick(reported, SPECS)
    assert (spec.name if spec else None) == expected
