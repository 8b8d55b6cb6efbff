from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from inpaint_gui.core.files import atomic_path, atomic_write


def test_replaces_in_one_step_with_normal_permissions(tmp_path):
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    with atomic_write(target) as f:
        f.write(b"new")
        assert target.read_bytes() == b"old"  # not visible until the block ends
    assert target.read_bytes() == b"new"
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]


def test_failure_keeps_the_old_file_and_leaves_no_temp(tmp_path):
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic_path(target) as temp:
        temp.write_bytes(b"half")
        raise RuntimeError("disk full")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]


def _umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask


def test_saving_over_a_file_keeps_its_mode(tmp_path):
    target = tmp_path / "private.png"
    target.write_bytes(b"old")
    target.chmod(0o600)
    with atomic_write(target) as f:
        f.write(b"new")
    assert target.read_bytes() == b"new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_saving_over_a_file_keeps_its_owner(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("only root can give a file to another owner")
    target = tmp_path / "theirs.png"
    target.write_bytes(b"old")
    os.chown(target, 12345, 23456)
    with atomic_write(target) as f:
        f.write(b"new")
    st = target.stat()
    assert (st.st_uid, st.st_gid) == (12345, 23456)
    assert target.read_bytes() == b"new"


def test_saving_through_a_symlink_writes_its_target(tmp_path):
    real = tmp_path / "photos" / "real.png"
    real.parent.mkdir()
    real.write_bytes(b"old")
    link = tmp_path / "link.png"
    link.symlink_to(real)
    with atomic_write(link) as f:
        f.write(b"new")
    assert link.is_symlink()
    assert real.read_bytes() == b"new"
    assert sorted(p.name for p in real.parent.iterdir()) == ["real.png"]


def test_a_new_file_gets_normal_permissions(tmp_path):
    target = tmp_path / "new.png"
    with atomic_write(target) as f:
        f.write(b"x")
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~_umask()


def _deny_temp_files(monkeypatch, folder):
    """Make creating a new file in folder fail as a non-writable folder does (the tests run as root,
    which no chmod stops)."""
    real_open = os.open

    def fake_open(path, flags, *args, **kwargs):
        if flags & os.O_CREAT and os.path.dirname(os.fspath(path)) == str(folder):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", fake_open)


def test_a_writable_file_in_a_read_only_folder_is_written_in_place(tmp_path, monkeypatch):
    target = tmp_path / "out.png"
    target.write_bytes(b"old contents")
    target.chmod(0o640)
    inode = target.stat().st_ino
    _deny_temp_files(monkeypatch, tmp_path)
    with atomic_write(target) as f:
        f.write(b"new")
    assert target.read_bytes() == b"new"
    assert target.stat().st_ino == inode
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["out.png"]


def test_a_failed_in_place_write_keeps_the_original(tmp_path, monkeypatch):
    target = tmp_path / "out.png"
    target.write_bytes(b"precious")
    _deny_temp_files(monkeypatch, tmp_path)
    with pytest.raises(RuntimeError), atomic_write(target) as f:
        f.write(b"half")
        raise RuntimeError("encoder failed")
    assert target.read_bytes() == b"precious"


def test_an_in_place_write_that_fails_midway_restores_the_original(tmp_path, monkeypatch):
    target = tmp_path / "out.png"
    target.write_bytes(b"precious" * 1000)
    _deny_temp_files(monkeypatch, tmp_path)
    import inpaint_gui.core.files as files

    real_copy = files._copy_into
    calls = []

    def failing_copy(src, dst):
        calls.append(1)
        if len(calls) == 1:  # the new contents: fail after writing some of them
            dst.write(b"torn")
            raise OSError(28, "No space left on device")
        return real_copy(src, dst)  # restoring the backup

    monkeypatch.setattr(files, "_copy_into", failing_copy)
    with pytest.raises(OSError, match="No space"), atomic_write(target) as f:
        f.write(b"new" * 5000)
    assert target.read_bytes() == b"precious" * 1000


