"""The data viewer behind `browse`: a read-only, scrollable full-screen table (prompt_toolkit).

`table` is anything with: title (str), headers (list of str), widths (list of int),
right (list of bool: right-aligned column), nrows (int), obs(i) -> observation number and
cell(i, j) -> text. Cells are asked for only for the rows on screen, so a large dataset opens
at once. Keys: arrows / j k h l move, PgUp/PgDn (b/space) a page, Home/End (g/G) first/last
row, q or Esc closes the view and returns to the prompt.
"""
from __future__ import annotations

from prompt_toolkit.application import Application
from prompt_toolkit.key_binding import KeyBindings
from prompt_toolkit.layout import HSplit, Layout, Window
from prompt_toolkit.layout.controls import FormattedTextControl

HELP = "arrows move  PgUp/PgDn page  Home/End first/last  q quit"


class BrowseView:
    def __init__(self, table):
        self.t = table
        self.top = 0          # first row shown
        self.left = 0         # first column shown
        self.size = (80, 24)  # (columns, rows) of the terminal, updated when drawn

    # -- geometry -----------------------------------------------------------------------
    @property
    def page(self) -> int:
        return max(1, self.size[1] - 3)      # header, rule and status line

    def obs_width(self) -> int:
        return max(3, len(str(self.t.obs(self.t.nrows - 1))) if self.t.nrows else 3)

    def visible_columns(self) -> list[int]:
        width = self.size[0] - self.obs_width() - 2
        cols, used = [], 0
        for j in range(self.left, len(self.t.headers)):
            w = self.t.widths[j] + 2
            if cols and used + w > width:
                break
            cols.append(j)
            used += w
        return cols

    # -- moves ----------------------------------------------------------------------------
    def move(self, rows: int = 0, cols: int = 0) -> None:
        last = max(0, self.t.nrows - self.page)
        self.top = min(max(0, self.top + rows), last)
        self.left = min(max(0, self.left + cols), max(0, len(self.t.headers) - 1))

    def home(self) -> None:
        self.top = 0

    def end(self) -> None:
        self.top = max(0, self.t.nrows - self.page)

    # -- drawing ----------------------------------------------------------------------------
    def _cell(self, text: str, j: int) -> str:
        w = self.t.widths[j]
        text = text if len(text) <= w else text[: max(1, w - 1)] + "~"
        return text.rjust(w) if self.t.right[j] else text.ljust(w)

    def lines(self) -> list[tuple[str, str]]:
        ow = self.obs_width()
        cols = self.visible_columns()
        head = " " * ow + "  " + "  ".join(self._cell(self.t.headers[j], j) for j in cols)
        out = [("class:header", head[: self.size[0]] + "\n"),
               ("class:rule", "-" * min(len(head), self.size[0]) + "\n")]
        for i in range(self.top, min(self.t.nrows, self.top + self.page)):
            row = str(self.t.obs(i)).rjust(ow) + "  " + "  ".join(self._cell(self.t.cell(i, j), j) for j in cols)
            out.append(("", row[: self.size[0]] + "\n"))
        return out

    def status(self) -> list[tuple[str, str]]:
        n = self.t.nrows
        last = min(n, self.top + self.page)
        cols = self.visible_columns()
        shown = f"vars {cols[0] + 1}-{cols[-1] + 1} of {len(self.t.headers)}" if cols else "no variables"
        where = f"obs {self.top + 1}-{last} of {n}" if n else "no observations"
        return [("class:status", f" {self.t.title}  {where}  {shown}   {HELP}")]


def _bindings(view: BrowseView, app_ref: list) -> KeyBindings:
    kb = KeyBindings()

    def on(*keys):
        def deco(fn):
            for k in keys:
                kb.add(k)(fn)
            return fn
        return deco

    @on("q", "Q", "escape", "c-c", "c-d")
    def _quit(event):
        event.app.exit()

    @on("down", "j", "enter")
    def _down(event):
        view.move(rows=1)

    @on("up", "k")
    def _up(event):
        view.move(rows=-1)

    @on("pagedown", "space", "c-f")
    def _pgdn(event):
        view.move(rows=view.page)

    @on("pageup", "b", "c-b")
    def _pgup(event):
        view.move(rows=-view.page)

    @on("right", "l", "tab")
    def _right(event):
        view.move(cols=1)

    @on("left", "h", "s-tab")
    def _left(event):
        view.move(cols=-1)

    @on("home", "g")
    def _home(event):
        view.home()

    @on("end", "G")
    def _end(event):
        view.end()

    return kb


def run_browse(table, *, input=None, output=None) -> None:
    view = BrowseView(table)
    app_ref: list = []

    def body():
        try:
            size = app_ref[0].output.get_size()
            view.size = (size.columns, size.rows)
        except Exception:
            pass
        return view.lines()

    layout = Layout(HSplit([Window(FormattedTextControl(body), wrap_lines=False),
                            Window(FormattedTextControl(view.status), height=1, style="reverse")]))
    app = Application(layout=layout, key_bindings=_bindings(view, app_ref), full_screen=True,
                      mouse_support=False, input=input, output=output)
    app_ref.append(app)
    app.run()
