"""Safe file writes: a temporary file next to the target, then one os.replace.

Saving over an existing file keeps its mode and ownership, a symlink is written
through to its target (the link stays a link), and a writable file in a folder
where no temporary file can be made is rewritten in place from a finished copy,
with a backup put back if that write fails.

An in-place write keeps its backup in a per-user folder (backup_dir, not /tmp, which may be
memory), with a small record naming the target, until the new bytes are on disk. A process
killed in between leaves both: recover_interrupted_writes, run at the next start, puts the old
contents back into a target left torn and says so.
"""

from __future__ import annotations

import errno
import hashlib
import json
import logging
import os
import secrets
import shutil
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

log = logging.getLogger(__name__)


@contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield an empty temporary file for a writer that wants a file name.

    When the block ends normally the temporary file replaces path in one step; on any
    error it is removed and path is left as it was. A new file gets the permissions a
    plain open() gives (mkstemp's would be owner-only); an existing one keeps its own.
    """
    path = Path(os.path.realpath(path)) if Path(path).is_symlink() else Path(path)
    try:
        old = path.stat()
    except FileNotFoundError:
        old = None
    temp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        os.close(os.open(temp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
    except PermissionError:
        if old is None or not stat.S_ISREG(old.st_mode) or not os.access(path, os.W_OK):
            raise
        log.info("%s: no temporary file can be made in its folder; writing it in place", path)
        with _in_place(path) as staged:
            yield staged
        return
    try:
        if old is not None and not _copy_identity(old, temp, path):
            temp.unlink(missing_ok=True)
            with _in_place(path) as staged:  # replacing the file would give it to us
                yield staged
            return
        yield temp
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def file_digest(path: str | os.PathLike[str]) -> str:
    """A hash of a file's bytes (BLAKE2b, 128 bits, hex): tells the same file from a replaced one."""
    h = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


@contextmanager
def atomic_write(path: str | os.PathLike[str]) -> Iterator[IO[bytes]]:
    """Open a temporary file for writing; on success it replaces path in one step (see atomic_path)."""
    with atomic_path(path) as temp, open(temp, "wb") as file:
        yield file
        file.flush()
        os.fsync(file.fileno())


def _copy_identity(old: os.stat_result, temp: Path, path: Path) -> bool:
    """Give temp the mode and owner of the file it replaces; False when the owner cannot be kept
    and the file is writable in place (a file of another user that we may write)."""
    os.chmod(temp, stat.S_IMODE(old.st_mode))
    mine = temp.stat()
    if (mine.st_uid, mine.st_gid) == (old.st_uid, old.st_gid):
        return True
    try:
        os.chown(temp, old.st_uid, old.st_gid)
    except PermissionError:
        if stat.S_ISREG(old.st_mode) and os.access(path, os.W_OK):
            return False
        return True  # nothing better possible: the file changes hands as before
    os.chmod(temp, stat.S_IMODE(old.st_mode))  # chown clears set-uid/set-gid bits
    return True


def backup_dir() -> Path:
    """Where in-place writes keep the old contents until the new ones are on disk: under the
    user's data folder (XDG_DATA_HOME), which survives a crash and a reboot."""
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(base) / "inpaint-gui" / "backups"


@contextmanager
def _in_place(path: Path) -> Iterator[Path]:
    """Stage the new contents, then copy them over path's bytes.

    The old contents are backed up first (with a record naming path, see
    recover_interrupted_writes) and put back if the copy fails; if even that fails, the
    error names the backup, which is then kept.
    """
    folder = _backup_folder()
    token = secrets.token_hex(8)
    staged = _temp_file(folder, f"{token}.new")
    try:
        yield staged
        backup = _temp_file(folder, f"{token}.old")
        keep_backup = False
        record = None
        try:
            shutil.copyfile(path, backup)
            _fsync(backup)
            if folder is not None:
                record = _Record.write(folder, path, backup, staged)
            with open(staged, "rb") as src, open(path, "r+b") as dst:
                size = os.fstat(src.fileno()).st_size
                _reserve(dst, size)
                try:
                    _copy_into(src, dst)
                    dst.truncate()
                    dst.flush()
                    os.fsync(dst.fileno())
                except BaseException:
                    try:
                        with open(backup, "rb") as saved:
                            _overwrite(saved, dst)
                    except OSError as e:
                        keep_backup = True
                        why = f"{path} could not be written nor restored; its old contents are in {backup}"
                        raise OSError(e.errno, why) from e
                    raise
        finally:
            if not keep_backup:
                if record is not None:
                    record.remove()
                backup.unlink(missing_ok=True)
            elif record is not None:
                record.release()
    finally:
        staged.unlink(missing_ok=True)


def _backup_folder() -> Path | None:
    folder = backup_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        log.warning("cannot use %s for backups (%s); using the system's temp folder", folder, e)
        return None
    return folder if os.access(folder, os.W_OK) else None


def _temp_file(folder: Path | None, name: str) -> Path:
    path = Path(folder or tempfile.gettempdir()) / f".inpaint-{name}"
    os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    return path


def _fsync(path: Path) -> None:
    with open(path, "rb") as f:
        os.fsync(f.fileno())


def _overwrite(src: IO[bytes], dst: IO[bytes]) -> None:
    dst.seek(0)
    _copy_into(src, dst)
    dst.truncate()
    dst.flush()
    os.fsync(dst.fileno())


class _Record:
    """A JSON file beside a backup: which file it backs up and the digests of its old and new
    contents. Held locked (where the system has flock) while the write runs, so recovery never
    touches the write of a live process."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path, self._fd = path, fd

    @classmethod
    def write(cls, folder: Path, target: Path, backup: Path, staged: Path) -> _Record:
        path = backup.with_suffix(".json")  # same token as the backup and the staged file
        meta = {
            "target": str(target),
            "backup": backup.name,
            "old": file_digest(backup),
            "new": file_digest(staged),
            "pid": os.getpid(),
        }
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        _lock(fd, block=True)
        os.write(fd, json.dumps(meta).encode())
        os.fsync(fd)
        return cls(path, fd)

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)
        self.release()

    def release(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


def _lock(fd: int, block: bool) -> bool:
    try:
        import fcntl
    except ImportError:  # Windows: no flock; a record is then only read after its process ended
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if block else fcntl.LOCK_NB))
    except BlockingIOError:
        return False
    return True


def recover_interrupted_writes(folder: Path | None = None) -> list[str]:
    """Finish what in-place writes killed midway left: a target holding neither its old nor its
    new contents gets its old contents back. Returns one line per file for the user."""
    folder = folder or backup_dir()
    if not folder.is_dir():
        return []
    told = []
    for record in sorted(folder.glob("*.json")):
        try:
            fd = os.open(record, os.O_RDWR)
        except OSError:
            continue
        try:
            if not _lock(fd, block=False):
                continue  # a running process is writing that file now
            line = _recover(folder, record)
        finally:
            os.close(fd)
        if line:
            told.append(line)
    return told


def _recover(folder: Path, record: Path) -> str:
    try:
        meta = json.loads(record.read_text())
        target, backup = Path(meta["target"]), folder / Path(str(meta["backup"])).name
        old, new = str(meta["old"]), str(meta["new"])
    except (OSError, ValueError, KeyError, TypeError) as e:
        log.warning("%s: unreadable backup record (%s); left as it is", record, e)
        return ""

    def done() -> None:
        record.unlink(missing_ok=True)
        backup.unlink(missing_ok=True)
        backup.with_suffix(".new").unlink(missing_ok=True)  # the staged new contents

    try:
        now = file_digest(target) if target.is_file() else None
    except OSError as e:
        return f"{target} could not be checked after an interrupted save ({e}); its old bytes: {backup}"
    if now in (old, new):
        done()
        return ""
    if not backup.is_file():
        record.unlink(missing_ok=True)
        return ""
    if now is None:
        return f"{target} is gone after an interrupted save; its old contents are in {backup}"
    try:
        with open(backup, "rb") as src, open(target, "r+b") as dst:
            _overwrite(src, dst)
    except OSError as e:
        return f"{target} was left half-written by an interrupted save ({e}); its old bytes: {backup}"
    done()
    return f"{target} was left half-written by an interrupted save: its previous contents were put back"


def _reserve(file: IO[bytes], size: int) -> None:
    """Claim the disk space first, so a full disk fails before the old bytes are touched."""
    fallocate = getattr(os, "posix_fallocate", None)
    if fallocate is None or size == 0:
        return
    try:
        fallocate(file.fileno(), 0, size)
    except OSError as e:
        if e.errno not in (errno.EOPNOTSUPP, errno.EINVAL):  # a file system that cannot: write anyway
            raise


def _copy_into(src: IO[bytes], dst: IO[bytes]) -> None:
    shutil.copyfileobj(src, dst, 1 << 20)
