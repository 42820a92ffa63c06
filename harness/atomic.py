"""Atomic file writes: a reader (or a re-run) sees the old file or the new one, never a part of one.

Every output of the core goes through here. Data is written to a temp file with a
unique name in the destination folder, fsynced, then renamed over the destination
with ``os.replace`` (atomic on POSIX within one file system). A failed write removes
its temp file and becomes a one-line ``HarnessError`` naming the file and what to do;
concurrent writers never share a temp name. Temp names carry the writer's pid, so
``sweep_temps`` can remove what a killed process left without touching a live one's.

``recording()`` collects the paths written inside it (per thread/task), so a caller
can digest exactly the files another module wrote.
"""

from __future__ import annotations

import contextvars
import errno
import os
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from .types import HarnessError

_TEMP_MARK = ".partial-"
_recorded: contextvars.ContextVar[list[Path] | None] = contextvars.ContextVar("harness_atomic_recorded", default=None)


def os_error(path: str | Path, exc: OSError, action: str = "write") -> HarnessError:
    """A one-line error for an OSError on ``path``: what failed and what to do about it."""
    reason = exc.strerror or str(exc)
    if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        hint = "free some disk space and run the same command again (finished work is kept)"
    elif exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        hint = "the location is not writable: fix its permissions or choose another location"
    elif exc.errno == errno.ENOTDIR or exc.errno == errno.EEXIST:
        hint = "a file is in the way where a folder is needed: choose another location"
    elif exc.errno == errno.EISDIR:
        hint = "a folder is in the way where a file is needed: choose another location"
    else:
        hint = "check the location and run the same command again"
    return HarnessError(f"cannot {action} {str(path)!r}: {reason}; {hint}")


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems cannot fsync a folder; the rename is still atomic
    finally:
        os.close(fd)


def ensure_dir(folder: str | Path) -> Path:
    """``mkdir -p`` whose failure is a one-line error naming the folder."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise os_error(folder, exc, "create folder") from None
    if not folder.is_dir():
        raise HarnessError(f"cannot create folder {str(folder)!r}: a file is in the way; choose another location")
    return folder


def _new_temp(path: Path) -> Path:
    for _ in range(100):
        tmp = path.with_name(f".{path.name}{_TEMP_MARK}{os.getpid()}-{secrets.token_hex(4)}")
        try:
            fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666)  # umask applies, as for open()
        except FileExistsError:
            continue
        os.close(fd)
        return tmp
    raise HarnessError(f"cannot create a temporary file beside {str(path)!r}")  # pragma: no cover


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a fresh temp path beside ``path``; write it fully, and on success it replaces ``path``.

    For writers that want a file name (pyarrow, savefig). On any exception the temp file
    is removed and ``path`` is untouched; an OSError becomes a one-line HarnessError.
    """
    path = Path(path)
    ensure_dir(path.parent)
    try:
        tmp = _new_temp(path)
    except OSError as exc:
        raise os_error(path, exc) from None
    try:
        try:
            yield tmp
            fd = os.open(tmp, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, path)
        except OSError as exc:
            raise os_error(path, exc) from None
    except BaseException:
        try:
            tmp.unlink()
        except OSError:
            pass
        raise
    _fsync_dir(path.parent)
    rec = _recorded.get()
    if rec is not None:
        rec.append(path)


def write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically."""
    path = Path(path)
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            fh.write(data)
    return path


def write_text(path: str | Path, text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically (no newline translation)."""
    return write_bytes(path, text.encode(encoding))


@contextmanager
def recording() -> Iterator[list[Path]]:
    """Collect every path written atomically inside the block (in this thread or task)."""
    paths: list[Path] = []
    token = _recorded.set(paths)
    try:
        yield paths
    finally:
        _recorded.reset(token)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, owned by someone else
    return True


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists on this machine (a temp name's owner; reuse of a pid only keeps a temp)."""
    return _alive(pid)


def remove_dead_builds(folder: str | Path, prefix: str) -> list[Path]:
    """Remove folders or files ``{prefix}{pid}-...`` in ``folder`` whose process is gone (killed builds)."""
    import shutil

    folder = Path(folder)
    removed = []
    for item in folder.glob(f"{prefix}*") if folder.is_dir() else []:
        head = item.name[len(prefix) :].split("-", 1)[0]
        if head.isdigit() and not _alive(int(head)):
            shutil.rmtree(item, ignore_errors=True) if item.is_dir() else item.unlink(missing_ok=True)
            removed.append(item)
    return removed


def build_folder(target: str | Path, build: Callable[[Path], None], log: Callable[[str], None], what: str) -> Path:
    """``target``, built first when it lacks ``build.json``: ``build`` fills a private temp folder beside it,
    which is renamed into place, so a killed build leaves nothing half-written and a concurrent one wins whole."""
    import shutil
    import tempfile

    target = Path(target)
    if (target / "build.json").is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_dead_builds(target.parent, ".build-")  # what a killed build left behind
    tmp = Path(tempfile.mkdtemp(prefix=f".build-{os.getpid()}-", dir=target.parent))
    try:
        log(f"building {what} in {target} (first use)")
        build(tmp)
        try:
            os.replace(tmp, target)
        except OSError:  # a concurrent build finished first: keep theirs
            if not (target / "build.json").is_file():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def sweep_temps(folder: str | Path, recursive: bool = True) -> list[Path]:
    """Remove temp files that a killed writer left in ``folder``; a live writer's are kept."""
    folder = Path(folder)
    removed = []
    if not folder.is_dir():
        return removed
    pattern = f"**/.*{_TEMP_MARK}*" if recursive else f".*{_TEMP_MARK}*"
    for tmp in folder.glob(pattern):
        try:
            pid = int(tmp.name.rsplit(_TEMP_MARK, 1)[1].split("-", 1)[0])
        except (IndexError, ValueError):
            continue
        if not _alive(pid):
            try:
                tmp.unlink()
                removed.append(tmp)
            except OSError:
                pass
    return removed
