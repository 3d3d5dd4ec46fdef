"""The mass-boot benchmark: `make bench`. Prints the figures, checks the database, and ends with
one summary line that scripts read:

    bench: devices=N errors=N lost=N duplicates=N checkmac_p99_ms=X checkmac_ratio=X submit_rps=X
        boot_to_accepted_s=X stuck=N      (on the same line)

Environment: BENCH_DEVICES (1000), BENCH_CONCURRENCY (100), BENCH_WORKERS (gunicorn workers, 3),
BENCH_SECONDS (length of one check-mac round, 4), BENCH_ROUNDS (check-mac rounds, 5),
BENCH_PGPORT (first port tried for the own PostgreSQL cluster, 25440), BENCH_PUBLISH (1: copy the
results to docs/bench/). Exits 1 when any request failed or the database does not add up.
"""

from __future__ import annotations

import json
import os
import platform
import secrets
import statistics
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from bench import hooks, observe, report
from bench.cluster import DEFAULT_PORT, PgCluster, free_port
from bench.devices import ORG, SPEC_ROWS, make_devices
from bench.procs import Gunicorn, peak_rss_kib, tree_cpu_seconds
from bench.wrk import run_wrk, wrk_path

ROOT = Path(__file__).resolve().parent.parent
EVENTS = [
    "device.inventoried",
    "device.updated",
    "device.conflict",
    "device.stuck",
    "device.sent_to_imaging",
    "device.imaged",
    "device.imaging_failed",
    "request.fulfilled",
]
TARGETS = {"checkmac_p99_ms": 50.0, "checkmac_ratio": 0.5, "submit_rps": 200.0}


def _int_env(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


def sh(*argv: str) -> str:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, check=False).stdout
        return out.rstrip().lstrip("\n")  # keep leading spaces: free -h aligns its header
    except OSError:
        return ""


def machine_facts() -> dict:
    mem = sh("free", "-h").splitlines()
    return {
        "nproc": int(sh("nproc") or os.cpu_count() or 0),
        "cpu": next(
            (
                line.split(":", 1)[1].strip()
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")
            ),
            platform.processor(),
        ),
        "memory": mem[1].split()[1] if len(mem) > 1 else "",
        "free_h": "\n".join(mem),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "commit": sh("git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"),
        "dirty": bool(sh("git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no")),
    }


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def percentile(sorted_values: list[float], p: float) -> float:
    if not sorted_values:
        return 0.0
    k = min(len(sorted_values) - 1, max(0, round(p / 100 * len(sorted_values) + 0.5) - 1))
    return sorted_values[k]


