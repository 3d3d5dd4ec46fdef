"""A network boot lab in network namespaces: a segment with a site DHCP server, the product's
dnsmasq, the backend and QEMU guests on taps. Nothing is configured in the root namespace.

Layout (names are unique per lab, so a lab left behind by a killed run never collides):

    netns LAB:  br0 10.99.0.1/24  <- the product's dnsmasq, the backend (a socket bound here)
                 |- site0 (veth) ---- netns SITE: eth0 10.99.0.2/24, a plain dnsmasq handing
                 |                     out 10.99.0.100-200 and nothing else (proxy-DHCP mode)
                 |- tapN  <- QEMU guests
                br1 (no servers): a dead segment for the first NIC of two-NIC guests

Two dnsmasq instances cannot share one interface's port 67, hence the site's own namespace.
`NetLab` owns every process it starts and both namespaces: leaving the `with` block (a failed
test included) stops the processes by their PID and deletes the namespaces, which removes the
bridges, the veth pair and the taps with them.
"""

from __future__ import annotations

import contextlib
import ctypes
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest

from tests.e2e.qemu import stop_process

BRIDGE_IP = "10.99.0.1"
SITE_IP = "10.99.0.2"
BRIDGE_IP6 = "fd99::1"
SUBNET = "10.99.0.0/24"
SITE_RANGE = ("10.99.0.100", "10.99.0.200")
PRODUCT_RANGE = ("10.99.0.50", "10.99.0.90")  # full-DHCP mode: the product's dnsmasq alone
BACKEND_PORT = 8000
CLONE_NEWNET = 0x40000000
TOOLS = {"ip": "iproute2", "dnsmasq": "dnsmasq-base", "tcpdump": "tcpdump"}
_counter = itertools.count(1)


def require_lab() -> None:
    """Fail (never skip) when the lab cannot be built: not root, or a program missing."""
    if os.geteuid() != 0:
        pytest.fail("the network boot lab needs root (network namespaces, taps)")
    missing = sorted({pkg for tool, pkg in TOOLS.items() if shutil.which(tool) is None})
    if missing:
        pytest.fail(f"the network boot lab needs: apt-get install -y {' '.join(missing)}")


