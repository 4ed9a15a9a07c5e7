"""Files the tool writes: atomically (temp file, fsync, rename), journals appended durably.

One permission policy for everything the tool writes (outputs, manifests, journals,
logs, lock files): files are 0600 and folders it creates 0700, whatever the umask;
they hold clinical material or its traces.
"""
from __future__ import annotations

import errno
import json
import os
import shutil
import tempfile
from pathlib import Path

FILE_MODE = 0o600
DIR_MODE = 0o700


def ensure_dir(folder: Path) -> None:
    """Create ``folder`` and any missing parents as 0700 (existing folders are left as they are)."""
    folder = Path(folder)
    if folder.is_dir():
        return
    missing = []
    p = folder
    while not p.exists() and p != p.parent:
        missing.append(p)
        p = p.parent
    for q in reversed(missing):
        try:
            q.mkdir(mode=DIR_MODE)
        except FileExistsError:
            if not q.is_dir():
                raise
            continue
        os.chmod(q, DIR_MODE)  # mkdir's mode is filtered by the umask; the policy is not


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` (mode 0600) so that a crash leaves either the old file or the new one."""
    path = Path(path)
    ensure_dir(path.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)  # 0600
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_dir(path.parent)


def atomic_write_text(path: Path, text: str) -> None:
    """``atomic_write_bytes`` of ``text`` as UTF-8 (line ends as given)."""
    atomic_write_bytes(path, text.encode("utf-8"))


def _fsync_dir(folder: Path) -> None:
    """Make the rename itself durable (POSIX); a no-op where folders can't be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def open_private_append(path: Path):
    """A text file opened for appending, created 0600 (an existing one is brought to 0600)."""
    ensure_dir(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)
        return os.fdopen(fd, "a", encoding="utf-8", errors="backslashreplace")
    except BaseException:
        os.close(fd)
        raise


def append_line_durable(fh, line: str) -> None:
    fh.write(line if line.endswith("\n") else line + "\n")
    fh.flush()
    os.fsync(fh.fileno())


def read_jsonl_rows(path: Path) -> list[dict]:
    """Rows of a JSONL file, ignoring a torn last line (from a crash mid-append)."""
    if not path.exists():
        return []
    rows = []
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return rows


def clean_stale_temp_files(folder: Path) -> int:
    """Remove temporary files left by a killed run (they are never complete outputs)."""
    n = 0
    if folder.is_dir():
        for tmp in folder.rglob(".*.tmp"):
            try:
                tmp.unlink()
                n += 1
            except OSError:
                pass
    return n


def clean_stale_conll_dirs(folder: Path) -> int:
    """Remove ``.notesynth-conll-*`` work folders older versions left beside a CoNLL output.

    They hold plain copies of the input notes; nothing of this version creates them."""
    n = 0
    try:
        entries = list(Path(folder).glob(".notesynth-conll-*"))
    except OSError:
        return 0
    for d in entries:
        try:
            if d.is_dir() and not d.is_symlink():
                shutil.rmtree(d)
                n += 1
        except OSError:
            pass
    return n


# ---------------------------------------------------------------- one run per output

class OutputBusy(RuntimeError):
    """Another notesynth run holds the lock on this output."""


class OutputLock:
    """An exclusive ``flock`` on a lock file beside a path (``.NAME.lock``), held for a whole run.

    The lock file is 0600 and removed on release; a run killed with -9 leaves the file but
    not the lock (the kernel drops it), so the next run goes ahead.
    """

    def __init__(self, target: Path):
        target = Path(os.path.abspath(target))
        self.target = target
        self.path = target.parent / f".{target.name}.lock"
        self._fd: int | None = None

    def acquire(self) -> "OutputLock":
        import fcntl

        ensure_dir(self.path.parent)
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, FILE_MODE)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                holder = ""
                try:
                    holder = os.read(fd, 32).decode("ascii", "replace").strip()
                except OSError:
                    pass
                os.close(fd)
                if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    pid = f" (pid {holder})" if holder.isdigit() else ""
                    raise OutputBusy(f"output {self.target} is in use by another notesynth run{pid}; "
                                     "wait for it to finish or choose another output") from None
                raise
            # the file we locked must still be the one at the path (a finishing run unlinks it)
            try:
                same = os.path.samestat(os.fstat(fd), os.stat(self.path))
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        os.fchmod(fd, FILE_MODE)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is None:
            return
        try:
            os.unlink(self.path)
        except OSError:
            pass
        os.close(self._fd)
        self._fd = None
