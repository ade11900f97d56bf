"""gocore-tui: open a Go core dump and see why the program died."""

__version__ = "0.1.0"
