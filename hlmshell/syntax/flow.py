"""Control-flow signals raised by `continue` and caught by the loops of the interpreter."""


class ContinueLoop(Exception):
    pass


class BreakLoop(Exception):
    pass
