"""How far apart two programs' numbers may be when both maximised the same likelihood.

Stata's `ml` (and `mixed`, which maximises with the same machinery) stops iterating when
([R] maximize) the scaled gradient is small, g*inv(H)*g' < nrtolerance() (default 1e-5),
and either the coefficient vector changed by at most tolerance() (1e-6, a relative
difference, mreldif) or the log likelihood by at most ltolerance() (1e-7, relative) in the
last step. The last two measure the last step, not the distance to the optimum: a slow step
meets them far from it, and since either one will do, ltolerance(1e-7) of a log likelihood
of -23,000 lets the likelihood move by 0.002. The nrtolerance() criterion, which is always
required, is the one that bounds the distance. Near the optimum b^ the gradient is
g = H(b - b^) (H the negative Hessian), so g*inv(H)*g' = (b - b^)'H(b - b^) < nrtol, and by
Cauchy-Schwarz every linear function c'b of the parameters is within

    sqrt(nrtol) * sqrt(c' inv(H) c) = sqrt(nrtol) * SE(c'b)

of its value at the optimum: s = sqrt(1e-5) = 0.0032 standard errors. (A relative rule,
k * 1e-6, cannot express this: a confidence bound near zero or a poorly determined variance
moves by far more than 1e-6 of itself when the estimate moves by 1e-6 of its standard error.)

hlmshell iterates to the optimum; Stata stopped wherever its criteria were first met. So a
number Stata printed for an ML fit (a block whose header reports a log likelihood) is
"within convergence tolerance" of hlmshell's when, beyond half a unit of its last printed
digit, the difference is at most:

- an estimate (coefficient, variance component) b with standard error se:  s * se;
- a coefficient's standard error:  eps * se. The standard errors depend on the parameters
  through the variance components. Each variance is within s times its standard error, a
  fraction at most f = s * R of itself, R the largest relative standard error se/var of the
  fit's variance components (R = 1 when the fit prints none); scaling every variance by at
  most 1 +- f scales V, hence (X'V^-1 X)^-1, by at most 1 +- f, and a standard error (its
  square root) by half that: eps = s * R / 2;
- a random-effects standard error:  2*eps * se for a covariance (or correlation), and
  (s*u + 2*eps) * se for a variance or standard deviation, u its own se/estimate (the SE
  of a variance is 2 * var * SE(ln sd): the variance moves by s*u of itself, SE(ln sd),
  a function of the variance ratios, by at most f = 2*eps);
- z (b/se) and its p-value:  s + eps*|z| (dp/dz is at most 0.8);
- a confidence bound b +- c*se of a coefficient:  s*se + c*eps*se (of a covariance, 2*eps),
  c read off the row, (upper - lower) / (2 se); of a variance or standard deviation, whose
  interval Stata computes on the log scale, the bound's relative change s*u + c*u*(s*u + 2*eps);
- the Wald chi2 = b'inv(V)b of the header:  2*s*sqrt(chi2) + s^2 (b moves by at most s in
  the metric of inv(V)) plus 2*eps*chi2 (V moves by at most 2*eps of itself);
- the log likelihood:  nrtol/2 (the quadratic model's shortfall at the stopping point);

each plus half a unit of the last digit Stata printed. The propagation is first order:
where f = s*R, or a variance's own s*u, exceeds 0.05 it is no bound, and the numbers
derived through it count only to the printed digits. Everything else (sample sizes, tests
and tables of other commands, all numbers of commands that are not ML fits) must match to
the printed digits. On the course notes Stata's deviations are at most 0.4 s*se, most below
0.05 s*se. What the rule cannot see is a difference no larger than Stata's own stopping
error, 0.0032 standard errors: for a coefficient with |z| below about 3 that can be one unit
in its third significant digit; a third-digit change of a well-determined estimate, of a
standard error (when R < 1) or of any number outside ML fits still differs.

A fit on the boundary of the parameter space (a correlation of the random effects within
1e-6 of +-1, a variance within 1e-6 of zero relative to the residual variance, or a random-
effects covariance matrix whose smallest eigenvalue is below 1e-6 of its largest; detected
from hlmshell's own output of that command) has a singular information matrix in Stata's
metric (atanh of the correlation, log of the standard deviation, both at infinity): the
bound above does not hold there and the random-effects standard errors and confidence
bounds depend on where Stata stopped. Those numbers (and random-effects estimates printed
without a standard error) are "not comparable (boundary)", with the reason.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from hlmshell.check.numbers import Num, Row, find_numbers

NRTOL = 1e-5
S = math.sqrt(NRTOL)
BOUNDARY = 1e-6
LINEAR = 0.05      # largest relative movement of a variance the propagation is trusted for

EXACT = "exact"
WITHIN = "within convergence tolerance"
NOT_COMPARABLE = "not comparable (boundary)"
RTOL = "within --rtol"
DIFFER = "differ"
CLASSES = (EXACT, WITHIN, RTOL, NOT_COMPARABLE, DIFFER)

_RE_LABEL = re.compile(r"^(var|sd|cov|corr)\((.*)\)$")
_LL = re.compile(r"^Log (?:restricted-|pseudo)?likelihood = #")
_STRUCT = re.compile(r"^(\S+)\s*:\s*(Identity|Independent|Exchangeable|Unstructured)\b")


@dataclass
class FitInfo:
    """What the tolerance of one command's numbers depends on."""

    ml: bool = False               # an iterative ML fit: the header reports a log likelihood
    eps: float = S / 2             # s * R / 2, the relative movement of the standard errors
    boundary: str | None = None    # why the fit is on the boundary, from hlmshell's output


