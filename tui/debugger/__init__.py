"""The debuggers as processes: the one dlv pty session, typed Delve commands, gdb batch runs, and the checks of an executable and a core before dlv sees them. No Textual."""
