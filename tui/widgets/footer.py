"""Textual's footer, rebuilt once per refresh however often the keys change."""

from __future__ import annotations

from textual.screen import Screen
from textual.widgets import Footer as TextualFooter


class Footer(TextualFooter):
    """Textual's Footer recomposes on every bindings change: each one mounts
    all its keys again and restyles them. The first screen changes the
    bindings a dozen times in one frame (frame ends, frame ready, the
    download key...), and those rebuilds were about 0.3 s of the first
    screen's time. One rebuild after the refresh shows the same keys."""

    _rebuild_pending = False

    def bindings_changed(self, screen: Screen) -> None:
        if self._rebuild_pending:
            return
        self._rebuild_pending = True
        self.call_after_refresh(self._rebuild, screen)

    def _rebuild(self, screen: Screen) -> None:
        self._rebuild_pending = False
        if self.is_attached:
            super().bindings_changed(screen)
