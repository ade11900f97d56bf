"""The frame's arguments and locals as a tree: composite values expand."""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from ..model import FrameState, Variable


def label(variable: Variable) -> Text:
    text = Text()
    text.append(variable.name, "bold" if variable.kind == "arg" else "")
    if variable.value or not variable.children:
        text.append(" = ")
        text.append(variable.value, "bold yellow" if variable.unreadable else "")
    if variable.type:
        text.append(f"  {variable.type}", "dim")
    return text


class VariablesView(Tree):
    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False, id="variables.down", tooltip="Next row"),
        Binding("k", "cursor_up", "Up", show=False, id="variables.up", tooltip="Previous row"),
    ]

    DEFAULT_CSS = """
    VariablesView { height: 1fr; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("variables", id=id)
        self.show_root = False
        self.state: FrameState | None = None

    def show(self, state: FrameState) -> None:
        self.state = state
        self.clear()
        if state.error:
            self.root.add_leaf(Text(state.error, "bold red"))
            return
        for heading, variables in (("args", state.args), ("locals", state.locals)):
            group = self.root.add(Text(heading, "bold cyan"), expand=True)
            if not variables:
                group.add_leaf(Text(f"(no {heading})", "dim"))
            for variable in variables:
                self._add(group, variable)

    def _add(self, parent: TreeNode, variable: Variable) -> None:
        if variable.children:
            node = parent.add(label(variable), expand=False)
            for child in variable.children:
                self._add(node, child)
        else:
            parent.add_leaf(label(variable))

    def labels(self) -> list[str]:
        """Every visible line, for tests."""
        out = []

        def walk(node: TreeNode) -> None:
            for child in node.children:
                out.append(str(child.label))
                walk(child)

        walk(self.root)
        return out
