"""Source files: where a frame's file is on this machine (pure path mapping) and how it is highlighted. No Textual."""
