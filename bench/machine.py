"""What machine and software a run measured, recorded beside its figures."""

from __future__ import annotations

import hashlib
import os
import platform
import sqlite3
import subprocess
import time
from importlib.metadata import version
from pathlib import Path
from typing import Any

__all__ = ["describe_machine", "load_average", "sha256_leaf_rate"]

_ROOT = Path(__file__).resolve().parent.parent


def describe_machine() -> dict[str, Any]:
    """CPU, memory, Python, libraries and the commit under test."""
    return {
        "platform": platform.platform(),
        "cpu_model": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "memory_total_mb": _memory_total_mb(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "sqlalchemy": version("sqlalchemy"),
        "psycopg": version("psycopg"),
        "rfc8785": version("rfc8785"),
        "commit": _git("rev-parse", "HEAD"),
        "tracked_changes": bool(_git("status", "--porcelain", "--untracked-files=no")),
        "sha256_leaf_hashes_per_s": sha256_leaf_rate(),
    }


def load_average() -> list[float]:
    """The 1, 5 and 15 minute load averages: how busy the shared machine was."""
    return [round(load, 2) for load in os.getloadavg()]


def sha256_leaf_rate(count: int = 200_000) -> float:
    """RFC 9162 leaf hashes of 190-byte entries per second: a CPU reference."""
    data = bytes(190)
    started = time.perf_counter()
    for _ in range(count):
        hashlib.sha256(b"\x00" + data).digest()
    return count / (time.perf_counter() - started)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_total_mb() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) // 1024
    except OSError:
        pass
    return None


def _git(*args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", *args], cwd=_ROOT, capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return done.stdout.strip()
