"""Command-line entry: ``collect`` gathers, prints or submits, then reboots; ``parse`` runs one
parser over a captured file.

Human-readable lines go to stderr (the console); JSON goes to stdout, so ``--dry-run`` output
and ``parse`` output can be piped. Exit codes are listed in EXIT_CODES and docs/agent.md.

The collectors and the HTTP client are imported only once ``collect`` has started its early
LLDP listener (and ``parse`` only imports the parsers): under emulation those imports take more
than a second, which the listener's window then absorbs instead of following. The image's own
run starts that listener even earlier, before this module loads (arrow_agent.__main__), and
hands it to ``main``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from arrow_agent import __version__, lldp_early, power, run
from arrow_agent.config import (
    AFTER_CHOICES,
    Backoff,
    Config,
    ConfigError,
    from_env,
    parse_cmdline,
    resolve,
)

if TYPE_CHECKING:
    from arrow_agent.submit import Outcome

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_USAGE = 2
EXIT_REJECTED = 3
EXIT_GAVE_UP = 4
EXIT_AFTER_FAILED = 5
EXIT_CODES = {
    EXIT_OK: "accepted (or --dry-run printed the payload)",
    EXIT_INTERNAL: "unexpected error in the agent itself",
    EXIT_USAGE: "bad arguments or settings (no server, no key, bad value)",
    EXIT_REJECTED: "the backend refused the inventory (4xx or a redirect); not retried",
    EXIT_GAVE_UP: "no answer from the backend (network error or 5xx) until the deadline",
    EXIT_AFTER_FAILED: "accepted, but the reboot or poweroff failed",
}
WAIT_FOR_MAX_S = 300.0  # /init creates the file within arrow.linkwait (20 s by default)


def say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python3 -m arrow_agent",
        description="ARROW inventory agent: collect this machine's facts and submit them.",
        epilog="Exit codes: " + "; ".join(f"{c} {m}" for c, m in EXIT_CODES.items()),
    )
    parser.add_argument("--version", action="version", version=f"arrow_agent {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    collect = commands.add_parser("collect", help="collect facts, then print or submit them")
    collect.add_argument("--root", metavar="DIR", help="read /sys, /proc and commands from DIR")
    collect.add_argument("--dry-run", action="store_true", help="print the payload; send nothing")
    collect.add_argument("--server", metavar="URL", help="backend base URL (arrow.server)")
    collect.add_argument("--prefix", help="device_name prefix (arrow.prefix, default PVE)")
    collect.add_argument("--after", choices=AFTER_CHOICES, help="after success (arrow.after)")
    collect.add_argument("--deadline", metavar="S", help="seconds of retries (arrow.deadline)")
    collect.add_argument("--modem-wait", metavar="S", help="seconds to wait for ModemManager")
    collect.add_argument("--lldp-wait", metavar="S", help="seconds to listen for LLDP (0: off)")
    collect.add_argument(
        "--wait-for",
        metavar="FILE",
        type=Path,
        help="start at once, but collect only once FILE exists (the image's /init creates it "
        f"when the network is up); at most {WAIT_FOR_MAX_S:g} s",
    )
    collect.add_argument("--key-file", metavar="FILE", help="file holding the service key")
    collect.add_argument("--token-file", metavar="FILE", help="file holding a per-boot token")
    collect.add_argument(
        "--retry-initial",
        metavar="S",
        type=float,
        default=Backoff.initial,
        help="first wait between submit attempts; doubles each retry (default %(default)s)",
    )
    collect.add_argument(
        "--retry-max",
        metavar="S",
        type=float,
        default=Backoff.maximum,
        help="longest wait between submit attempts (default %(default)s)",
    )
    collect.add_argument(
        "--request-timeout",
        metavar="S",
        type=float,
        default=Backoff.request_timeout,
        help="seconds for one submit attempt (default %(default)s)",
    )

    parse = commands.add_parser("parse", help="run one parser over a captured output file")
    parse.add_argument("kind", choices=("dmidecode", "iplink", "mmcli"))
    parse.add_argument("file", type=Path)
    return parser


def main(
    argv: Sequence[str] | None = None,
    environ: Mapping[str, str] | None = None,
    *,
    early_lldp: lldp_early.EarlyListener | None = None,
) -> int:
    """*early_lldp*: a listener already started for this run (arrow_agent.__main__)."""
    args = build_parser().parse_args(argv)
    environ = os.environ if environ is None else environ
    if args.command == "parse":
        if early_lldp is not None:
            early_lldp.stop_joining()
        return parse_file(args.kind, args.file)
    return collect_command(args, environ, early_lldp)


def parse_file(kind: str, path: Path) -> int:
    from arrow_agent.collectors import dmi, modem, net  # see the module's docstring

    try:
        text = path.read_bytes().decode("utf-8", errors="replace")
    except OSError as exc:
        say(f"parse: {path}: {exc.strerror or exc}")
        return EXIT_USAGE
    output: dict[str, Any]
    if kind == "dmidecode":
        parsed = dmi.parse(text)
        facts = parsed.facts
        serial, source = dmi.choose_serial(facts)
        output = {
            "system_manufacturer": facts.system_manufacturer,
            "system_product_name": facts.system_product_name,
            "system_version": facts.system_version,
            "system_serial": facts.system_serial,
            "baseboard_serial": facts.baseboard_serial,
            "chassis_serial": facts.chassis_serial,
            "serial_number": serial,
            "sn_source": source,
            "device_spec": dmi.device_spec(facts),
        }
        warnings = parsed.warnings
    elif kind == "iplink":
        links = net.parse_ip(text)
        pairs = net.mac_list(net.nics_from_ip(links.facts))
        output = {"mac_address": pairs.facts}
        warnings = links.warnings + pairs.warnings
    else:
        imei = modem.parse(text)
        output = {"imei": imei.facts}
        warnings = imei.warnings
    for warning in warnings:
        say(f"warning: {warning}")
    print(json.dumps(output, indent=2))
    return EXIT_OK


def _secret_file(path: str | None, what: str) -> str | None:
    if path is None:
        return None
    try:
        return Path(path).read_text().strip()
    except OSError as exc:
        raise ConfigError(f"{what} file {path}: {exc.strerror or exc}") from None


def load_config(args: argparse.Namespace, environ: Mapping[str, str]) -> Config:
    try:
        cmdline = parse_cmdline(run.read_sys("/proc/cmdline"))
    except OSError:
        cmdline = {}
    flags = {
        "server": args.server,
        "prefix": args.prefix,
        "after": args.after,
        "deadline": args.deadline,
        "modem_wait": args.modem_wait,
        "lldp_wait": args.lldp_wait,
        "key": _secret_file(args.key_file, "key"),
        "token": _secret_file(args.token_file, "token"),
    }
    return resolve(cmdline=cmdline, env=from_env(environ), flags=flags)


def collect_command(
    args: argparse.Namespace,
    environ: Mapping[str, str],
    started: lldp_early.EarlyListener | None = None,
) -> int:
    if args.root is not None and not Path(args.root).is_dir():
        say(f"collect: --root {args.root} is not a directory")
        return EXIT_USAGE
    run.set_root(args.root)
    try:
        config = load_config(args, environ)
    except ConfigError as exc:
        say(f"config: {exc}")
        return EXIT_USAGE
    say(f"arrow_agent {__version__}: {config.describe()}")
    if not args.dry_run:
        if not config.server:
            say("config: no server; set arrow.server=URL, ARROW_SERVER or --server")
            return EXIT_USAGE
        if not config.auth_headers():
            say(
                "config: no service key or token; set arrow.key= or arrow.token= on the kernel "
                "command line, DEVICE_LOOKUP_API_KEY or ARROW_TOKEN, or --key-file/--token-file"
            )
            return EXIT_USAGE

    early = start_early_lldp(config, started)
    from arrow_agent.inventory import collect_inventory  # see the module's docstring
    from arrow_agent.submit import announce_started, submit

    if args.wait_for is not None:
        wait_for(args.wait_for, WAIT_FOR_MAX_S)
    if not args.dry_run and config.token:
        announce_started(config.server, config.auth_headers(), say)
    inventory = collect_inventory(
        prefix=config.prefix,
        modem_wait=config.modem_wait,
        lldp_wait=config.lldp_wait,
        early_lldp=early,
    )
    report(inventory)
    payload = {"inventory_data": inventory}
    if args.dry_run:
        print(json.dumps(payload, indent=2))
        return EXIT_OK

    backoff = Backoff(args.retry_initial, args.retry_max, args.request_timeout)
    outcome = submit(
        config.submit_url,
        payload,
        config.auth_headers(),
        deadline=config.deadline,
        backoff=backoff,
        say=say,
    )
    if not outcome.ok:
        explain_failure(outcome, config)
        return EXIT_GAVE_UP if outcome.retryable else EXIT_REJECTED
    report_reply(outcome.reply)
    if config.after != "none":
        say(f"after: {config.after}")
    # Under --root nothing real reboots, so there is nothing to wait for.
    problem = power.perform(config.after, settle_s=0 if run.get_root() else 30.0)
    if problem is not None:
        say(f"after: could not {config.after}: {problem}; power-cycle the device by hand")
        return EXIT_AFTER_FAILED
    return EXIT_OK


def start_early_lldp(
    config: Config, started: lldp_early.EarlyListener | None = None
) -> lldp_early.EarlyListener | None:
    """LLDP listening on the real machine's physical ports, from now on, as they link; the
    listener *started* before the settings were read if it listens as they say. One that does
    not (a flag changed the window) stops taking ports; its windows run out unused."""
    wanted = run.get_root() is None and config.lldp_wait > 0
    if started is not None:
        if wanted and started.wait_s == config.lldp_wait:
            say(f"lldp: listening since the agent started, {started.wait_s:g} s per linked port")
            return started
        started.stop_joining()
    return lldp_early.EarlyListener(config.lldp_wait) if wanted else None


def wait_for(path: Path, timeout_s: float, *, poll_s: float = 0.1) -> bool:
    """Waits until *path* exists; says so and returns False after *timeout_s*."""
    give_up = time.monotonic() + timeout_s
    while not path.exists():
        if time.monotonic() >= give_up:
            say(f"collect: {path} did not appear within {timeout_s:g} s; collecting anyway")
            return False
        time.sleep(poll_s)
    return True


def report(inventory: Mapping[str, Any]) -> None:
    """What was found, one line per fact group, then every collection error."""
    say(
        f"dmi: serial {inventory['serial_number'] or '(none)'} "
        f"(sn_source {inventory['sn_source'] or 'none'}); "
        f"device_spec {inventory['device_spec'] or '(none)'}; "
        f"device_name {inventory['device_name'] or '(none)'}"
    )
    say(f"net: {', '.join(inventory['mac_address']) or 'no physical NIC found'}")
    say(f"modem: {'yes' if inventory['has_modem'] else 'no'}; IMEI {inventory['imei'] or 'none'}")
    errors = inventory["hardware"]["collection_errors"]
    for error in errors:
        say(f"problem: {error['collector']}/{error['stage']}: {error['message']}")


def report_reply(reply: Any) -> None:
    if isinstance(reply, dict):
        fields = ("device_id", "status", "device_spec", "organization", "imaging_status")
        say("accepted: " + ", ".join(f"{name} {reply.get(name)}" for name in fields))
        # A technician at the rack reads why the device is held from imaging.
        for mismatch in reply.get("spec_mismatches") or []:
            say(f"fails its spec: {mismatch}")
    print(json.dumps(reply, indent=2))


def explain_failure(outcome: Outcome, config: Config) -> None:
    say(f"failed after {outcome.attempts} attempt(s): {outcome.detail}")
    if outcome.retryable:
        say(
            f"check: the network (link, DHCP, route), that {config.server} is the backend's "
            f"address and that the backend is running; retried for {config.deadline:g} s"
        )
    elif outcome.status in (401, 403):
        say(
            "check: the service key must equal the backend's DEVICE_LOOKUP_API_KEY; a per-boot "
            "token may have expired or been used already"
        )
    elif outcome.status == 404:
        say(f"check: arrow.server; {config.submit_url} does not exist on that server")
    else:
        say(
            "check: the backend's submission journal names the refused field; "
            "run with --dry-run to see the payload"
        )
