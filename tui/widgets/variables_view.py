"""The frame's arguments and locals as a tree: composite values expand."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.message import Message
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from ..model import FrameState, Variable
from .keys import row_keys


def label(variable: Variable) -> Text:
    text = Text()
    text.append(variable.name, "bold" if variable.kind == "arg" else "")
    if variable.optimized_away:
        text.append(" = ")
        text.append("optimized away", "italic dim")
    elif variable.value or not variable.children:
        text.append(" = ")
        text.append(variable.value, "bold yellow" if variable.unreadable else "")
    if variable.type:
        text.append(f"  {variable.type}", "dim")
    return text


class VariablesView(Tree):
    BINDINGS = row_keys("variables")

    DEFAULT_CSS = """
    VariablesView { height: 1fr; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("variables", id=id)
        self.show_root = False
        self.state: FrameState | None = None

    def on_resize(self) -> None:
        if self.cursor_line >= 0:
            self.scroll_to_line(self.cursor_line, animate=False)  # the selected row stays in view

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

    def show_values(self, variables: tuple[Variable, ...], note: str = "") -> None:
        """Values that belong to no frame (a heap object), each a tree of its
        own, the first opened."""
        self.state = None
        self.clear()
        if note:
            self.root.add_leaf(Text(note, "dim"))
        for variable in variables:
            self._add(self.root, variable)
        if self.root.children and variables:
            self.root.children[-len(variables)].expand()

    def show_watches(self, values: list[tuple[str, str]]) -> None:
        """Pinned expressions (`:` then ctrl+t), evaluated in this frame, above the args."""
        for node in list(self.root.children):
            if str(node.label) == "watches":
                node.remove()
        if not values:
            return
        group = self.root.add(Text("watches", "bold magenta"), expand=True, before=0)
        for expression, value in values:
            text = Text(expression, "bold")
            text.append(" = ")
            # print's multi-line form, on the one line a tree row has
            text.append(" ".join(value.split()), "yellow" if value.startswith("(") else "")
            group.add_leaf(text)

    @dataclass
    class LoadWanted(Message):
        """A node was opened whose value Delve elided: print it in full."""

        node_id: int
        """The tree node to fill (TreeNode.id)."""
        variable: Variable
        """The variable as shown so far; its expr says what to print."""
        goroutine_id: int | None
        """The goroutine whose frame the tree shows."""
        frame_index: int
        """That frame, as Delve numbers it."""

    def _add(self, parent: TreeNode, variable: Variable) -> None:
        # Children are added when a node is first opened: a runtime frame's
        # `gp` alone is hundreds of fields deep.
        if variable.optimized_away:  # Delve's own words, on demand
            node = parent.add(label(variable), data=variable, expand=False, allow_expand=True)
            node.add_leaf(Text(f"Delve: {variable.value}", "dim"))
        elif variable.expandable:
            parent.add(label(variable), data=variable, expand=False, allow_expand=True)
        else:
            parent.add_leaf(label(variable), data=variable)

    def on_tree_node_expanded(self, event: Tree.NodeExpanded) -> None:
        node = event.node
        variable = node.data
        if not isinstance(variable, Variable) or node.children:
            return
        if variable.partial and variable.expr:
            node.add_leaf(Text("loading…", "dim"))
            state = self.state
            self.post_message(self.LoadWanted(node.id, variable, state.goroutine_id if state else None,
                                              state.frame_index if state else 0))
            return
        for child in variable.children:
            self._add(node, child)

    def fill(self, node_id: int, variable: Variable) -> None:
        """Replace an opened node's children with the value printed in full."""
        try:
            node = self.get_node_by_id(node_id)
        except Exception:  # the tree was rebuilt meanwhile (another frame)
            return
        node.data = variable
        node.set_label(label(variable))
        node.remove_children()
        for child in variable.children:
            self._add(node, child)

    def labels(self) -> list[str]:
        """Every visible line, for tests."""
        out = []

        def walk(node: TreeNode) -> None:
            for child in node.children:
                out.append(str(child.label))
                walk(child)

        walk(self.root)
        return out
