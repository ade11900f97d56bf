"""One pane per module. Widgets know the model and Textual, never the debugger."""
