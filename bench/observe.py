"""What an operator watching the mass boot sees: the boot timeline the product recorded and the
/metrics a Prometheus server scrapes, both checked against the database.

The timeline figure is taken from the product's own events (inventory_bootevent, the journal),
not from the load generator's clock: from the first boot script served to the last accepted
submission of the first boot. The stuck count is the live view's (the same function serves
/onboarding/ and the arrow_stuck_devices gauge).
"""

from __future__ import annotations

import urllib.request

import psycopg
from prometheus_client.parser import text_string_to_metric_families


def scrape(url: str, token: str) -> dict[tuple[str, tuple], float]:
    """{(sample name, sorted labels): value} of one /metrics scrape."""
    request = urllib.request.Request(f"{url}/metrics", headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=60) as response:
        text = response.read().decode()
    samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def total(samples: dict, name: str, **labels: str) -> float:
    """The sum of *name*'s samples whose labels include *labels*."""
    want = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and want <= set(ls))


def timeline(db_url: str, first_submissions: list[int]) -> dict:
    """Seconds from the first boot script served to the last accepted first submission, and how
    many devices walked every step (script, kernel, initrd, agent, submit) on the timeline."""
    with psycopg.connect(db_url) as conn:
        first_boot = conn.execute(
            "SELECT min(at) FROM inventory_bootevent WHERE step = 'boot'"
        ).fetchone()[0]
        last_accepted = conn.execute(
            "SELECT max(received_at) FROM inventory_submission "
            "WHERE outcome = 'accepted' AND id = ANY(%s)",
            [first_submissions],
        ).fetchone()[0]
        walked = conn.execute(
            "SELECT count(*) FROM (SELECT mac FROM inventory_bootevent "
            "WHERE step IN ('boot', 'kernel', 'initrd', 'agent', 'submit') "
            "GROUP BY mac HAVING count(DISTINCT step) = 5) AS complete"
        ).fetchone()[0]
    seconds = (last_accepted - first_boot).total_seconds() if first_boot and last_accepted else None
    return {"first_boot_to_last_accepted_s": seconds, "devices_with_every_step": walked}


def metrics_check(samples: dict, *, records: list[list], db: dict, db_url: str) -> dict:
    """The scraped counts against what was sent and what the database holds; problems listed."""
    sent_checkmac = sum(1 for r in records if r[1] == "/api/inventory/check-mac")
    sent_submit = sum(1 for r in records if r[1] == "/api/inventory/submit")
    with psycopg.connect(db_url) as conn:
        by_status = dict(
            conn.execute(
                "SELECT inventory_status, count(*) FROM inventory_device GROUP BY 1"
            ).fetchall()
        )
    figures = {
        "check_mac_counted": total(samples, "arrow_check_mac_total"),
        "check_mac_sent": sent_checkmac,
        "submit_counted": total(samples, "arrow_submit_total"),
        "submit_sent": sent_submit,
        "journal_accepted_gauge": total(samples, "arrow_journal_submissions", outcome="accepted"),
        "devices_gauge": total(samples, "arrow_devices"),
        "devices_in_db": db["devices_in_db"],
        "stuck_devices": total(samples, "arrow_stuck_devices"),
    }
    problems = [
        f"{name}: /metrics says {figures[a]:g}, expected {figures[b]:g}"
        for name, a, b in (
            ("check-mac", "check_mac_counted", "check_mac_sent"),
            ("submit", "submit_counted", "submit_sent"),
            ("devices", "devices_gauge", "devices_in_db"),
        )
        if figures[a] != figures[b]
    ]
    accepted = db["journal_rows"] - db["not_accepted"]
    if figures["journal_accepted_gauge"] != accepted:
        problems.append(
            f"accepted: /metrics says {figures['journal_accepted_gauge']:g}, {accepted}"
        )
    for status, n in by_status.items():
        if total(samples, "arrow_devices", inventory_status=status) != n:
            problems.append(f"devices {status}: /metrics differs from the database ({n})")
    if figures["stuck_devices"]:
        problems.append(f"{figures['stuck_devices']:g} devices marked stuck")
    return {**figures, "problems": problems}