def api_post(url: str, path: str, body: dict, token: str) -> dict:
    request = urllib.request.Request(
        url + path,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def prepare_database(env: dict) -> str:
    """Migrates the fresh database and makes the operator whose admin token the rack uses."""
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--no-input", "-v", "0"], env=env, check=True, cwd=ROOT)
    subprocess.run(
        [
            *manage,
            "createsuperuser",
            "--no-input",
            "--username",
            "bench",
            "--email",
            "bench@example.invalid",
        ],
        env={**env, "DJANGO_SUPERUSER_PASSWORD": secrets.token_urlsafe(16)},
        check=True,
        cwd=ROOT,
        capture_output=True,
    )
    out = subprocess.run(
        [*manage, "create_api_token", "bench", "--name", "bench"],
        env=env,
        check=True,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip().splitlines()[-1]


def endpoint_figures(records: list[list], stages: dict) -> list[dict]:
    """Per stage and endpoint: count, rate, latency percentiles, errors, SQL statements."""
    groups: dict[tuple[str, str], list[list]] = {}
    for rec in records:
        groups.setdefault((rec[0], rec[1]), []).append(rec)
    rows = []
    for (stage, endpoint), recs in groups.items():
        lat = sorted(r[3] * 1000 for r in recs)
        queries = [r[4] for r in recs if r[4] is not None]
        seconds = stages[stage]["seconds"]
        rows.append(
            {
                "stage": stage,
                "endpoint": endpoint,
                "requests": len(recs),
                "rps": len(recs) / seconds if seconds else 0.0,
                "p50_ms": percentile(lat, 50),
                "p95_ms": percentile(lat, 95),
                "p99_ms": percentile(lat, 99),
                "max_ms": lat[-1],
                "errors": sum(1 for r in recs if r[5] or r[2] >= 400 or r[2] == 0),
                "queries_mean": statistics.fmean(queries) if queries else None,
                "queries_max": max(queries) if queries else None,
                "latencies_ms": lat,
            }
        )
    order = {"seed": 0, "boot": 1, "inventory": 2, "reboot": 3}
    return sorted(rows, key=lambda r: (order.get(r["stage"], 9), r["endpoint"]))


def check_database(url: str, devices: list[dict], load: dict, submits_sent: int) -> dict:
    """Exactly one device per simulated device, every submission journaled, no MAC twice."""
    with psycopg.connect(url) as conn:
        owner = dict(
            conn.execute(
                "SELECT mac, device_id FROM inventory_devicemac WHERE NOT shared"
            ).fetchall()
        )
        total_devices = conn.execute("SELECT count(*) FROM inventory_device").fetchone()[0]
        journal = dict(conn.execute("SELECT id, outcome FROM inventory_submission").fetchall())
        twice = conn.execute(
            "SELECT mac FROM inventory_devicemac WHERE NOT shared GROUP BY mac "
            "HAVING count(DISTINCT device_id) > 1"
        ).fetchall()
        open_requests = conn.execute(
            "SELECT count(*) FROM inventory_devicerequest WHERE status = 'pending'"
        ).fetchone()[0]
        in_org = conn.execute(
            "SELECT count(*) FROM inventory_device d JOIN inventory_organization o "
            "ON o.id = d.organization_id WHERE o.name = %s",
            [ORG],
        ).fetchone()[0]
    lost, split, wrong_device, problems = 0, 0, 0, []
    seen_ids = set()
    for dev in devices:
        macs = list(dev["own_macs"])
        if dev["resubmit"] and dev["extra_mac"]:
            macs.append(dev["extra_mac"])
        ids = {owner.get(m) for m in macs}
        if None in ids:
            ids.discard(None)
            if not ids:
                lost += 1
                problems.append(f"device {dev['index']}: none of its MACs is in the database")
                continue
            problems.append(f"device {dev['index']}: some of its MACs are missing")
            lost += 1
        if len(ids) > 1:
            split += 1
            problems.append(f"device {dev['index']}: its MACs are on {len(ids)} devices")
        seen_ids |= ids
        if load["device_ids"].get(str(dev["index"])) not in ids:
            wrong_device += 1
            problems.append(f"device {dev['index']}: submit answered another device id")
    extra_devices = total_devices - len(seen_ids)
    returned = set(load["submissions"])
    missing_journal = len(returned - set(journal))
    not_accepted = sum(1 for outcome in journal.values() if outcome != "accepted")
    if len(journal) != submits_sent:
        problems.append(f"journal has {len(journal)} rows for {submits_sent} submits sent")
    if missing_journal:
        problems.append(f"{missing_journal} answered submissions are not in the journal")
    if twice:
        problems.append(f"{len(twice)} MACs are on two devices: {twice[:5]}")
    if open_requests:
        problems.append(f"{open_requests} device requests are still pending")
    expected_in_org = sum(1 for d in devices if d["prereg"])
    if in_org != expected_in_org:
        problems.append(f"{in_org} devices in {ORG}, expected {expected_in_org}")
    return {
        "devices_in_db": total_devices,
        "journal_rows": len(journal),
        "submits_sent": submits_sent,
        "lost": lost + missing_journal + max(0, submits_sent - len(journal)),
        "duplicates": split + max(0, extra_devices) + len(twice),
        "wrong_device": wrong_device,
        "not_accepted": not_accepted,
        "pending_requests": open_requests,
        "problems": problems[:50],
        "ok": not problems and not not_accepted and not lost and not split,
    }


def mass_boot(
    *, env: dict, workers: int, out: Path, n: int, concurrency: int, pg: PgCluster
) -> dict:
    server = Gunicorn(
        "arrow.wsgi:application",
        port=free_port(8600),
        workers=workers,
        env={**env, "ARROW_COUNT_QUERIES": "1"},
        log=out / "server.log",
    )
    devices = make_devices(n)
    (out / "devices.json").write_text(json.dumps(devices))
    # The webhook worker delivers every event of the boot to a receiver that accepts all.
    with server, hooks.Sink() as sink, hooks.Worker(env, out / "webhook-worker.log"):
        token = env["BENCH_TOKEN"]
        api_post(server.url, "/api/organizations", {"name": ORG}, token)
        for spec in SPEC_ROWS:
            api_post(server.url, "/api/specs", spec, token)
        api_post(server.url, "/api/webhooks", {"url": sink.url, "event_types": EVENTS}, token)
        cpu0, pg0, t0 = server.cpu_seconds(), tree_cpu_seconds(pg.postmaster_pid()), time.time()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "bench.load",
                "--url",
                server.url,
                "--devices",
                str(out / "devices.json"),
                "--concurrency",
                str(concurrency),
                "--out",
                str(out / "load.json"),
            ],
            check=True,
            cwd=ROOT,
            env=env,
        )
        cpu1, pg1, t1 = server.cpu_seconds(), tree_cpu_seconds(pg.postmaster_pid()), time.time()
        memory = [peak_rss_kib(pid) for pid in server.worker_pids()]
        # What Prometheus would see now, with every worker's counters (multiprocess mode).
        samples = observe.scrape(server.url, env["ARROW_METRICS_TOKEN"])
        drained = hooks.wait_delivered(env["DATABASE_URL"])
        webhooks = hooks.figures(sink, env["DATABASE_URL"], drained=drained)
    load = json.loads((out / "load.json").read_text())
    requests = len(load["records"])
    return {
        "devices": devices,
        "load": load,
        "samples": samples,
        "peak_rss_kib_per_worker": memory,
        "seconds": t1 - t0,
        "server_cpu_ms_per_request": (cpu1 - cpu0) * 1000 / max(1, requests),
        "postgres_cpu_ms_per_request": (pg1 - pg0) * 1000 / max(1, requests),
        "webhooks": webhooks,
    }


