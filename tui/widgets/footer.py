"""Textual's footer, rebuilt once per refresh however often the keys change,
and not rebuilt at all when only which keys are greyed out changed."""

from __future__ import annotations

from textual.screen import Screen
from textual.widgets import Footer as TextualFooter
from textual.widgets._footer import FooterKey


class Footer(TextualFooter):
    """Textual's Footer recomposes on every bindings change: each one mounts
    all its keys again and restyles them, 10-20 ms. The first screen changes
    the bindings a dozen times in one frame (frame ends, frame ready, the
    download key...), which cost it 0.3 s; and `u` onto the outermost frame
    greys out `u` itself, which cost every such keypress 15 ms. So: one
    rebuild after the refresh, and when the same keys are shown, only their
    greying is updated. And it draws its keys whether or not the app has
    the focus (Textual's waits for it)."""

    _rebuild_pending = False

    def bindings_changed(self, screen: Screen) -> None:
        if self._rebuild_pending:
            return
        self._rebuild_pending = True
        self.call_after_refresh(self._rebuild, screen)

    def _rebuild(self, screen: Screen) -> None:
        self._rebuild_pending = False
        if not self.is_attached:
            return
        shown = _shown_keys(screen)
        keys = [key for key in self.query(FooterKey) if not key.has_class("-command-palette")]
        if shown and [(key.key, key.description) for key in keys] == [(k, d) for k, d, _ in shown]:
            for key, (_, _, enabled) in zip(keys, shown):
                key._disabled = not enabled  # what a click on it checks (Textual's own attribute)
                key.set_class(not enabled, "-disabled")
            return
        super().bindings_changed(screen)
        # Textual's footer leaves its keys as they were while the app has no
        # focus: in a browser tab (serve) that is until the page is clicked,
        # and the footer stayed blank. Ours always shows the keys there are.
        if not screen.app.app_focus and self.is_attached and screen is self.screen:
            self.call_after_refresh(self.recompose)


def _shown_keys(screen: Screen) -> list[tuple[str, str, bool]]:
    """(key, description, enabled) as Footer.compose shows them: the first
    binding of each action, in order."""
    first: dict[str, tuple[str, str, bool]] = {}
    for _, binding, enabled, _ in screen.active_bindings.values():
        if binding.show and binding.action not in first:
            first[binding.action] = (binding.key, binding.description, enabled)
    return list(first.values())
