"""The command line: `gocore-tui EXE CORE`, and the sub-commands run, doctor and serve."""
