"""The per-imputation estimation results `mi estimate, saving(miestfile)` keeps in
miestfile.ster, for `mi estimate using miestfile` to combine again later (another subset of
imputations, another level, vartable, ...) without refitting. Written and read as
results/ster.py does its files: a header line, then the pickle, read back through its loader
that builds only numpy arrays and hlmshell's own classes (anything else is r(610))."""
from __future__ import annotations

import io
import pickle
from dataclasses import dataclass, field

from hlmshell.errors import StataError
from hlmshell.results.base import EstimationResults

MAGIC = b"hlmshell mi estimates file, version 1\n"


@dataclass
class MiEstimates:
    """The fits of one mi estimate run: imputation numbers, e() of each, the command."""

    ms: list[int]
    fits: list[EstimationResults] = field(default_factory=list)
    cmdline: str = ""


def dumps(saved: MiEstimates) -> bytes:
    return MAGIC + pickle.dumps(saved, protocol=pickle.HIGHEST_PROTOCOL)


def loads(raw: bytes, path: str) -> MiEstimates:
    from hlmshell.results.ster import _Loader, not_ours
    if not raw.startswith(MAGIC):
        raise StataError(f"file {path} not an mi estimate results file (saving())", 610)
    try:
        saved = _Loader(io.BytesIO(raw[len(MAGIC):])).load()
    except Exception:  # noqa: BLE001 - any damage or foreign content: the same refusal
        raise not_ours(path) from None
    if not isinstance(saved, MiEstimates) or not all(isinstance(f, EstimationResults) for f in saved.fits) \
            or len(saved.ms) != len(saved.fits):
        raise not_ours(path)
    return saved
