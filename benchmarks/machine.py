"""What machine a benchmark ran on, and how much memory a process used, for the figures it prints."""

from __future__ import annotations

import platform
import resource
from pathlib import Path


def cpu_model() -> str:
    """The CPU model name from /proc/cpuinfo (or the platform's processor string)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def peak_mb() -> float:
    """This process's peak resident memory in MB.

    On Linux, ``VmHWM`` of the process's own address space: ``ru_maxrss`` also counts the
    parent's memory at the time of the fork, which would floor every child process at the
    size of the benchmark that started it.
    """
    status = Path("/proc/self/status")
    if status.is_file():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