def test_a_real_read_only_folder_as_another_user():
    """The same as above without faking: a user who may write the file but not its folder."""
    import shutil
    import subprocess
    import sys

    # files.py needs only the standard library: a system Python can run it as user nobody
    # when the venv's own Python lives in a folder nobody may read.
    python = shutil.which("python3", path="/usr/bin:/bin") or sys.executable

    if os.geteuid() != 0:
        pytest.skip("needs root to run as another user")
    import tempfile

    base = Path(tempfile.mkdtemp(prefix="ro-folder-"))  # pytest's tmp_path is root-only
    base.chmod(0o755)
    folder = base / "ro"
    folder.mkdir()
    target = folder / "out.png"
    target.write_bytes(b"old")
    os.chown(target, 65534, 65534)
    target.chmod(0o600)
    folder.chmod(0o755)  # owned by root: nobody cannot create files in it
    code = (
        "import os, sys; os.setgid(65534); os.setuid(65534); "
        "from inpaint_gui.core.files import atomic_write\n"
        "with atomic_write(sys.argv[1]) as f: f.write(b'new')"
    )
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root)}
    probe = "import os; os.setgid(65534); os.setuid(65534); import logging, inpaint_gui.core.files"
    if subprocess.run([python, "-c", probe], cwd=root, env=env, capture_output=True).returncode:
        pytest.skip("this Python cannot run as user nobody")
    subprocess.run(
        [python, "-c", code, str(target)],
        check=True,
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
    )
    try:
        assert target.read_bytes() == b"new"
        st = target.stat()
        assert (st.st_uid, stat.S_IMODE(st.st_mode)) == (65534, 0o600)
    finally:
        shutil.rmtree(base)


_KILLED_WRITER = """
import os, sys, time
from pathlib import Path
import numpy as np
from PIL import Image
import inpaint_gui.core.files as files

target, marker = Path(sys.argv[1]), Path(sys.argv[2])
real_open = os.open

def no_temp_files(path, flags, *args, **kwargs):  # the folder is not writable (see _deny_temp_files)
    if flags & os.O_CREAT and os.path.dirname(os.fspath(path)) == str(target.parent):
        raise PermissionError(13, "Permission denied", os.fspath(path))
    return real_open(path, flags, *args, **kwargs)

def stalled_copy(src, dst):  # the first MB of the new file lands, then the process is killed
    dst.write(src.read(1 << 20))
    dst.flush()
    os.fsync(dst.fileno())
    marker.write_text("copying")
    time.sleep(120)

os.open = no_temp_files
files._copy_into = stalled_copy
pixels = np.random.default_rng(2).integers(0, 256, (1200, 1200, 3), dtype=np.uint8)
with files.atomic_path(target) as temp:
    Image.fromarray(pixels).save(temp, format="PNG")
"""


def test_a_save_killed_mid_copy_is_put_back_at_the_next_start(tmp_path, monkeypatch):
    """A real SIGKILL while a file in a non-writable folder is rewritten in place: the target is
    torn, and what the next start runs puts its old contents back from a backup outside /tmp."""
    import signal
    import subprocess
    import sys
    import time

    import numpy as np
    from PIL import Image

    from inpaint_gui.core.files import backup_dir, recover_interrupted_writes

    data = tmp_path / "data"
    monkeypatch.setenv("XDG_DATA_HOME", str(data))
    folder = tmp_path / "photos"
    folder.mkdir()
    target = folder / "photo.png"
    old = np.random.default_rng(1).integers(0, 256, (1200, 1200, 3), dtype=np.uint8)
    Image.fromarray(old).save(target)
    old_bytes = target.read_bytes()
    marker = tmp_path / "copying"
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root), "XDG_DATA_HOME": str(data)}
    writer = subprocess.Popen([sys.executable, "-c", _KILLED_WRITER, str(target), str(marker)], env=env)
    try:
        deadline = time.monotonic() + 60
        while not marker.exists() and writer.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert marker.exists(), "the writer never reached the copy"
        os.kill(writer.pid, signal.SIGKILL)
    finally:
        if writer.poll() is None:
            writer.kill()
        writer.wait(10)
    assert writer.returncode == -signal.SIGKILL
    assert target.read_bytes() != old_bytes  # torn: the new file's start over the old one's rest
    with pytest.raises(OSError):
        Image.open(target).load()

    (line,) = recover_interrupted_writes()
    assert str(target) in line and "put back" in line
    assert target.read_bytes() == old_bytes
    np.testing.assert_array_equal(np.asarray(Image.open(target)), old)
    assert list(backup_dir().iterdir()) == []  # backup, record and staged copy all gone
    assert recover_interrupted_writes() == []


def test_recovery_leaves_a_write_in_progress_alone(tmp_path, monkeypatch):
    """A record still locked by its (live) writer is not touched."""
    import inpaint_gui.core.files as files

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    target = tmp_path / "out.png"
    target.write_bytes(b"old" * 100)
    _deny_temp_files(monkeypatch, tmp_path)
    real_copy = files._copy_into
    seen = []

    def copy_and_recover(src, dst):
        dst.write(b"torn")
        dst.flush()
        seen.append(files.recover_interrupted_writes())  # as another window starting now would
        dst.seek(0)
        real_copy(src, dst)

    monkeypatch.setattr(files, "_copy_into", copy_and_recover)
    with atomic_write(target) as f:
        f.write(b"new" * 100)
    assert seen == [[]]
    assert target.read_bytes() == b"new" * 100
    assert list(files.backup_dir().iterdir()) == []
