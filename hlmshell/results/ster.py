"""Estimation results in a file: what `estimates save` writes and `estimates use` reads.

Stata's .ster files hold e() so that a model fitted in one session can be replayed, compared
(`estimates stats`, `lrtest`) and predicted from in another. hlmshell keeps everything its
post-estimation commands need, the fitted model included, so it writes its own format: a header
line, then the results pickled. A file is never trusted to run code: reading goes through an
unpickler that only builds numpy arrays and hlmshell's own result and model classes, and a file
that asks for anything else (or is a Stata .ster, or not ours at all) is refused with r(610).
"""
from __future__ import annotations

import inspect
import io
import pickle

from hlmshell.errors import StataError
from hlmshell.results.base import EstimationResults

MAGIC = b"hlmshell estimates file, version 1\n"

_NUMPY = {
    ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
    ("numpy", "ndarray"), ("numpy", "dtype"),
    ("numpy.core.numeric", "_frombuffer"), ("numpy._core.numeric", "_frombuffer"),
}
_BUILTINS = {("builtins", n) for n in ("object", "set", "frozenset", "complex", "slice", "range")}
_COPYREG = {("copyreg", "_reconstructor"), ("copyreg", "__newobj__")}


class _Loader(pickle.Unpickler):
    """Builds only numpy arrays and classes defined in hlmshell (never a function)."""

    def find_class(self, module, name):
        if (module, name) in _NUMPY | _BUILTINS | _COPYREG or module.startswith("numpy.dtypes"):
            return super().find_class(module, name)
        if module == "hlmshell" or module.startswith("hlmshell."):
            obj = super().find_class(module, name)
            if inspect.isclass(obj):
                return obj
        raise pickle.UnpicklingError(f"{module}.{name}")


def not_ours(path: str) -> StataError:
    return StataError(f"file {path} not a hlmshell estimates file", 610)


def dumps(res: EstimationResults) -> bytes:
    return MAGIC + pickle.dumps(res, protocol=pickle.HIGHEST_PROTOCOL)


def loads(raw: bytes, path: str) -> EstimationResults:
    """The results in a file's bytes, or r(610) when the bytes are not an hlmshell file."""
    if not raw.startswith(MAGIC):
        raise not_ours(path)
    try:
        res = _Loader(io.BytesIO(raw[len(MAGIC):])).load()
    except Exception:  # noqa: BLE001 - any damage or foreign content: the same refusal
        raise not_ours(path) from None
    if not isinstance(res, EstimationResults):
        raise not_ours(path)
    return res
