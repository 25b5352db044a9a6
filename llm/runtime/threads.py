"""How many threads llama.cpp gets when ``LLM_THREADS`` is unset: the physical cores this process may use.

Generation is bound by memory bandwidth and spins a thread per core; llama.cpp advises physical cores, and a
thread on each hyper-threaded sibling or on a CPU the process may not run on only adds contention (the README's
thread table has the figures). "May use" is the smallest of three limits, each read where Linux states it:

- the CPU affinity mask (``taskset``, ``docker --cpuset-cpus``): ``os.sched_getaffinity``;
- the cgroup CPU quota (``docker --cpus``, Kubernetes limits): ``cpu.max`` (cgroup v2) or ``cpu.cfs_quota_us`` over
  ``cpu.cfs_period_us`` (v1), rounded up;
- physical cores among the allowed CPUs: distinct ``(physical id, core id)`` in ``/proc/cpuinfo``.

Where a limit cannot be read (macOS, Windows, a hidden ``/proc``) it is left out, down to ``os.cpu_count()``.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

CGROUP = Path("/sys/fs/cgroup")
CPUINFO = Path("/proc/cpuinfo")


def allowed_cpus() -> set[int]:
    """The CPU numbers this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return set(os.sched_getaffinity(0))
    return set(range(os.cpu_count() or 1))


def cgroup_quota(root: Path = CGROUP) -> int | None:
    """The CPU quota in whole CPUs (rounded up), or None when there is none or it cannot be read."""
    try:
        quota, _, period = (root / "cpu.max").read_text().partition(" ")
        if quota.strip() == "max":
            return None
        return max(1, math.ceil(int(quota) / int(period)))
    except (OSError, ValueError):
        pass
    for v1 in (root / "cpu", root / "cpu,cpuacct"):
        try:
            quota_us = int((v1 / "cpu.cfs_quota_us").read_text())
            period_us = int((v1 / "cpu.cfs_period_us").read_text())
        except (OSError, ValueError):
            continue
        return max(1, math.ceil(quota_us / period_us)) if quota_us > 0 and period_us > 0 else None
    return None


def physical_cores(allowed: set[int], cpuinfo: Path = CPUINFO) -> int | None:
    """Distinct physical cores among the ``allowed`` CPUs, or None when ``cpuinfo`` does not say."""
    try:
        text = cpuinfo.read_text()
    except OSError:
        return None
    cores = set()
    for block in text.split("\n\n"):
        fields = dict(
            (key.strip(), value.strip()) for key, _, value in (line.partition(":") for line in block.splitlines())
        )
        if "processor" not in fields or "core id" not in fields:
            continue
        if int(fields["processor"]) in allowed:
            cores.add((fields.get("physical id", "0"), fields["core id"]))
    return len(cores) or None


def default_threads(root: Path = CGROUP, cpuinfo: Path = CPUINFO) -> int:
    """Threads for generation: physical cores among the allowed CPUs, within the cgroup quota; at least 1."""
    allowed = allowed_cpus()
    limits = [len(allowed), cgroup_quota(root), physical_cores(allowed, cpuinfo)]
    return max(1, min(limit for limit in limits if limit))
