"""The default thread count: physical cores this process may use, within its affinity and cgroup quota."""

from __future__ import annotations

from pathlib import Path

import pytest

from llm.runtime import threads
from llm.runtime.threads import cgroup_quota, default_threads, physical_cores


def cpuinfo(tmp_path: Path, cores: int, siblings: int = 2, sockets: int = 1) -> Path:
    """A /proc/cpuinfo of ``sockets`` × ``cores`` cores with ``siblings`` hyper-threads each, numbered as Linux does
    (every core's first thread, then every second thread)."""
    blocks = []
    for thread in range(siblings):
        for socket in range(sockets):
            for core in range(cores):
                number = thread * sockets * cores + socket * cores + core
                blocks.append(f"processor\t: {number}\nphysical id\t: {socket}\ncore id\t\t: {core}\nflags\t\t: avx2")
    path = tmp_path / "cpuinfo"
    path.write_text("\n\n".join(blocks) + "\n")
    return path


def cgroup(tmp_path: Path, v2: str | None = None, v1: tuple[int, int] | None = None) -> Path:
    root = tmp_path / "cgroup"
    root.mkdir()
    if v2 is not None:
        (root / "cpu.max").write_text(v2 + "\n")
    if v1 is not None:
        (root / "cpu").mkdir()
        (root / "cpu" / "cpu.cfs_quota_us").write_text(f"{v1[0]}\n")
        (root / "cpu" / "cpu.cfs_period_us").write_text(f"{v1[1]}\n")
    return root


def test_a_hyper_threaded_machine_gets_one_thread_a_core(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(threads, "allowed_cpus", lambda: set(range(16)))
    assert default_threads(cgroup(tmp_path), cpuinfo(tmp_path, cores=8)) == 8


def test_two_sockets_count_their_cores_apart(tmp_path: Path) -> None:
    assert physical_cores(set(range(32)), cpuinfo(tmp_path, cores=8, sockets=2)) == 16


def test_the_affinity_mask_limits_the_cores(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """taskset -c 0,8,1: CPUs 0 and 8 are one core's two threads, 1 is another core."""
    monkeypatch.setattr(threads, "allowed_cpus", lambda: {0, 8, 1})
    assert default_threads(cgroup(tmp_path), cpuinfo(tmp_path, cores=8)) == 2


@pytest.mark.parametrize(
    ("v2", "v1", "expected"),
    [("400000 100000", None, 4), ("150000 100000", None, 2), ("max 100000", None, None), (None, (200000, 100000), 2),
     (None, (-1, 100000), None), (None, None, None), ("garbage", None, None)],
)  # fmt: skip
def test_the_cgroup_quota_is_read_in_whole_cpus(
    tmp_path: Path, v2: str | None, v1: tuple[int, int] | None, expected: int | None
) -> None:
    assert cgroup_quota(cgroup(tmp_path, v2, v1)) == expected


def test_a_container_limited_to_four_cpus_on_a_big_host_uses_four(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(threads, "allowed_cpus", lambda: set(range(128)))
    assert default_threads(cgroup(tmp_path, "400000 100000"), cpuinfo(tmp_path, cores=32, sockets=2)) == 4


def test_without_proc_or_cgroup_it_falls_back_to_the_allowed_cpus(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(threads, "allowed_cpus", lambda: {0, 1, 2})
    assert default_threads(tmp_path / "none", tmp_path / "no-cpuinfo") == 3


def test_this_machine_gets_a_sane_default() -> None:
    assert 1 <= default_threads() <= len(threads.allowed_cpus())
