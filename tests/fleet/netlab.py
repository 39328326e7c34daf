"""Network namespaces for the fleet system test: one per service, like Docker's.

Everything lives inside one *holder*: a process in its own mount and PID
namespaces (``unshare``). Its mount namespace has a private ``/run/netns``
(so ``ip netns`` names are the compose service names without touching the
machine's) and the lab's ``/etc/hosts`` and ``/etc/resolv.conf``; every
service runs in its PID namespace, so when the holder ends (at the end of the
test, or when pytest itself dies) the kernel ends every process, and with the
last of them every namespace and interface.

The namespaces are made with ``ip netns add`` and entered with ``nsenter``:
``ip netns exec`` (and ``ip -n``) remount ``/`` and ``/sys``, which fails in
the chroot the tests run in, whose ``/`` is no mount point.

Topology: a namespace ``device`` (the balenaOS host) holds the bridge ``br0``
(172.20.0.1/16, inside the 172.16.0.0/12 the stack trusts) with one veth per
service (``eth0`` in the service, 172.20.0.2 ...), and routes to the
namespace ``cloud`` (198.51.100.2, TEST-NET-2) over a second veth pair. The
test talks to the box from ``device``, as a LAN client reaches the ports the
stack publishes.
"""

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
import os
from pathlib import Path
import shutil
import signal
import subprocess
import time

BRIDGE_NET = "172.20.0"
GATEWAY = f"{BRIDGE_NET}.1"
CLOUD_NET = "198.51.100"
DEVICE = "device"
CLOUD = "cloud"
# Docker's embedded DNS address, which the stack's NGINX asks.
DNS_ADDRESS = "127.0.0.11"

_HOLDER_SH = r"""
set -eu
mkdir -p /run/netns
mount -t tmpfs -o mode=0755 netns /run/netns
mount --bind "$1" /etc/hosts
mount --bind "$2" /etc/resolv.conf
echo ready
read -r _ || true
"""


class LabError(RuntimeError):
    """The lab could not be set up (a missing tool or privilege)."""


