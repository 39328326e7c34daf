"""Files named on the command line: where they are, reading, writable outputs.

``scripts/hems`` runs the planner inside the Python 3.14 root (see
``scripts/_env.sh``) with the caller's folders at their own paths, except the
root's own system folders (``/etc``, ``/opt``, ``/usr`` ...), and the caller's
whole file system at ``$HEMS_HOST_ROOT`` (``/run/host``).  An absolute path
under a folder the root does not share with the caller is read from there.
Without ``HEMS_HOST_ROOT`` paths are used as given.
"""

import os
from pathlib import Path

from .errors import ProblemError

HOST_ROOT_ENV = "HEMS_HOST_ROOT"


def _host_root() -> Path | None:
    root = os.environ.get(HOST_ROOT_ENV)
    return Path(root) if root else None


def user_path(text: str | Path) -> Path:
    """Return where this process finds the caller's path ``text``.

    A relative path climbing out (``..``) is resolved as the caller's system
    would, lexically from the working directory, since it may end in one of
    the root's own folders.
    """
    path = Path(text)
    host = _host_root()
    if host is None:
        return path
    if not path.is_absolute():
        if ".." not in path.parts:
            return path  # from the working directory, the caller's own
        path = Path(shown(Path.cwd())) / path
    if ".." in path.parts:
        path = Path(os.path.normpath(path))
    if len(path.parts) < 2:  # noqa: PLR2004 - "/" itself
        return path
    top = path.parts[1]
    try:
        shared = Path("/", top).samefile(host / top)
    except OSError:  # missing here or on the caller's side
        shared = False
    return path if shared else host.joinpath(*path.parts[1:])


def shown(path: Path) -> str:
    """Return ``path`` as the caller would write it (for messages)."""
    host = _host_root()
    if host is not None and path.is_relative_to(host):
        return str(Path("/", path.relative_to(host)))
    return str(path)


def read_text(path: Path, field: str) -> str:
    """Read a UTF-8 text file; problems name ``field`` and the file."""
    where = f"{field}: {shown(path)}" if field else shown(path)
    try:
        data = path.read_bytes()
    except OSError as err:
        raise ProblemError(where, err.strerror or str(err)) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ProblemError(
            where, f"not UTF-8 text (byte {data[err.start]:#04x} at offset {err.start})"
        ) from None


def check_output(path: Path, field: str) -> None:
    """Fail now, not after a long run, if ``path`` cannot be written."""
    where = f"{field}: {shown(path)}"
    folder = path.parent
    if path.is_dir():
        raise ProblemError(where, "is a folder")
    if not folder.is_dir():
        raise ProblemError(where, f"folder {shown(folder)} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK) or (
        path.exists() and not os.access(path, os.W_OK)
    ):
        raise ProblemError(where, "not writable")
