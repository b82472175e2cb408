"""xtmixed_corr (StataCorp's 2011 SSC command, built in): the model-implied intracluster
correlations after xtmixed -- what Stata 13 made `estat wcorrelation`. Do-files written for
Stata 12 still call it after xtmixed (or mixed).

    xtmixed_corr [, at(levelvar = # [levelvar = # ...]) all nosort format(%fmt)]

The standard deviations and the correlation matrix V = Z G Z' + R of one cluster of the
outermost level (the first in the estimation sample, or the one at() names), in estat
wcorrelation's layout and with its r(sd), r(Corr), r(V).
"""
from __future__ import annotations

from hlmshell.commands import wcorrelation
from hlmshell.errors import StataError
from hlmshell.registry import Opt, bind_command, command


class _Opts:
    """The bound options as wcorrelation reads them (xtmixed_corr has no covariance option)."""

    covariance = False

    def __init__(self, args):
        self._args = args
        self.format = args.raw("format")

    def raw(self, name: str):
        return self._args.raw(name)


@command("xtmixed_corr", byable=False, qualifiers="", changes_data=False, family="Postestimation",
         options=(Opt("at", "at", "string", None, "the cluster: at(levelvar=# ...); default the first"),
                  Opt("all", desc="accepted: every observation of the cluster is shown"),
                  Opt("nosort", desc="accepted for compatibility"),
                  Opt("format", "format", "string", None, "display format; default %6.3f")),
         desc="model-implied intracluster correlations after xtmixed (SSC's; estat wcorrelation)",
         example="xtmixed_corr, at(id=13)")
def xtmixed_corr_cmd(session, cmd) -> None:
    from hlmshell.commands.estat import _need_mixed
    if (cmd.body or "").strip():
        raise StataError("invalid syntax", 198)
    args = bind_command("xtmixed_corr", cmd.options)
    res = session.e
    if res is None:
        raise StataError("last estimates not found", 301)
    wcorrelation.wcorrelation(session, res, _Opts(args), _need_mixed)