def _need(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        msg = f"{name} is not installed (requirements_apt.txt)"
        raise LabError(msg)
    return path


@dataclass
class Service:
    """A process started in the lab."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path

    def pid(self) -> int | None:
        """Return the PID of the service itself (nsenter's child), if running."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        with suppress(OSError):
            found = children.read_text().split()
            if found:
                return int(found[0])
        return None

    def output(self) -> str:
        """Return what the service printed so far."""
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def stop(self, timeout: float = 15) -> int | None:
        """Send SIGTERM to the service, SIGKILL after ``timeout``; return its code."""
        if self.process.poll() is None and (pid := self.pid()) is not None:
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            if (pid := self.pid()) is not None:
                with suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            return self.process.wait(timeout=5)


@dataclass
class Lab:
    """The holder and what was started in it."""

    workdir: Path
    addresses: dict[str, str]
    aliases: dict[str, str] = field(default_factory=dict)
    holder: subprocess.Popen[bytes] | None = None
    services: list[Service] = field(default_factory=list)
    _init_pid: int = 0

    # --- set-up ---------------------------------------------------------------

    def hosts_text(self) -> str:
        """Return the lab's /etc/hosts: every service and the cloud names."""
        lines = ["127.0.0.1 localhost"]
        lines += [f"{ip} {name}" for name, ip in self.addresses.items()]
        lines += [f"{ip} {name}" for name, ip in self.aliases.items()]
        return "\n".join(lines) + "\n"

    def start(self) -> None:
        """Start the holder, then make the namespaces and wire them up."""
        for tool in ("unshare", "nsenter", "ip", "mount"):
            _need(tool)
        hosts = self.workdir / "hosts"
        hosts.write_text(self.hosts_text())
        resolv = self.workdir / "resolv.conf"
        resolv.write_text(f"nameserver {DNS_ADDRESS}\noptions timeout:1 attempts:1\n")
        for propagation in ("private", "unchanged"):
            # "private" fails where / is no mount point (the tests' chroot),
            # whose mount namespace is private already.
            self.holder = subprocess.Popen(  # noqa: S603
                [
                    _need("unshare"),
                    "--mount",
                    f"--propagation={propagation}",
                    "--pid",
                    "--fork",
                    "--mount-proc",
                    "--",
                    "/bin/sh",
                    "-c",
                    _HOLDER_SH,
                    "holder",
                    str(hosts),
                    str(resolv),
                ],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
            assert self.holder.stdout is not None
            line = self.holder.stdout.readline()
            if line.strip() == b"ready":
                break
            self.holder.wait(timeout=5)
        else:
            assert self.holder is not None
            assert self.holder.stderr is not None
            msg = f"unshare failed: {self.holder.stderr.read().decode().strip()}"
            raise LabError(msg)
        self._init_pid = self._child_of(self.holder.pid)
        for name in [DEVICE, CLOUD, *self.addresses]:
            self.ip("netns", "add", name)
        self._wire()

    def _child_of(self, pid: int) -> int:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        return int(children[0])

    def _wire(self) -> None:
        """Bridge the services in ``device`` and route ``device`` to ``cloud``."""
        ip = self.ip
        for name in (DEVICE, CLOUD, *self.addresses):
            ip("link", "set", "lo", "up", netns=name)
        ip("link", "add", "br0", "type", "bridge", netns=DEVICE)
        ip("addr", "add", f"{GATEWAY}/16", "dev", "br0", netns=DEVICE)
        ip("link", "set", "br0", "up", netns=DEVICE)
        for name, address in self.addresses.items():
            port = f"v-{name}"[:15]
            ip(
                "link", "add", "eth0", "netns", name, "type", "veth",
                "peer", "name", port, "netns", DEVICE,
            )  # fmt: skip
            ip("link", "set", port, "master", "br0", "up", netns=DEVICE)
            ip("addr", "add", f"{address}/16", "dev", "eth0", netns=name)
            ip("link", "set", "eth0", "up", netns=name)
            ip("route", "add", "default", "via", GATEWAY, netns=name)
        ip(
            "link", "add", "eth0", "netns", CLOUD, "type", "veth",
            "peer", "name", "wan0", "netns", DEVICE,
        )  # fmt: skip
        ip("addr", "add", f"{CLOUD_NET}.1/24", "dev", "wan0", netns=DEVICE)
        ip("link", "set", "wan0", "up", netns=DEVICE)
        ip("addr", "add", f"{CLOUD_NET}.2/24", "dev", "eth0", netns=CLOUD)
        ip("link", "set", "eth0", "up", netns=CLOUD)
        ip("route", "add", "default", "via", f"{CLOUD_NET}.1", netns=CLOUD)
        self.run(
            ["/bin/sh", "-c", "echo 1 > /proc/sys/net/ipv4/ip_forward"], netns=DEVICE
        )

    # --- running things -------------------------------------------------------

    def netns_path(self, name: str) -> str:
        """Return the namespace file of ``name`` as this process sees it."""
        return f"/proc/{self._init_pid}/root/run/netns/{name}"

    def command(
        self, args: list[str], *, netns: str | None = None, cwd: Path | None = None
    ) -> list[str]:
        """Return ``args`` wrapped to run in the lab (and in ``netns``)."""
        wrapped = [
            _need("nsenter"),
            f"--target={self._init_pid}",
            "--mount",
            "--pid",
            "--root",
            f"--wd={cwd or self.workdir}",
        ]
        if netns is not None:
            wrapped.append(f"--net={self.netns_path(netns)}")
        return [*wrapped, "--", *args]

    def run(
        self, args: list[str], *, netns: str | None = None, timeout: float = 30
    ) -> subprocess.CompletedProcess[str]:
        """Run a command in the lab to completion; fail loudly if it fails."""
        result = subprocess.run(  # noqa: S603
            self.command(args, netns=netns),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if result.returncode != 0:
            msg = f"{' '.join(args)} (in {netns}) failed: {result.stderr.strip()}"
            raise LabError(msg)
        return result

    def ip(self, *args: str, netns: str | None = None) -> None:
        """Run ``ip`` in the lab, in ``netns`` if given."""
        self.run([_need("ip"), *args], netns=netns)

    def spawn(
        self,
        name: str,
        args: list[str],
        *,
        netns: str,
        env: dict[str, str],
        cwd: Path | None = None,
    ) -> Service:
        """Start a long-running process in ``netns``; its output goes to a log."""
        log = self.workdir / "logs" / f"{name}.log"
        log.parent.mkdir(exist_ok=True)
        with log.open("ab") as out:
            process = subprocess.Popen(  # noqa: S603
                self.command(args, netns=netns, cwd=cwd),
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
            )
        service = Service(name, process, log)
        self.services.append(service)
        return service

    @contextmanager
    def inside(self, name: str) -> Iterator[None]:
        """Let this thread's new sockets live in namespace ``name`` for a while."""
        own = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
        target = os.open(self.netns_path(name), os.O_RDONLY)
        try:
            os.setns(target, os.CLONE_NEWNET)
            yield
        finally:
            os.setns(own, os.CLONE_NEWNET)
            os.close(target)
            os.close(own)

    # --- tear-down ------------------------------------------------------------

    def stop(self) -> None:
        """Stop every service, then the holder (which ends whatever is left)."""
        for service in reversed(self.services):
            with suppress(Exception):
                service.stop()
        if self.holder is None:
            return
        if self.holder.stdin is not None:
            with suppress(OSError):
                self.holder.stdin.close()
        try:
            self.holder.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.holder.kill()
            self.holder.wait(timeout=5)
        for stream in (self.holder.stdout, self.holder.stderr):
            if stream is not None:
                stream.close()

    def gone(self) -> bool:
        """Return whether the holder's PID namespace has ended (all processes)."""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if not Path(f"/proc/{self._init_pid}").exists():
                return True
            time.sleep(0.05)
        return False
