"""Reading the files the command line is given: each with a size cap, decoded as
UTF-8, and every failure one `click.UsageError` line (exit 2)."""

from __future__ import annotations

import sys

import click

__all__ = ["read_bytes", "read_text"]


def read_bytes(name: str, limit: int) -> bytes:
    """The bytes of file `name` (`-`: standard input), at most `limit` of them."""
    try:
        if name == "-":
            data = sys.stdin.buffer.read(limit + 1)
        else:
            with open(name, "rb") as handle:
                data = handle.read(limit + 1)
    except OSError as exc:
        raise click.UsageError(f"cannot read {name}: {exc.strerror}") from exc
    if len(data) > limit:
        raise click.UsageError(f"{name} is larger than {limit} bytes")
    return data


def read_text(name: str, limit: int, *, encoding: str = "utf-8") -> str:
    """`read_bytes` decoded; `utf-8-sig` also takes a leading byte-order mark."""
    try:
        return read_bytes(name, limit).decode(encoding)
    except UnicodeDecodeError as exc:
        raise click.UsageError(f"{name} is not UTF-8 text") from exc