# -- reading a fit's random-effects table --------------------------------------------------
def _re_rows(lines: list[str]) -> list[tuple[str, str, list[float], str]]:
    """(kind, args, numbers, level) of each random-effects row: ('var', 'ses', [...], 'id')."""
    out, level = [], ""
    for line in lines:
        if "|" not in line:
            continue
        left, right = line.split("|", 1)
        label = " ".join(left.split())
        st = _STRUCT.match(label)
        if st:
            level = st.group(1)
            continue
        m = _RE_LABEL.match(label.replace(" ", ""))
        if not m:
            continue
        nums = [n.value for n in find_numbers(right)]
        if nums:
            out.append((m.group(1), m.group(2), nums, "" if "Residual" in m.group(2) else level))
    return out


def relative_se(rows) -> float | None:
    """R: the largest se/variance among the variance (or sd) rows that print a standard error."""
    rs = []
    for kind, _args, nums, _level in rows:
        if kind in ("var", "sd") and len(nums) >= 2 and nums[0] > 0 and not math.isnan(nums[1]):
            rs.append(nums[1] / nums[0] * (2.0 if kind == "sd" else 1.0))
    return max(rs) if rs else None


def _level_matrix(rows, level: str):
    """The level's covariance matrix from its var/sd and cov/corr rows (None if incomplete)."""
    var = {}
    for kind, args, nums, lv in rows:
        if lv == level and kind in ("var", "sd"):
            var[args] = nums[0] ** 2 if kind == "sd" else nums[0]
    names = list(var)
    m = np.diag([var[n] for n in names]) if names else None
    for kind, args, nums, lv in rows:
        if lv != level or kind not in ("cov", "corr"):
            continue
        a, _, b = args.partition(",")
        if a not in var or b not in var:
            continue
        i, j = names.index(a), names.index(b)
        c = nums[0] * math.sqrt(var[a] * var[b]) if kind == "corr" else nums[0]
        m[i, j] = m[j, i] = c
    return names, m


def _corr_reason(names, m) -> str | None:
    for i in range(len(names)):
        for j in range(i):
            d = math.sqrt(m[i, i] * m[j, j])
            if d > 0 and abs(m[i, j]) / d >= 1 - BOUNDARY:
                return (f"corr({names[j]},{names[i]}) = {m[i, j] / d:.7f} is within {BOUNDARY:g} "
                        f"of {'+' if m[i, j] > 0 else '-'}1")
    return None


def boundary_reason(lines: list[str]) -> str | None:
    """Why this fit (hlmshell's printed output of it) is on the boundary, None when it is not."""
    rows = _re_rows(lines)
    resid = [nums[0] * (nums[0] if kind == "sd" else 1.0)
             for kind, args, nums, _ in rows if args == "Residual" and kind in ("var", "sd")]
    levels = sorted({lv for *_, lv in rows if lv})
    for level in levels:
        names, m = _level_matrix(rows, level)
        if m is None:
            continue
        ref = resid[0] if resid else float(np.max(np.diag(m)))
        for n, v in zip(names, np.diag(m)):
            if v <= BOUNDARY * ref:
                return f"var({n}) = {v:.3g} is within {BOUNDARY:g} of zero (relative to {ref:.4g})"
        reason = _corr_reason(names, m)
        if reason:
            return reason
        if len(names) > 1:
            w = np.linalg.eigvalsh(m)
            if w[-1] > 0 and w[0] <= BOUNDARY * w[-1]:
                return (f"the {level}: covariance matrix is singular (smallest eigenvalue "
                        f"{max(w[0], 0.0) / w[-1]:.1e} of the largest)")
    return None