def measured_round(server, pg, *, seconds: float, wrk: dict, tries: int = 3) -> dict:
    """One wrk round with the CPU the server and PostgreSQL spent per request. On a machine so
    loaded that no request completed, the round is run again for twice as long (at most *tries*
    rounds), then the run fails saying so: a figure per request needs a request."""
    for _ in range(tries):
        cpu0, pg0 = server.cpu_seconds(), tree_cpu_seconds(pg.postmaster_pid())
        figures = run_wrk(server.url, seconds=seconds, **wrk)
        cpu1, pg1 = server.cpu_seconds(), tree_cpu_seconds(pg.postmaster_pid())
        if figures["requests"]:
            figures["load"] = loadavg()
            figures["server_cpu_ms_per_request"] = (cpu1 - cpu0) * 1000 / figures["requests"]
            figures["postgres_cpu_ms_per_request"] = (pg1 - pg0) * 1000 / figures["requests"]
            return figures
        print(f"bench: no request completed in {seconds:g} s (load {loadavg()}); again, longer")
        seconds *= 2
    raise SystemExit(f"bench: no check-mac request completed in {tries} rounds: machine overloaded")


def checkmac_rounds(
    *,
    env: dict,
    workers: int,
    out: Path,
    devices: list[dict],
    concurrency: int,
    pg: PgCluster,
    seconds: float,
    rounds: int,
) -> dict:
    """Our check-mac against the bare baseline on the same database and load, in interleaved
    rounds so that a change in the machine's load hits both alike; ratios are per round."""
    macs_file = out / "macs.txt"
    macs_file.write_text("".join(d["boot_mac"] + "\n" for d in devices))
    key = env["DEVICE_LOOKUP_API_KEY"]
    ours = Gunicorn(
        "arrow.wsgi:application",
        port=free_port(8610),
        workers=workers,
        env=env,
        log=out / "server.log",
    )
    base = Gunicorn(
        "bench.baseline:application",
        port=free_port(8620),
        workers=workers,
        env=env,
        log=out / "baseline.log",
    )
    results: dict[str, list[dict]] = {"ours": [], "baseline": []}
    with ours, base:
        servers = {"ours": ours, "baseline": base}
        for server in servers.values():  # warm up: connections, prepared statements
            run_wrk(server.url, macs_file=macs_file, key=key, concurrency=concurrency, seconds=1)
        for r in range(rounds):
            order = ["baseline", "ours"] if r % 2 == 0 else ["ours", "baseline"]
            for name in order:
                wrk = {"macs_file": macs_file, "key": key, "concurrency": concurrency}
                figures = measured_round(servers[name], pg, seconds=seconds, wrk=wrk)
                figures["round"] = r
                results[name].append(figures)
        memory = {name: [peak_rss_kib(p) for p in s.worker_pids()] for name, s in servers.items()}
    pairs = list(zip(results["ours"], results["baseline"], strict=True))
    ratios = [ours_round["rps"] / base_round["rps"] for ours_round, base_round in pairs]

    def cpu(r: dict) -> float:
        return r["server_cpu_ms_per_request"] + r["postgres_cpu_ms_per_request"]

    # Throughput on 2 shared cores follows CPU per request; this ratio moves far less with the
    # machine's load than the throughput ratio does, so it is printed beside it as a cross-check.
    cpu_ratios = [cpu(base_round) / cpu(ours_round) for ours_round, base_round in pairs]
    return {
        "rounds": results,
        "ratios": ratios,
        "ratio": statistics.median(ratios),
        "cpu_ratios": cpu_ratios,
        "cpu_ratio": statistics.median(cpu_ratios),
        "ours_rps": statistics.median(r["rps"] for r in results["ours"]),
        "baseline_rps": statistics.median(r["rps"] for r in results["baseline"]),
        "ours_p99_ms": statistics.median(r["percentiles_us"]["99"] / 1000 for r in results["ours"]),
        "baseline_p99_ms": statistics.median(
            r["percentiles_us"]["99"] / 1000 for r in results["baseline"]
        ),
        "errors": sum(r["errors"] for rs in results.values() for r in rs),
        "peak_rss_kib_per_worker": memory,
    }


