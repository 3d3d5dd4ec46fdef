"""The suspect-serial rule as pure functions: how many machines MAC sets are, and the verdict."""

import pytest

from inventory.choices import SerialState
from inventory.services.serials import count_machines, judge, mac_set_key

A, B, C, D, E = (f"02:00:00:00:00:0{i}" for i in range(1, 6))


def test_a_mac_set_key_is_sorted_and_lists_each_mac_once():
    assert mac_set_key([C, A, B, A]) == f"{A},{B},{C}"
    assert mac_set_key([B, A]) == mac_set_key([A, B])


@pytest.mark.parametrize(
    ("mac_sets", "machines"),
    [
        ([], 0),
        ([[]], 0),
        ([[A]], 1),
        ([[A, B], [B, A]], 1),
        ([[A], [B], [C]], 3),
        ([[A, B], [B, C]], 1),
        ([[A, B], [C, D], [B, C]], 1),
        ([[A, B], [C, D], [E]], 3),
        ([[A], [A, B], [B, C], [D]], 2),
        ([[A, B, C], [D], [], [E]], 3),
    ],
    ids=[
        "no sighting is no machine",
        "an empty set is no machine",
        "one set is one machine",
        "the same set in another order is one machine",
        "three disjoint sets are three machines",
        "sets sharing a MAC are one machine (a NIC replaced)",
        "two sets joined by a third that shares a MAC with each are one machine",
        "two disjoint pairs and a single are three machines",
        "a chain of shared MACs is one machine, a stranger another",
        "empty sets do not count among real ones",
    ],
)
def test_machines_are_mac_sets_joined_by_any_shared_mac(mac_sets, machines):
    assert count_machines(mac_sets) == machines


S, CONF, CLR = SerialState.SUSPECT, SerialState.CONFIRMED, SerialState.CLEARED


@pytest.mark.parametrize(
    ("machines", "threshold", "state", "verdict"),
    [
        (1, 3, None, None),
        (2, 3, None, None),
        (3, 3, None, S),
        (8, 3, None, S),
        (2, 2, None, S),
        (9, 10, None, None),
        (3, 3, S, S),
        (1, 3, CONF, CONF),
        (9, 3, CONF, CONF),
        (3, 3, CLR, CLR),
        (40, 3, CLR, CLR),
    ],
    ids=[
        "one machine: an ordinary serial",
        "two machines under the threshold of three: still ordinary (a mainboard swap)",
        "three machines at the threshold: suspect",
        "eight machines: suspect",
        "a threshold of two: two machines are suspect",
        "nine machines under a threshold of ten: ordinary",
        "a suspect serial stays suspect",
        "a confirmed serial stays confirmed",
        "more machines do not change a confirmed serial",
        "a cleared serial stays cleared",
        "more machines do not undo staff's clear (each merge through it is one more MAC set)",
    ],
)
def test_the_verdict_on_a_serial(machines, threshold, state, verdict):
    assert judge(machines=machines, threshold=threshold, state=state) == verdict
