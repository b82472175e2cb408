"""bsample [exp] [if] [in] [, strata() cluster() idcluster() weight()]: the data in memory
replaced by a bootstrap sample (Stata 17's [R] bsample), for the bootstrap loops written by
hand in course do-files (preserve / bsample / estimate / post / restore). The draw is the
bootstrap prefix's (hlmshell.engine.resampling.bootstrap_rows)."""
from __future__ import annotations

import numpy as np

from hlmshell.commands._toolkit import typed_args, varlist
from hlmshell.commands.resample import Plan, _with_idcluster, resampling_design
from hlmshell.data.dataset import Variable
from hlmshell.engine import resampling as rs
from hlmshell.errors import StataError
from hlmshell.registry import Opt, command


def _bsample_size(session, text: str) -> int | None:
    from hlmshell.commands import generate as g

    text = (text or "").strip()
    if not text:
        return None
    try:
        v = float(np.asarray(g.evaluate(g.parse_expr(text), session)).reshape(-1)[0])
    except (ValueError, TypeError, IndexError):
        raise StataError("type mismatch", 109) from None
    if not (v == v and v >= 1 and v == int(v)):
        raise StataError("sample size must be a positive integer", 198)
    return int(v)


@command("bsample", byable=False, qualifiers="if in", family="Statistics", body="anything",
          desc="sampling with replacement (replaces the data by a bootstrap sample)",
          example="bsample, cluster(id) idcluster(newid)",
          options=(Opt("strata", "str", "varlist", None, "variables identifying strata"),
                   Opt("cluster", "cl", "varlist", None, "variables identifying resampling clusters"),
                   Opt("idcluster", "id", "name", None, "create new cluster ID variable"),
                   Opt("weight", "w", "name", None, "store the sample as frequency weights in this variable")))
def bsample_cmd(session, cmd):
    """`bsample [exp] [if] [in] [, strata() cluster() idcluster() weight()]`: the data in
    memory replaced by a sample drawn with replacement (exp observations, or clusters, per
    stratum; all of them by default); with weight(), the data stay and the variable holds how
    many times each observation was drawn."""
    from hlmshell.syntax.evaluate import marksample

    opts = typed_args(cmd)
    ds = session.data
    plan = Plan("bsample", "", None, strata=varlist(session, " ".join(opts.strata or []), all_if_empty=False),
                cluster=varlist(session, " ".join(opts.cluster or []), all_if_empty=False))
    if opts.idcluster and not plan.cluster:
        raise StataError("idcluster() can only be specified with the cluster() option", 198)
    if opts.weight and opts.idcluster:
        raise StataError("options weight() and idcluster() may not be combined", 198)
    plan.size = _bsample_size(session, cmd.body)
    d = resampling_design(ds, plan, marksample(session, cmd))
    rows, ids = rs.bootstrap_rows(session.rng, len(d.rows), d.strata, d.clusters, plan.size)
    if opts.weight:
        w = np.zeros(ds.n)
        np.add.at(w, d.rows[rows], 1)
        new = ds.copy()
        old = new.vars.get(opts.weight)
        if old is not None and old.is_string:
            raise StataError("type mismatch", 109)
        new.put(Variable(opts.weight, w, old.vtype if old else "float"))
        session.data = new
        return
    new = ds.copy()
    new.take(d.rows[rows])
    if opts.idcluster and ids is not None:
        _with_idcluster(new, opts.idcluster, ids)
    new.sortedby = []
    session.data = new
