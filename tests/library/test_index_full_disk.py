"""A full disk while the index is saved (issue 27, item 5): hnswlib's save does not raise when
its writes fail, so the saved file is checked before it replaces the good one, and an empty
or short file is never recorded as valid.

The full disk is real to hnswlib: the save runs under RLIMIT_FSIZE, so the kernel refuses
every write past the limit (EFBIG) exactly as a full disk refuses it (ENOSPC), and hnswlib's
C++ stream ignores both."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import resource
import shutil
import signal
import subprocess

import numpy as np
import pytest

from tests.plugins.library import stored_embeddings
from vspectrum_app.core.atomic import IncompleteWriteError, Written, atomic_replace_from
from vspectrum_app.library import index_integrity, indexer
from vspectrum_app.library.index import VectorIndex
from vspectrum_app.library.indexer import index_path, open_index

DIM = 16


@contextlib.contextmanager
def file_size_limit(limit: int):
    old_handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of being killed
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, old_handler)


class DiskFillsDuringSave:
    """The real hnswlib index, whose save_index meets a disk with ``room`` bytes left."""

    def __init__(self, hnsw, room: int):
        self._hnsw, self._room = hnsw, room

    def __getattr__(self, name):
        return getattr(self._hnsw, name)

    def save_index(self, path: str) -> None:
        with file_size_limit(self._room):
            self._hnsw.save_index(path)


@pytest.mark.parametrize("room", [0, 4096])
def test_a_save_that_hits_a_full_disk_keeps_the_good_index_and_its_record(workspace, room):
    key, ids, vectors = stored_embeddings(workspace)
    index, _ = open_index(workspace, key, DIM)  # saved and recorded
    path = index_path(workspace, key)
    good = path.read_bytes()
    record = dict(workspace.db.execute("SELECT sha256, size, count FROM index_files").fetchone())
    assert record["sha256"] == hashlib.sha256(good).hexdigest() and len(good) > room

    index.add([10_000], vectors[:1])  # one more vector to save
    index._hnsw = DiskFillsDuringSave(index._hnsw, room)
    with pytest.raises(IncompleteWriteError, match=f"^writing {path.name} stopped after {room:,} of "):
        indexer.save_index(workspace, key, index)
    assert path.read_bytes() == good
    assert dict(workspace.db.execute("SELECT sha256, size, count FROM index_files").fetchone()) == record
    assert not list(path.parent.glob(f".{path.name}.*.tmp"))  # no half-written leftovers
    assert index_integrity.problem(workspace, key, path, DIM) is None

    index._hnsw = index._hnsw._hnsw  # room again: the save goes through and is recorded
    indexer.save_index(workspace, key, index)
    assert index_integrity.recorded_count(workspace, key) == len(ids) + 1
    assert index_integrity.problem(workspace, key, path, DIM) is None


def test_the_recorded_checksum_is_the_checked_files(workspace):
    key, _, _ = stored_embeddings(workspace, n=5)
    open_index(workspace, key, DIM)
    path = index_path(workspace, key)
    row = workspace.db.execute("SELECT sha256, size FROM index_files").fetchone()
    assert (row["sha256"], row["size"]) == (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_size)


def test_an_empty_file_is_never_recorded_as_valid(workspace, tmp_path):
    key, _, _ = stored_embeddings(workspace, n=5)
    open_index(workspace, key, DIM)
    before = workspace.db.execute("SELECT sha256 FROM index_files").fetchone()[0]
    empty = tmp_path / "empty.bin"
    empty.write_bytes(b"")
    with pytest.raises(index_integrity.UnsavedIndexError, match="is empty"):
        index_integrity.record(workspace, key, empty, 5, DIM)
    # a file other than the one checked (another process saved over it): not recorded
    assert not index_integrity.record(workspace, key, index_path(workspace, key), 5, DIM, Written(1, "0" * 64, 1))
    assert workspace.db.execute("SELECT sha256 FROM index_files").fetchone()[0] == before


def test_atomic_replace_from_checks_before_it_replaces(tmp_path):
    target = tmp_path / "f.bin"
    target.write_bytes(b"good")

    def write(data):
        return lambda tmp: open(tmp, "wb").write(data)

    with pytest.raises(IncompleteWriteError, match="stopped after 0 bytes"):
        atomic_replace_from(target, write(b""))
    with pytest.raises(IncompleteWriteError, match="stopped after 3 of 10 bytes"):
        atomic_replace_from(target, write(b"abc"), expected_size=10)

    def reject(tmp):
        raise ValueError("not a valid file")

    with pytest.raises(ValueError, match="not a valid file"):
        atomic_replace_from(target, write(b"abcdef"), check=reject)
    assert target.read_bytes() == b"good"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.bin"]
    written = atomic_replace_from(target, write(b"new data"), expected_size=8)
    assert written == Written(8, hashlib.sha256(b"new data").hexdigest(), target.stat().st_ino)
    assert target.read_bytes() == b"new data"


def test_a_save_by_another_process_meanwhile_is_not_recorded_as_ours(workspace):
    key, _, vectors = stored_embeddings(workspace, n=5)
    index, _ = open_index(workspace, key, DIM)
    ours = index.save()
    other, _ = open_index(workspace, key, DIM)  # another process's copy, one vector more, saved after ours
    other.add([10_000], vectors[:1])
    theirs = other.save()
    assert index_integrity.record(workspace, key, other.path, 6, DIM, theirs)
    assert not index_integrity.record(workspace, key, index.path, 5, DIM, ours)  # late: the file is theirs
    assert index_integrity.recorded_count(workspace, key) == 6
    assert index_integrity.problem(workspace, key, index.path, DIM) is None


def test_a_header_that_does_not_match_the_index_is_refused(workspace):
    key, _, vectors = stored_embeddings(workspace, n=5)
    index, _ = open_index(workspace, key, DIM)
    good = index.path.read_bytes()

    class WrongFile(DiskFillsDuringSave):
        def save_index(self, path):  # as large as expected, but another index's header
            self._hnsw.save_index(path)
            with open(path, "r+b") as f:
                f.seek(16)
                f.write(np.uint64(999).tobytes())

    index._hnsw = WrongFile(index._hnsw, 0)
    with pytest.raises(IncompleteWriteError, match="does not hold the 5 vectors"):
        index.save()
    assert index.path.read_bytes() == good


@pytest.fixture
def tmpfs(tmp_path):
    """A 2 MB tmpfs (we run as root in CI); skipped where mounting is not allowed."""
    where = tmp_path / "mnt"
    where.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(where)], capture_output=True).returncode:
        pytest.skip("cannot mount a tmpfs here")
    yield where
    subprocess.run(["umount", "-l", str(where)], capture_output=True)


def test_a_really_full_disk_says_so_and_keeps_the_index(tmpfs):
    rng = np.random.default_rng(1)
    index = VectorIndex.create(tmpfs / "index.bin", DIM)
    index.add(np.arange(10), rng.normal(size=(10, DIM)).astype(np.float32))
    index.save()
    good = (tmpfs / "index.bin").read_bytes()
    (tmpfs / "filler").write_bytes(b"\0" * (shutil.disk_usage(tmpfs).free - 200_000))
    index.add(np.arange(10, 3000), rng.normal(size=(2990, DIM)).astype(np.float32))  # about 800 KB saved
    with pytest.raises(IncompleteWriteError) as err:
        index.save()
    assert err.value.errno == errno.ENOSPC and str(err.value).startswith(f"the disk holding {tmpfs} is full")
    assert (tmpfs / "index.bin").read_bytes() == good
    assert sorted(p.name for p in tmpfs.iterdir()) == ["filler", "index.bin", "index.json"]
