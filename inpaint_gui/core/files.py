"""Safe file writes: a temporary file next to the target, then one os.replace.

Saving over an existing file keeps its mode and ownership, a symlink is written
through to its target (the link stays a link), and a writable file in a folder
where no temporary file can be made is rewritten in place from a finished copy,
with a backup put back if that write fails.
"""

from __future__ import annotations

import errno
import hashlib
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


@contextmanager
def _in_place(path: Path) -> Iterator[Path]:
    """Stage the new contents in the system's temp folder, then copy them over path's bytes.

    The old contents are backed up first and put back if the copy fails; if even that fails,
    the error names the backup, which is then kept.
    """
    staged = _temp_file(path.name)
    try:
        yield staged
        backup = _temp_file(path.name + ".backup")
        keep_backup = False
        try:
            shutil.copyfile(path, backup)
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
                            dst.seek(0)
                            _copy_into(saved, dst)
                            dst.truncate()
                            dst.flush()
                            os.fsync(dst.fileno())
                    except OSError as e:
                        keep_backup = True
                        why = f"{path} could not be written nor restored; its old contents are in {backup}"
                        raise OSError(e.errno, why) from e
                    raise
        finally:
            if not keep_backup:
                backup.unlink(missing_ok=True)
    finally:
        staged.unlink(missing_ok=True)


def _temp_file(name: str) -> Path:
    fd, temp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp")
    os.close(fd)
    return Path(temp)


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
