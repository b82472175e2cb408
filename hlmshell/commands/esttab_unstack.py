"""esttab/estout `unstack`: the equations of a multiple-equation model side by side as columns
instead of one below the other (estout.hlp: "place individual equations from
multiple-equation models in separate columns").

Each model with several equations becomes one pseudo-model per equation, in e(b)'s order: its
coefficients (and e() vectors named eq:name, as estpost posts them) under one shared equation,
so rows line up by coefficient name across the columns -- `estpost correlate x y z, matrix`
then gives the correlation matrix. The column is titled by its equation; the model statistics
(N, r2, ...) appear in the model's first column only. Single-equation models stay as they are.
"""
from __future__ import annotations

import copy

import numpy as np


def _piece(res, eq: str, common: str, first: bool):
    idx = [j for j, (e, _) in enumerate(res.names) if e == eq]
    p = copy.copy(res)
    p.__dict__.pop("se", None)                  # cached from the whole model
    p.names = [(common, nm) for j, (_, nm) in enumerate(res.names) if j in set(idx)]
    p.b = np.asarray(res.b, dtype=float).reshape(-1)[idx]
    k = len(np.asarray(res.b).reshape(-1))
    p.V = np.asarray(res.V, dtype=float).reshape(k, k)[np.ix_(idx, idx)]
    p.omitted = np.asarray(res.omitted, dtype=bool)[idx] if res.omitted is not None else None
    p.k_f = len(idx)
    p.matrices = {name: _sub_vector(m, eq) for name, m in res.matrices.items()}
    if not first:                               # statistics in the model's first column only
        p.scalars = {k2: v for k2, v in res.scalars.items() if k2 in ("df_r",)}
    return p


def _sub_vector(m, eq: str):
    """An e() row vector's eq:name columns of equation eq, renamed to name; other matrices as
    they are (they name no equation)."""
    cols = getattr(m, "colnames", None)
    if cols is None or not any(":" in str(c) for c in cols):
        return m
    keep = [k for k, c in enumerate(cols) if str(c).rpartition(":")[0] == eq]
    vals = np.atleast_2d(np.asarray(getattr(m, "values", m), dtype=float))[:, keep]
    out = copy.copy(m)
    out.values = vals
    out.colnames = [str(cols[k]).rpartition(":")[2] for k in keep]
    return out


def unstack(results: list, names: list[str]) -> tuple[list, list[str], list[str], list[int]]:
    """(pseudo-models, their names, their column titles, the model (1, 2, ...) each comes
    from)."""
    out, out_names, titles, groups = [], [], [], []
    for g, (res, name) in enumerate(zip(results, names), 1):
        eqs = list(dict.fromkeys(e for e, _ in res.names))
        if len(eqs) < 2:
            out.append(res)
            out_names.append(name)
            titles.append("")
            groups.append(g)
            continue
        for i, eq in enumerate(eqs):
            out.append(_piece(res, eq, eqs[0], i == 0))
            out_names.append(name)
            titles.append(eq)
            groups.append(g)
    return out, out_names, titles, groups


def per_model(labels: list | None, groups: list[int]) -> list | None:
    """Model labels of the pseudo-models -> one per original model (its first column's)."""
    if labels is None:
        return None
    first = {}
    for lab, g in zip(labels, groups):
        first.setdefault(g, lab)
    return [first[g] for g in sorted(first)]


def relabel(results: list, maps: list[dict[str, str]]) -> list:
    """equations() for the cells() tables: each model's matched equations renamed to their
    matched names (#1, #2, ... or the name given) and put first, in the order of the terms, so
    matched equations share rows across models; e() vectors named eq:name follow."""
    labels = list(dict.fromkeys(lab for m in maps for lab in m.values()))
    out = []
    for res, eqmap in zip(results, maps):
        if not eqmap:
            out.append(res)
            continue
        rank = {lab: i for i, lab in enumerate(labels)}
        cols = [(rank.get(eqmap.get(e, ""), len(labels)), j) for j, (e, _) in enumerate(res.names)]
        idx = [j for _, j in sorted(cols)]
        p = copy.copy(res)
        p.__dict__.pop("se", None)
        p.names = [(eqmap.get(res.names[j][0], res.names[j][0]), res.names[j][1]) for j in idx]
        k = len(res.names)
        p.b = np.asarray(res.b, dtype=float).reshape(-1)[idx]
        p.V = np.asarray(res.V, dtype=float).reshape(k, k)[np.ix_(idx, idx)]
        p.omitted = np.asarray(res.omitted, dtype=bool)[idx] if res.omitted is not None else None
        p.matrices = {name: _renamed_vector(m, eqmap) for name, m in res.matrices.items()}
        p.__dict__["estout_eqnames"] = True
        out.append(p)
    return out


def _renamed_vector(m, eqmap: dict[str, str]):
    cols = getattr(m, "colnames", None)
    if cols is None or not any(":" in str(c) for c in cols):
        return m
    out = copy.copy(m)
    out.colnames = []
    for c in cols:
        eq, colon, nm = str(c).rpartition(":")
        out.colnames.append(f"{eqmap.get(eq, eq)}:{nm}" if colon else str(c))
    return out
