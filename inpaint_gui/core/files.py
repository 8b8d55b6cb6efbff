"""Atomic file writes: a temporary file next to the target, then one os.replace."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO


@contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield an empty temporary file next to path for a writer that wants a file name.

    When the block ends normally the temporary file replaces path in one step; on any
    error it is removed and path is left as it was. It is created with the permissions
    a plain open() gives (mkstemp's would be owner-only).
    """
    path = Path(path)
    temp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        os.close(os.open(temp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
        yield temp
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


@contextmanager
def atomic_write(path: str | os.PathLike[str]) -> Iterator[IO[bytes]]:
    """Open a temporary file next to path for writing; on success it replaces path in one step."""
    with atomic_path(path) as temp, open(temp, "wb") as file:
        yield file
        file.flush()
        os.fsync(file.fileno())
