"""Counting what a reader reads: a stand-in for open() in a module under test."""

from __future__ import annotations

import builtins


class _Counting:
    def __init__(self, f, reads: list[int]):
        self.f = f
        self.reads = reads

    def __getattr__(self, name):
        return getattr(self.f, name)

    def read(self, n=-1):
        assert n >= 0, "read() of the whole file"
        data = self.f.read(n)
        self.reads.append(len(data))
        return data

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.f.close()


def count_reads(monkeypatch, module) -> list[int]:
    """From now on, `module`'s open() counts each read's bytes into the list
    returned (and refuses a read of the whole file)."""
    reads: list[int] = []
    real_open = builtins.open
    monkeypatch.setattr(module, "open", lambda *a: _Counting(real_open(*a), reads), raising=False)
    return reads