def fit_info(stata_lines: list[str], our_lines: list[str]) -> FitInfo:
    """The tolerance context of one paired command; the boundary is judged on our output."""
    ml = any(_LL.match(" ".join(re.sub(r"-?[\d.,]+", "#", ln).split())) for ln in stata_lines)
    if not ml:
        return FitInfo()
    ours = _re_rows(our_lines)
    r = relative_se(ours) or relative_se(_re_rows(stata_lines)) or 1.0
    # past f = s*R = 0.05 the first-order propagation is no bound: SE-derived numbers then
    # count only to the printed digits (eps nan), the estimates keep their s*SE
    return FitInfo(True, S * r / 2 if S * r <= LINEAR else math.nan, boundary_reason(our_lines if ours else stata_lines))


# -- the tolerance of one number --------------------------------------------------------------
def _is_re(row: Row) -> str | None:
    m = _RE_LABEL.match(row.label.replace(" ", ""))
    return m.group(1) if m else None


def _crit(nums: list[Num], lo: int, se: float) -> float:
    """c of a row's interval b +- c*se, read off the row; 1.96 when it cannot be."""
    if len(nums) > lo + 1 and se > 0:
        c = (nums[lo + 1].value - nums[lo].value) / (2 * se)
        if math.isfinite(c) and c > 0:
            return c
    return 1.96


def _coef_tol(nums: list[Num], k: int, eps: float) -> tuple[float, str]:
    """Coefficient (or covariance) row: b se z p lo hi, or b se lo hi; eps the relative
    movement of its standard error."""
    se = nums[1].value
    if k == 0:
        return S * se, "sqrt(nrtol)*SE"
    if k == 1:
        return eps * se, f"eps*SE, eps = {eps:.2g}"
    if k in (2, 3) and len(nums) == 6:
        z = nums[2].value
        return S + eps * abs(z), "sqrt(nrtol) + eps*|z|"
    c = _crit(nums, 4 if len(nums) == 6 else 2, se)
    return S * se + c * eps * se, "sqrt(nrtol)*SE + c*eps*SE"


def _re_tol(kind: str, nums: list[Num], k: int, info: FitInfo) -> tuple[float, str] | None:
    """Random-effects row: estimate se lo hi (or the estimate alone)."""
    b, se = nums[0].value, nums[1].value
    u = se / b if b > 0 else math.inf
    if S * u > LINEAR and kind in ("var", "sd"):
        u = math.nan                                # a variance near zero: see LINEAR
    if kind in ("cov", "corr"):  # its SE moves as a variance's does, by f = s*R = 2*eps
        return _coef_tol(nums, k, 2 * info.eps)
    if k == 0:
        return S * se, "sqrt(nrtol)*SE"
    f = 2 * info.eps
    if k == 1:
        return (S * u + f) * se, "(sqrt(nrtol)*u + 2*eps)*SE"
    c = math.log(nums[3].value / nums[2].value) / (2 * u) if len(nums) == 4 and nums[2].value > 0 and u > 0 else 1.96
    return abs(nums[k].value) * (S * u + c * u * (S * u + f)), "log-scale bound"


def _plain_tol(row: Row, k: int, info: FitInfo) -> tuple[float, str] | None:
    """Header lines: the Wald chi2 and the log likelihood."""
    if "Wald chi2(#) = #" in row.label and k == 1:
        chi2 = max(row.nums[1].value, 0.0)
        return 2 * S * math.sqrt(chi2) + S * S + 2 * info.eps * chi2, "2*s*sqrt(chi2) + s^2 + 2*eps*chi2"
    if _LL.match(row.label) and k == 0:
        return NRTOL / 2, "nrtol/2"
    return None


def tolerance(row: Row, k: int, info: FitInfo) -> tuple[float, str] | None:
    """(allowed |difference|, the rule) of number k of a Stata row, None when only the printed
    digits count."""
    if not info.ml:
        return None
    nums = row.nums
    if "|" not in row.line:
        tol = _plain_tol(row, k, info)
        return tol if tol is not None and math.isfinite(tol[0]) else None
    if len(nums) < 2 or math.isnan(nums[1].value) or nums[1].value <= 0:
        return None
    kind = _is_re(row)
    if kind:
        tol = _re_tol(kind, nums, k, info)
    elif len(nums) in (4, 6):
        tol = _coef_tol(nums, k, info.eps)
    else:
        return None
    return tol if tol is not None and math.isfinite(tol[0]) else None


def boundary_number(row: Row, k: int, info: FitInfo) -> bool:
    """A random-effects standard error or bound, or an estimate printed without either, of a
    fit on the boundary."""
    return bool(info.boundary) and _is_re(row) is not None and (k >= 1 or len(row.nums) == 1)
