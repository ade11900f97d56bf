"""A Go core read without dlv: memory of the core and the executable, DWARF layouts, pclntab, goroutines and their stacks. Pure reading of files; no Textual."""
