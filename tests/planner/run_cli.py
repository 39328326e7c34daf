"""Run ``scripts/hems`` in a subprocess, as a user would.

``hems`` runs it as the tests' environment does (already inside it: the
command runs directly).  ``hems_in_root`` goes through ``scripts/_env.sh``'s
``_in_root`` as on a host whose python3 is too old: in a new mount namespace
the test's whole file system becomes a fresh root (``/`` must be a mount
point for ``unshare --propagation private``), and ``HEMS_ROOT=/`` makes
``_env.sh`` chroot into it, with its own private ``/tmp`` and mounts.
"""

from dataclasses import dataclass
import json
import os
from pathlib import Path
import subprocess
from typing import Any

from tests.conftest import REPO

HEMS = REPO / "scripts" / "hems"
ENV_SH = REPO / "scripts" / "_env.sh"
TIMEOUT_S = 120


@dataclass(frozen=True)
class Done:
    """A finished command."""

    status: int
    out: str
    err: str

    def plan(self) -> dict[str, Any]:
        """Return the plan JSON printed (strict: no NaN or Infinity)."""
        assert self.status == 0, self.err
        return json.loads(self.out, parse_constant=_not_json)

    def error(self, field: str) -> str:
        """Assert one ``hems: error: FIELD: ...`` line, exit 2; return it."""
        assert self.status == 2, (self.status, self.out, self.err)
        assert self.out == ""
        assert "Traceback" not in self.err
        assert self.err.count("\n") == 1, self.err
        assert self.err.startswith(f"hems: error: {field}: "), self.err
        return self.err.strip()


def _not_json(constant: str) -> None:
    raise AssertionError(f"{constant} is not JSON")


def _run(argv: list[str], cwd: Path, env: dict[str, str], stdin: bytes | None) -> Done:
    done = subprocess.run(  # noqa: S603 - our own scripts
        argv,
        cwd=cwd,
        env=env,
        input=stdin if stdin is not None else b"",
        capture_output=True,
        timeout=TIMEOUT_S,
        check=False,
    )
    return Done(
        status=done.returncode,
        out=done.stdout.decode("utf-8", "replace"),
        err=done.stderr.decode("utf-8", "replace"),
    )


def hems(*args: str, cwd: Path = REPO, stdin: bytes | None = None) -> Done:
    """Run ``scripts/hems ARGS`` from ``cwd``."""
    return _run([str(HEMS), *args], cwd, dict(os.environ), stdin)


def in_root(
    tmp_path: Path,
    argv: list[str],
    *,
    cwd: Path,
    stdin: bytes | None = None,
    env: dict[str, str] | None = None,
) -> Done:
    """Run ``argv`` from ``cwd`` where ``_env.sh`` must chroot (``HEMS_ROOT=/``)."""
    mount_point = tmp_path / "fresh-root"
    mount_point.mkdir(exist_ok=True)
    enter = (
        'mount --rbind / "$0" && '
        'exec chroot "$0" /bin/sh -c \'cd "$0" && exec "$@"\' "$@"'
    )
    environment = {
        key: value for key, value in os.environ.items() if key != "HEMS_IN_ENV"
    }
    environment |= {"HEMS_ROOT": "/", "HEMS_CACHE": str(tmp_path / "cache")}
    environment |= env or {}
    command = ["unshare", "--mount", "--propagation", "unchanged", "--"]
    command += ["/bin/bash", "-c", enter, str(mount_point), str(cwd), *argv]
    return _run(command, REPO, environment, stdin)


def hems_in_root(
    tmp_path: Path, *args: str, cwd: Path, stdin: bytes | None = None
) -> Done:
    """Run ``scripts/hems ARGS`` from ``cwd`` through the chroot."""
    return in_root(tmp_path, [str(HEMS), *args], cwd=cwd, stdin=stdin)
