"""Shows the benchmark's figures: the printed table, the JSON file, the PNG chart and, when
publishing, docs/bench/ (latest.json, latest.png and a README with the machine they came from)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "bench"


def _ms(value: float) -> str:
    return f"{value:.1f}"


def figures_table(result: dict) -> list[str]:
    lines = [
        f"{'stage':<10} {'endpoint':<28} {'requests':>8} {'req/s':>8} {'p50 ms':>8} "
        f"{'p95 ms':>8} {'p99 ms':>8} {'errors':>6} {'SQL/req':>8}"
    ]
    for row in result["endpoints"]:
        queries = (
            f"{row['queries_mean']:.1f}"
            + (f" ({row['queries_max']})" if row["queries_max"] else "")
            if row["queries_mean"] is not None
            else "-"
        )
        lines.append(
            f"{row['stage']:<10} {row['endpoint']:<28} {row['requests']:>8} {row['rps']:>8.0f} "
            f"{_ms(row['p50_ms']):>8} {_ms(row['p95_ms']):>8} {_ms(row['p99_ms']):>8} "
            f"{row['errors']:>6} {queries:>8}"
        )
    rate = result["checkmac"]
    for name in ("ours", "baseline"):
        for r in rate["rounds"][name]:
            p = r["percentiles_us"]
            lines.append(
                f"{'rate r' + str(r['round']):<10} {'check-mac ' + name:<28} {r['requests']:>8} "
                f"{r['rps']:>8.0f} {_ms(p['50'] / 1000):>8} {_ms(p['95'] / 1000):>8} "
                f"{_ms(p['99'] / 1000):>8} {r['errors']:>6} {'':>8}  load {r['load']}, CPU/req "
                f"server {r['server_cpu_ms_per_request']:.2f} ms, "
                f"postgres {r['postgres_cpu_ms_per_request']:.2f} ms"
            )
    return lines


def print_watched(watched: dict, devices: int) -> None:
    """The timeline and /metrics as an operator sees them, against the database."""
    line, m = watched["timeline"], watched["metrics"]
    took = line["first_boot_to_last_accepted_s"]
    print(
        f"timeline: first boot script -> last accepted submission "
        f"{took if took is None else round(took, 1)} s; every step (script, kernel, initrd, "
        f"agent, submit) recorded for {line['devices_with_every_step']} of {devices} devices "
        f"({watched['token_submits']} submitted with their per-boot token); stuck: "
        f"{m['stuck_devices']:g}"
    )
    print(
        f"metrics: check-mac {m['check_mac_counted']:g}/{m['check_mac_sent']} sent, submit "
        f"{m['submit_counted']:g}/{m['submit_sent']}, devices {m['devices_gauge']:g}/"
        f"{m['devices_in_db']} in the database: " + ("match" if not m["problems"] else "MISMATCH")
    )
    for problem in m["problems"][:10]:
        print(f"  ! {problem}")
    hooks = watched.get("webhooks")
    if hooks:
        print(
            f"webhooks: {hooks['arrived']} of {hooks['events']} events delivered "
            f"({hooks['repeats']} repeated), {hooks['events_per_second']:g} events/s, worst lag "
            f"{hooks['worst_lag_s']:g} s" + ("" if hooks["drained"] else "; NOT ALL DELIVERED")
        )


def print_figures(result: dict) -> None:
    machine, boot, db, rate = (
        result["machine"],
        result["mass_boot"],
        result["database"],
        result["checkmac"],
    )
    print()
    for line in figures_table(result):
        print(line)
    print()
    print(
        f"mass boot: {boot['seconds']:.1f} s; CPU per request: server "
        f"{boot['server_cpu_ms_per_request']:.2f} ms, postgres "
        f"{boot['postgres_cpu_ms_per_request']:.2f} ms (SQL/req: mean (max) statements)"
    )
    mib = [round(k / 1024, 1) for k in boot["peak_rss_kib_per_worker"] if k]
    print(f"peak memory per worker (VmHWM, MiB): {mib}")
    base_mib = [round(k / 1024, 1) for k in rate["peak_rss_kib_per_worker"]["baseline"] if k]
    print(f"peak memory per baseline worker (MiB): {base_mib}")
    print(
        f"check-mac: ours {rate['ours_rps']:.0f}/s p99 {rate['ours_p99_ms']:.1f} ms, bare "
        f"baseline {rate['baseline_rps']:.0f}/s p99 {rate['baseline_p99_ms']:.1f} ms; ratio per "
        f"round {[round(r, 2) for r in rate['ratios']]}, median {rate['ratio']:.2f}; "
        f"server+postgres CPU per request, baseline/ours: median {rate['cpu_ratio']:.2f}"
    )
    print(
        f"database: {db['devices_in_db']} devices, {db['journal_rows']} journal rows for "
        f"{db['submits_sent']} submits, lost {db['lost']}, duplicates {db['duplicates']}, "
        f"not accepted {db['not_accepted']}, pending requests {db['pending_requests']}: "
        + ("consistent" if db["ok"] else "MISMATCH")
    )
    for problem in db["problems"][:10] + boot["wrong_answers"][:10]:
        print(f"  ! {problem}")
    print_watched(result["watched"], result["settings"]["devices"])
    s, t = result["summary"], result["targets"]
    verdicts = [
        ("no errors, lost or duplicates", not (s["errors"] or s["lost"] or s["duplicates"])),
        (
            f"check-mac p99 < {t['checkmac_p99_ms']:.0f} ms",
            s["checkmac_p99_ms"] < t["checkmac_p99_ms"],
        ),
        (f"check-mac ratio >= {t['checkmac_ratio']}", s["checkmac_ratio"] >= t["checkmac_ratio"]),
        (f"submit >= {t['submit_rps']:.0f}/s", s["submit_rps"] >= t["submit_rps"]),
    ]
    print("targets: " + "; ".join(f"{name}: {'met' if ok else 'NOT met'}" for name, ok in verdicts))
    print(
        f"machine: {machine['nproc']} cores ({machine['cpu']}), {machine['memory']} memory, "
        f"PostgreSQL {machine.get('postgresql', '?')}, load before {machine['load_before']}, "
        f"after {machine['load_after']}, commit {machine['commit']}"
        + (" (uncommitted changes)" if machine["dirty"] else "")
    )


def chart(result: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=100)
    for row in result["endpoints"]:
        lat = row["latencies_ms"]
        if len(lat) < 20:
            continue
        ys = [100 * (i + 1) / len(lat) for i in range(len(lat))]
        ax.plot(lat, ys, label=f"{row['stage']} {row['endpoint'].rsplit('/', 1)[-1]}")
    for name, style in (("ours", "-"), ("baseline", "--")):
        rounds = result["checkmac"]["rounds"][name]
        if not rounds:
            continue
        best = sorted(rounds, key=lambda r: r["percentiles_us"]["99"])[len(rounds) // 2]
        points = sorted((float(p), us / 1000) for p, us in best["percentiles_us"].items())
        ax.plot(
            [ms for _, ms in points],
            [p for p, _ in points],
            style,
            color="black",
            label=f"check-mac phase, {name}",
        )
    ax.set_xscale("log")
    ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("latency (ms, log scale)")
    ax.set_ylabel("percentile of requests")
    s = result["summary"]
    ax.set_title(
        f"ARROW mass boot: {s['devices']} devices, concurrency "
        f"{result['settings']['concurrency']}, {result['settings']['workers']} workers",
        fontsize=10,
    )
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _slim(result: dict) -> dict:
    """The JSON without every single latency (those stay in the run's own directory)."""
    slim = json.loads(json.dumps(result))
    for row in slim["endpoints"]:
        row.pop("latencies_ms", None)
    return slim


def readme(result: dict) -> str:
    m, s = result["machine"], result["summary"]
    return "\n".join(
        [
            "# Latest benchmark results",
            "",
            "Written by `make bench` (bench/report.py); do not edit by hand. How the benchmark",
            "works and how to read it: bench/README.md. Figures vary with the machine and its",
            "load; the tracked figure is `checkmac_ratio` (our check-mac throughput over the bare",
            "WSGI baseline's on the same database, machine and load).",
            "",
            "```",
            "bench: " + " ".join(f"{k}={v}" for k, v in s.items()),
            "```",
            "",
            f"- command: `{result['settings']['command']}` with "
            f"BENCH_DEVICES={result['settings']['devices']} "
            f"BENCH_CONCURRENCY={result['settings']['concurrency']} "
            f"BENCH_WORKERS={result['settings']['workers']}, "
            f"started {result['settings']['started']}",
            f"- commit: {m['commit']}" + (" (with uncommitted changes)" if m["dirty"] else ""),
            f"- machine: `nproc` = {m['nproc']} ({m['cpu']}), kernel {m['kernel']}, "
            f"Python {m['python']}, PostgreSQL {m.get('postgresql', '?')}",
            f"- load average (1, 5, 15 min): before {m['load_before']}, after {m['load_after']}",
            "  (the machine is shared with other builds; a load above the core count means the",
            "  benchmark got less than the whole machine)",
            "",
            "`free -h`:",
            "",
            "```",
            m["free_h"],
            "```",
            "",
            "Figures:",
            "",
            "```",
            *figures_table(result),
            "```",
            "",
            "![latency distribution](latest.png)",
            "",
        ]
    )


def write(result: dict, out: Path, *, publish: bool) -> None:
    (out / "result.json").write_text(json.dumps(result, indent=1))
    chart(result, out / "latency.png")
    (out / "summary.json").write_text(json.dumps(_slim(result), indent=1))
    if publish:
        DOCS.mkdir(parents=True, exist_ok=True)
        (DOCS / "latest.json").write_text(json.dumps(_slim(result), indent=1) + "\n")
        shutil.copyfile(out / "latency.png", DOCS / "latest.png")
        (DOCS / "README.md").write_text(readme(result))
    print(
        f"figures: {out / 'summary.json'}, chart: {out / 'latency.png'}"
        + (f"; published to {DOCS}" if publish else "")
    )