def run(*argv: str) -> str:
    result = subprocess.run(argv, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({result.returncode}): {result.stderr}")
    return result.stdout


def in_netns(netns: str, function):
    """Run *function* in a thread that joined *netns*; sockets it creates stay in that netns."""
    outcome: dict[str, object] = {}

    def target() -> None:
        libc = ctypes.CDLL(None, use_errno=True)
        try:
            with open(f"/run/netns/{netns}") as handle:
                if libc.setns(handle.fileno(), CLONE_NEWNET) != 0:
                    raise OSError(ctypes.get_errno(), f"setns({netns}) failed")
            outcome["value"] = function()
        except BaseException as exc:  # re-raised in the caller's thread
            outcome["error"] = exc

    thread = threading.Thread(target=target, name=f"setns-{netns}")
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["value"]


class LabBackend:
    """The real application (Django's WSGI handler, as the live server runs it) listening on
    the bridge address inside the lab namespace. `stop()` and `start()` make it unreachable
    for a while (connections are refused), as a restarting backend would be."""

    def __init__(self, netns: str, host: str = BRIDGE_IP, port: int = BACKEND_PORT) -> None:
        self.netns, self.host, self.port = netns, host, port
        self._server = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def _listening_socket(self) -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        return sock

    def start(self) -> LabBackend:
        from django.core.handlers.wsgi import WSGIHandler
        from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler

        class Handler(WSGIRequestHandler):
            # A guest killed mid-connection never closes it: give up an idle connection soon,
            # so its thread ends and closes its database connection.
            timeout = 3

            def handle(self) -> None:
                with contextlib.suppress(TimeoutError):
                    super().handle()

        server = ThreadedWSGIServer((self.host, self.port), Handler, bind_and_activate=False)
        server.socket.close()
        server.socket = in_netns(self.netns, self._listening_socket)
        server.server_bind = lambda: None  # already bound inside the namespace
        server.server_address = server.socket.getsockname()
        server.server_name, server.server_port = self.host, self.port
        server.setup_environ()
        server.server_activate()
        server.set_app(WSGIHandler())
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None


class NetLab:
    """Two namespaces, the bridges, the site DHCP server and every daemon of one test."""

    def __init__(self, workdir: Path) -> None:
        require_lab()
        tag = f"{os.getpid()}-{next(_counter)}"
        self.ns = f"arrowlab-{tag}"
        self.site_ns = f"arrowsite-{tag}"
        self.workdir = workdir
        self.workdir.mkdir(parents=True, exist_ok=True)
        # dnsmasq drops root for the user "nobody": the TFTP root must be readable by anyone,
        # which pytest's private temporary directory is not.
        self.tftp_root = Path(tempfile.mkdtemp(prefix="arrow-lab-tftp-"))
        self.tftp_root.chmod(0o755)
        self.hosts_dir = Path(tempfile.mkdtemp(prefix="arrow-lab-hosts-"))  # --pxe-filter's
        self.hosts_dir.chmod(0o755)
        self.image_dir = Path(tempfile.mkdtemp(prefix="arrow-lab-image-"))  # TFTP-served image
        self.image_dir.chmod(0o755)
        self._processes: list[tuple[str, subprocess.Popen[bytes]]] = []
        self._taps = itertools.count(0)
        self._lldpd_dirs: list[Path] = []
        self.backend = LabBackend(self.ns)

    # --- building ----------------------------------------------------------------------------

    def __enter__(self) -> NetLab:
        try:
            self._build()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _build(self) -> None:
        lab, site = self.ns, self.site_ns
        run("ip", "netns", "add", lab)
        run("ip", "netns", "add", site)
        for ns in (lab, site):
            run("ip", "-n", ns, "link", "set", "lo", "up")
        for bridge in ("br0", "br1"):
            run("ip", "-n", lab, "link", "add", bridge, "type", "bridge",
                "stp_state", "0", "forward_delay", "0")  # fmt: skip
            run("ip", "-n", lab, "link", "set", bridge, "up")
        run("ip", "-n", lab, "addr", "add", f"{BRIDGE_IP}/24", "dev", "br0")
        run("ip", "-n", lab, "link", "add", "site0", "type", "veth",
            "peer", "name", "eth0", "netns", site)  # fmt: skip
        run("ip", "-n", lab, "link", "set", "site0", "master", "br0", "up")
        run("ip", "-n", site, "addr", "add", f"{SITE_IP}/24", "dev", "eth0")
        run("ip", "-n", site, "link", "set", "eth0", "up")
        self.spawn("tcpdump", lab, ["tcpdump", "-l", "-n", "-e", "-i", "br0",
                   "port 67 or port 68 or port 69 or port 4011"])  # fmt: skip

    def add_ipv6_prefix(self) -> None:
        """Give br0 an IPv6 prefix of its own (for router advertisements)."""
        run("ip", "-n", self.ns, "addr", "add", f"{BRIDGE_IP6}/64", "dev", "br0", "nodad")

    def tap(self, bridge: str = "br0") -> str:
        """A new tap device in the lab namespace, a port of *bridge*; QEMU opens it by name."""
        name = f"tap{next(self._taps)}"
        run("ip", "-n", self.ns, "tuntap", "add", "dev", name, "mode", "tap")
        run("ip", "-n", self.ns, "link", "set", name, "master", bridge, "up")
        return name

    # --- daemons -----------------------------------------------------------------------------

    def log(self, name: str) -> Path:
        return self.workdir / f"{name}.log"

    def spawn(self, name: str, netns: str, argv: list[str]) -> subprocess.Popen[bytes]:
        """Start *argv* in *netns*; `ip netns exec` execs it, so the PID is the program's."""
        with self.log(name).open("ab") as out:
            process = subprocess.Popen(
                ["ip", "netns", "exec", netns, *argv],
                stdin=subprocess.DEVNULL, stdout=out, stderr=out, cwd=self.workdir,
            )  # fmt: skip
        self._processes.append((name, process))
        return process

    def start_site_dhcp(self) -> None:
        """The site's DHCP server: addresses only, no boot options at all."""
        first, last = SITE_RANGE
        self.spawn("site-dhcp", self.site_ns, [
            "dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null", "--port=0",
            "--interface=eth0", "--bind-interfaces", f"--dhcp-range={first},{last},1h",
            f"--dhcp-leasefile={self.workdir / 'site.leases'}", "--pid-file=",
            "--log-facility=-", "--log-dhcp",
        ])  # fmt: skip
        self._wait_started("site-dhcp", "DHCP, IP range")

    def start_product_dnsmasq(self, conf: Path) -> None:
        """The product's dnsmasq with the configuration `render_dnsmasq` wrote, as is; only
        where it logs and keeps leases is given here (the package's defaults otherwise)."""
        self.spawn("arrow-dnsmasq", self.ns, [
            "dnsmasq", "--keep-in-foreground", f"--conf-file={conf}", "--pid-file=",
            "--log-facility=-", f"--dhcp-leasefile={self.workdir / 'arrow.leases'}",
        ])  # fmt: skip
        self._wait_started("arrow-dnsmasq", "TFTP root is")

    def start_site_router_advertisements(self, conf: str) -> None:
        """radvd in the site's namespace with *conf* (a radvd.conf naming interface eth0): the
        site's router sending router advertisements on the boot segment."""
        path = self.workdir / "radvd.conf"
        path.write_text(conf)
        self.spawn("site-radvd", self.site_ns, [
            "radvd", "-n", "-C", str(path), "-p", str(self.workdir / "radvd.pid"),
            "-m", "stderr", "-d", "1",
        ])  # fmt: skip
        self._wait_started("site-radvd", "next iface is eth0")

    def capture(self, name: str, expression: str, *, decode: bool = False) -> None:
        """tcpdump on br0 with *expression*, one line per packet with its MACs (and with
        *decode*, every field, DHCP options included), into log *name*."""
        verbose = ["-vvv"] if decode else []
        self.spawn(name, self.ns, ["tcpdump", "-l", "-n", "-e", *verbose, "-i", "br0", expression])
        self._wait_started(name, "listening on br0")

    def start_switch_lldp(self, tap: str, hostname: str, port_description: str) -> None:
        """lldpd on *tap*, the switch port the guest's NIC is plugged into, speaking every
        second, its port id the interface name (as most switches send: "Gi1/0/7").
        lldpcli applies the configuration unprivileged, so it sits in a world-readable
        directory (removed at close)."""
        conf_dir = Path(tempfile.mkdtemp(prefix="arrow-lab-lldpd-"))
        conf_dir.chmod(0o755)
        self._lldpd_dirs.append(conf_dir)
        conf = conf_dir / "lldpd.conf"
        conf.write_text(
            f"configure system hostname {hostname}\nconfigure lldp tx-interval 1\n"
            "configure lldp portidsubtype ifname\n"
            f'configure ports {tap} lldp portdescription "{port_description}"\n'
        )
        self.spawn("lldpd", self.ns, [
            "lldpd", "-d", "-k", "-I", tap, "-u", str(conf_dir / "lldpd.sock"), "-O", str(conf),
        ])  # fmt: skip

    def _wait_started(self, name: str, marker: str, timeout: float = 20.0) -> None:
        process = dict(self._processes)[name]
        deadline = time.monotonic() + timeout
        while marker not in self.log(name).read_text(errors="replace"):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"{name} did not start:\n{self.log(name).read_text()}")
            time.sleep(0.1)

    def logs(self, *names: str, lines: int = 40) -> str:
        """The last lines of the daemons' logs, for a failure message."""
        parts = []
        for name in names or ("arrow-dnsmasq", "site-dhcp", "tcpdump"):
            path = self.log(name)
            text = path.read_text(errors="replace").splitlines()[-lines:] if path.exists() else []
            parts.append(f"--- {name} ({path}) ---\n" + "\n".join(text))
        return "\n".join(parts)

    # --- cleaning up -------------------------------------------------------------------------

    def close(self) -> None:
        """Stop what this lab started (by PID), then delete its namespaces; safe to repeat."""
        self.backend.stop()
        while self._processes:
            _name, process = self._processes.pop()
            stop_process(process)
        for ns in (self.ns, self.site_ns):
            if Path(f"/run/netns/{ns}").exists():
                subprocess.run(["ip", "netns", "del", ns], check=False, capture_output=True)
        for directory in (self.tftp_root, self.hosts_dir, self.image_dir):
            with contextlib.suppress(FileNotFoundError):
                shutil.rmtree(directory)
        while self._lldpd_dirs:
            shutil.rmtree(self._lldpd_dirs.pop(), ignore_errors=True)

    def leftovers(self) -> list[str]:
        """Namespaces of this lab that still exist (the cleanup test expects none)."""
        return [ns for ns in (self.ns, self.site_ns) if Path(f"/run/netns/{ns}").exists()]
