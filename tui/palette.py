"""ctrl+p finds goroutines by id and frames of the shown backtrace by function.

Typing `18` or `goroutine 18` offers goroutine 18 first (then ids that
contain 18); typing part of a function offers the frames it names. The
actions (u, d, c ...) come from the app's system commands beside these.
"""

from __future__ import annotations

from functools import partial

from textual.command import Hit, Hits, Provider

# Ids containing the digits typed, at the most (100k goroutines match "1").
MAX_GOROUTINE_HITS = 30
# Digits typed are a goroutine id before they are a fuzzy match of anything:
# the exact id scores above any fuzzy score (a few points at most), the ids
# that contain the digits next, then the frames.
EXACT_ID_SCORE = 1000.0
CONTAINING_ID_SCORE = 100.0


class GoroutineAndFrameCommands(Provider):
    async def search(self, query: str) -> Hits:
        app = self.app
        words = query.strip().lower().removeprefix("goroutine").strip().lstrip("#")
        if words.isdigit():
            index = app.store.index
            wanted = int(words)
            ids = ([wanted] if wanted in index.by_id else []) + [
                gid for gid in sorted(index.by_id) if words in str(gid) and gid != wanted][:MAX_GOROUTINE_HITS]
            for gid in ids:
                goroutine = index.by_id[gid]
                where = f"{goroutine.location.short()} {goroutine.location.function}" if goroutine.location else "?"
                yield Hit(EXACT_ID_SCORE if gid == wanted else CONTAINING_ID_SCORE,
                          f"goroutine {gid}  {goroutine.state}  {where}",
                          partial(app.show_goroutine, gid), help="show its backtrace")
        if app.nav.backtrace is None or not query.strip():
            return
        matcher = self.matcher(query)
        for frame in app.nav.backtrace.frames:
            text = f"frame {frame.index}  {frame.function}  {frame.location.short()}"
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, matcher.highlight(text), partial(app.select_frame, frame.index),
                          text=text, help="show its source and variables")
