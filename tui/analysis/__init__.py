"""What the evidence means: crash forensics, groups, the GDB-vs-Delve scorecard, reports, console policy. Pure or built on the debugger layer; no Textual."""
