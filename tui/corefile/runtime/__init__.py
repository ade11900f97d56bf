"""One public decoder per Go runtime structure, shared by every reader of
the core (the goroutine listing, the waits, the heap).

Each module decodes one structure (or one tight family: hchan with its
sudogs and wait queues) from the binary's DWARF layout, as Delve's
`parseG` serves its stack iterator: offsets and constants resolved once,
records returned as frozen dataclasses or named tuples, nothing re-derived
by a second reader.
"""
