"""Lambda's CPU share on this machine: a cgroup whose CPU quota is ``memory / 1769 MB`` of one CPU.

Lambda gives a function CPU in proportion to its memory, one full vCPU at 1,769 MB. A process started
under :func:`limited` gets that share through the kernel's CFS quota: cgroup v1's ``cpu.cfs_quota_us`` or
v2's ``cpu.max``, whichever this machine mounts and lets us (root) write.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

FULL_CPU_MB = 1769
PERIOD_US = 100_000
V1 = Path("/sys/fs/cgroup/cpu")
V2 = Path("/sys/fs/cgroup")


def share(memory_mb: int) -> float:
    """The fraction of one CPU Lambda gives ``memory_mb``."""
    return min(memory_mb / FULL_CPU_MB, 1.0)


def why_not() -> str | None:
    """Why no quota can be set here, or None when it can."""
    if (V1 / "cpu.cfs_quota_us").exists():
        return None if os.access(V1, os.W_OK) else "cgroup v1's cpu controller is not writable (not root)"
    if (V2 / "cgroup.controllers").exists():
        if "cpu" not in (V2 / "cgroup.subtree_control").read_text().split():
            return "cgroup v2 without the cpu controller delegated to child groups"
        return None if os.access(V2, os.W_OK) else "cgroup v2 is not writable (not root)"
    return "no cgroup cpu controller is mounted"


@contextmanager
def limited(memory_mb: int) -> Iterator[list[str]]:
    """A new cgroup with the CPU share of ``memory_mb``; yields a command prefix that runs a program inside it."""
    quota = max(1000, round(PERIOD_US * share(memory_mb)))
    name = f"counter-bench-{uuid.uuid4().hex[:8]}"
    if (V1 / "cpu.cfs_quota_us").exists():
        group = V1 / name
        group.mkdir()
        (group / "cpu.cfs_period_us").write_text(str(PERIOD_US))
        (group / "cpu.cfs_quota_us").write_text(str(quota))
    else:
        group = V2 / name
        group.mkdir()
        (group / "cpu.max").write_text(f"{quota} {PERIOD_US}")
    try:
        # The shell moves itself into the group, then becomes the program: its children stay inside.
        yield [shutil.which("sh") or "/bin/sh", "-c", 'echo $$ > "$0" && exec "$@"', str(group / "cgroup.procs")]
    finally:
        group.rmdir()  # the group's processes have ended by now