def main() -> int:
    n = _int_env("BENCH_DEVICES", 1000)
    concurrency = _int_env("BENCH_CONCURRENCY", 100)
    workers = _int_env("BENCH_WORKERS", 3)
    seconds = float(os.environ.get("BENCH_SECONDS") or 4)
    rounds = _int_env("BENCH_ROUNDS", 5)
    publish = os.environ.get("BENCH_PUBLISH", "1") != "0"
    wrk_path()  # fail before anything starts when wrk is missing
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = ROOT / "bench" / "results" / stamp
    (out / "var" / "prometheus").mkdir(parents=True)
    facts = machine_facts()
    facts["load_before"] = loadavg()
    print(
        f"bench: {n} devices, concurrency {concurrency}, {workers} gunicorn sync workers; "
        f"{facts['nproc']} cores, load {facts['load_before']}; results in {out}",
        flush=True,
    )

    pg = PgCluster(free_port(_int_env("BENCH_PGPORT", DEFAULT_PORT)), durable=True)
    try:
        db_url = pg.start()
        facts["postgresql"] = pg.server_version()
        env = {
            **os.environ,
            "DATABASE_URL": db_url,
            "DEVICE_LOOKUP_API_KEY": secrets.token_urlsafe(24),
            "SECRET_KEY": secrets.token_urlsafe(40),
            "ARROW_VAR_DIR": str(out / "var"),
            "ARROW_DISCOVER_UNKNOWN": "1",  # onboarding a new rack: unknown MACs get inventoried
            "ARROW_METRICS_TOKEN": secrets.token_urlsafe(24),
            "PROMETHEUS_MULTIPROC_DIR": str(out / "var" / "prometheus"),
            "ARROW_LOG_LEVEL": "WARNING",
            "DJANGO_SETTINGS_MODULE": "arrow.settings",
            "PYTHONPATH": os.pathsep.join([str(ROOT / "agent"), str(ROOT)]),
        }
        env["BENCH_TOKEN"] = prepare_database(env)
        boot = mass_boot(env=env, workers=workers, out=out, n=n, concurrency=concurrency, pg=pg)
        load = boot["load"]
        submits_sent = sum(1 for r in load["records"] if r[1] == "/api/inventory/submit")
        db = check_database(db_url, boot["devices"], load, submits_sent)
        watched = {
            "timeline": observe.timeline(db_url, load["first_submissions"]),
            "metrics": observe.metrics_check(
                boot["samples"], records=load["records"], db=db, db_url=db_url
            ),
            "token_submits": load["token_submits"],
            "webhooks": boot["webhooks"],
        }
        rate = checkmac_rounds(
            env=env,
            workers=workers,
            out=out,
            devices=boot["devices"],
            concurrency=concurrency,
            pg=pg,
            seconds=seconds,
            rounds=rounds,
        )
    finally:
        pg.destroy()
    facts["load_after"] = loadavg()

    rows = endpoint_figures(load["records"], load["stages"])
    inventory = next(r for r in rows if r["stage"] == "inventory")
    errors = (
        sum(r["errors"] for r in rows) + len(load["wrong"]) + rate["errors"] + db["not_accepted"]
    )
    summary = {
        "devices": n,
        "errors": errors,
        "lost": db["lost"],
        "duplicates": db["duplicates"],
        "checkmac_p99_ms": round(rate["ours_p99_ms"], 1),
        "checkmac_ratio": round(rate["ratio"], 2),
        "submit_rps": round(inventory["rps"], 1),
        "boot_to_accepted_s": round(watched["timeline"]["first_boot_to_last_accepted_s"] or 0, 1),
        "stuck": int(watched["metrics"]["stuck_devices"]),
    }
    result = {
        "summary": summary,
        "targets": TARGETS,
        "settings": {
            "devices": n,
            "concurrency": concurrency,
            "workers": workers,
            "checkmac_seconds": seconds,
            "checkmac_rounds": rounds,
            "command": "make bench",
            "started": stamp,
        },
        "machine": facts,
        "endpoints": rows,
        "mass_boot": {
            "stages": load["stages"],
            "seconds": boot["seconds"],
            "server_cpu_ms_per_request": boot["server_cpu_ms_per_request"],
            "postgres_cpu_ms_per_request": boot["postgres_cpu_ms_per_request"],
            "peak_rss_kib_per_worker": boot["peak_rss_kib_per_worker"],
            "wrong_answers": load["wrong"][:50],
        },
        "database": db,
        "watched": watched,
        "checkmac": rate,
    }
    report.print_figures(result)
    report.write(result, out, publish=publish)
    print("bench: " + " ".join(f"{k}={v}" for k, v in summary.items()), flush=True)
    failed = errors or db["lost"] or db["duplicates"] or not db["ok"]
    failed = failed or watched["metrics"]["problems"]
    failed = failed or watched["webhooks"]["missing"] or not watched["webhooks"]["drained"]
    return 1 if failed else 0
