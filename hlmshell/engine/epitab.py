"""Numbers of Stata's epitab commands (cs, cc, ir and their immediate forms): 2 x 2 tables of
a cohort (risks), case-control (odds) or incidence-rate (person-time) study, and their
Mantel-Haenszel combinations over strata.

Cells as Stata names them: a exposed cases, b unexposed cases, c exposed noncases (controls;
ir: exposed person-time), d unexposed noncases (ir: unexposed person-time).

Why these formulas ([R] epitab, Methods and formulas): risk difference with its Wald interval;
risk ratio with the interval on ln RR (se^2 = 1/a - 1/N1 + 1/b - 1/N0) or test-based (tb);
odds ratio with exact (conditional, noncentral hypergeometric, found as Stata's cci searches), Cornfield,
Woolf or test-based intervals; the attributable (or, below 1, prevented) fractions from the
ratio and its interval; the Mantel-Haenszel risk ratio (Greenland-Robins variance), odds ratio
(Robins-Breslow-Greenland variance) and rate ratio (Greenland-Robins), the M-H homogeneity chi2
sum (ln R_i - ln R_MH)^2 / var_i, Breslow-Day's test (optionally Tarone's correction), and the
M-H test that the combined odds ratio is 1. Incidence rates: the exact (binomial) interval of
the rate ratio and mid-p tail probabilities.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from hlmshell import distributions as dist

NAN = float("nan")


def _z(level: float) -> float:
    return float(dist.norm_isf((1 - level / 100) / 2))


def _div(x: float, y: float) -> float:
    return x / y if y != 0 else NAN


def _ratio(x: float, y: float) -> float:
    """x / y, infinite for a positive x over 0 (the fractions then take Stata's value 1)."""
    if y:
        return x / y
    return math.inf if x > 0 else NAN


@dataclass
class Estimate:
    """A point estimate with its interval (NaN where undefined)."""
    est: float
    lb: float = NAN
    ub: float = NAN
    method: str = ""


def _log_ci(est: float, var: float, z: float, method: str = "") -> Estimate:
    if not (est > 0 and math.isfinite(est)) or not (var >= 0 and math.isfinite(var)):
        return Estimate(est, NAN, NAN, method)
    h = z * math.sqrt(var)
    return Estimate(est, math.exp(math.log(est) - h), math.exp(math.log(est) + h), method)


def _tb(est: float, chi2: float, z: float, log: bool) -> Estimate:
    """Test-based (Miettinen) interval: est^(1 -+ z/chi) (ratios) or est (1 -+ z/chi)."""
    if not chi2 > 0 or not math.isfinite(est) or (log and est <= 0):
        return Estimate(est, NAN, NAN, "tb")
    r = z / math.sqrt(chi2)
    if log:
        lo, hi = sorted((est ** (1 - r), est ** (1 + r)))
    else:
        lo, hi = sorted((est * (1 - r), est * (1 + r)))
    return Estimate(est, lo, hi, "tb")


def pearson_chi2(a: float, b: float, c: float, d: float) -> float:
    n = a + b + c + d
    den = (a + b) * (c + d) * (a + c) * (b + d)
    return n * (a * d - b * c) ** 2 / den if den > 0 else NAN


def fraction(ratio: Estimate, share: float) -> tuple[str, Estimate, float]:
    """('attributable' | 'prevented', the fraction among the exposed with its interval, the
    population fraction = the exposed fraction x share)."""
    r = ratio.est
    if r == math.inf:                 # no unexposed cases: Stata takes the fraction as 1
        return "attributable", Estimate(1.0, (ratio.lb - 1) / ratio.lb if ratio.lb > 0 else NAN,
                                        NAN, ratio.method), share
    if not math.isfinite(r):
        return "attributable", Estimate(NAN), NAN
    if r >= 1:
        e = Estimate((r - 1) / r, (ratio.lb - 1) / ratio.lb if ratio.lb > 0 else NAN,
                     (ratio.ub - 1) / ratio.ub if ratio.ub > 0 else NAN, ratio.method)
        return "attributable", e, e.est * share
    e = Estimate(1 - r, 1 - ratio.ub, 1 - ratio.lb, ratio.method)
    return "prevented", e, e.est * share


# ------------------------------------------------------------------------- odds ratio intervals
def _nchg_support(a, b, c, d):
    m1, n1, n0 = a + b, a + c, b + d
    lo, hi = max(0, int(m1 - n0)), int(min(m1, n1))
    xs = np.arange(lo, hi + 1, dtype=float)
    lg = [math.lgamma(n1 + 1) - math.lgamma(x + 1) - math.lgamma(n1 - x + 1)
          + math.lgamma(n0 + 1) - math.lgamma(m1 - x + 1) - math.lgamma(n0 - m1 + x + 1)
          for x in xs]
    return xs, np.array(lg)


def _nchg_tail(xs, lg, a, psi, upper: bool) -> float:
    """P(X >= a) (upper) or P(X <= a) under the noncentral hypergeometric law with odds ratio
    psi (NaN when psi is not a positive number)."""
    if not (psi > 0 and math.isfinite(psi)):
        return NAN
    w = lg + xs * math.log(psi)
    w = np.exp(w - w.max())
    p = w / w.sum()
    return float(p[xs >= a].sum() if upper else p[xs <= a].sum())


def _secant(xs, lg, a, start, alpha2: float, upper: bool) -> float:
    """Stata's search for an exact bound: secant steps on the tail probability from two
    starting values, stopped as soon as two successive values differ by less than 0.5%
    (so Stata's bounds sit within a few 1e-4 of the exact roots; this reproduces its digits)."""
    prev, cur = start
    if not (math.isfinite(prev) and math.isfinite(cur)) or abs(cur - prev) < 0.005 * cur:
        return cur
    p_prev, p_cur = _nchg_tail(xs, lg, a, prev, upper), _nchg_tail(xs, lg, a, cur, upper)
    for _ in range(100):
        if abs(cur - prev) < 0.005 * cur:
            break
        slope = (p_cur - p_prev) / (cur - prev)
        if not (math.isfinite(slope) and slope != 0):
            return NAN
        nxt = (alpha2 + slope * cur - p_cur) / slope
        prev, p_prev, cur, p_cur = cur, p_cur, nxt, _nchg_tail(xs, lg, a, nxt, upper)
    return cur


def exact_or_ci(a, b, c, d, level: float) -> tuple[float, float]:
    """The exact (conditional) interval as Stata's cci finds it: secant steps on the
    noncentral hypergeometric tails at alpha/2, started from the Cornfield bound and the
    continuity-corrected Cornfield bound (Woolf's bound, and 0.75 or 1.3 times it, where those
    do not exist)."""
    xs, lg = _nchg_support(a, b, c, d)
    alpha2 = (1 - level / 100) / 2
    un_lb, un_ub = cornfield_or_ci(a, b, c, d, level)
    adj_lb, adj_ub = cornfield_or_ci(a, b, c, d, level, correction=0.5)
    if un_lb < 0 or not (adj_lb > 0) or not math.isfinite(un_ub) or not math.isfinite(adj_ub):
        se = math.sqrt(1 / a + 1 / b + 1 / c + 1 / d)
        orr = a * d / (b * c)
        z = _z(level)
        w_lb, w_ub = orr * math.exp(-z * se), orr * math.exp(z * se)
        if un_lb < 0 or not (adj_lb > 0):
            un_lb, adj_lb = w_lb, 0.75 * w_lb
        if not math.isfinite(un_ub) or not math.isfinite(adj_ub):
            un_ub, adj_ub = w_ub, 1.3 * w_ub
    lb = _secant(xs, lg, a, (un_lb, adj_lb), alpha2, True)
    ub = _secant(xs, lg, a, (un_ub, adj_ub), alpha2, False)
    return (0.0 if not math.isfinite(lb) else lb), ub


def _fitted_a(psi: float, m1, n1, n0) -> float:
    """The cell A with margins fixed and A D / (B C) = psi."""
    lo, hi = max(0.0, m1 - n0), min(m1, n1)
    if psi == 1:
        return m1 * n1 / (m1 + n0 + 0.0) if (m1 + n0) else lo
    qa = 1 - psi
    qb = (n0 - m1) + psi * (m1 + n1)
    qc = -psi * m1 * n1
    disc = math.sqrt(max(qb * qb - 4 * qa * qc, 0.0))
    for r in ((-qb + disc) / (2 * qa), (-qb - disc) / (2 * qa)):
        if lo - 1e-9 <= r <= hi + 1e-9:
            return min(max(r, lo), hi)
    return NAN


def cornfield_or_ci(a, b, c, d, level: float, correction: float = 0.0) -> tuple[float, float]:
    """Cornfield's approximation: the fitted cell A_L (A_U) of the bound satisfies
    a - A -+ correction = +- z sqrt(var(A)), var(A) = 1 / (1/A + 1/B + 1/C + 1/D); a bound
    with no such cell is 0 (lower) or missing (upper)."""
    from scipy.optimize import brentq
    z = _z(level)
    m1, n1, n0 = a + b, a + c, b + d
    lo, hi = max(0.0, m1 - n0), min(m1, n1)

    def cells(A):
        return A, m1 - A, n1 - A, n0 - m1 + A

    def f(A, sign):
        cl = cells(A)
        v = 0.0 if min(cl) <= 0 else 1.0 / sum(1 / x for x in cl)
        return (a - A) - sign * (correction + z * math.sqrt(v))

    def psi(A):
        A_, B, C, D = cells(A)
        return A_ * D / (B * C) if B * C > 0 else math.inf
    eps = 1e-10 * (hi - lo)          # inside the support: a zero cell at an end has var 0
    lb = ub = NAN

    def root(sign, left, right):
        if left >= right or f(left, sign) * f(right, sign) > 0:
            return NAN
        return psi(brentq(lambda A: f(A, sign), left, right, xtol=1e-13))
    lb = 0.0 if a <= lo else root(1, lo + eps, a - eps)
    ub = math.inf if a >= hi else root(-1, a + eps, hi - eps)
    if correction and not math.isfinite(lb):
        lb = 0.0
    if correction and not math.isfinite(ub):
        ub = NAN
    return lb, ub


def odds_ratio(a, b, c, d, level: float, method: str) -> Estimate:
    """Point estimate ad/bc with the interval of `method` (exact | cornfield | woolf | tb)."""
    orr = _div(a * d, b * c) if b * c else (math.inf if a * d else NAN)
    z = _z(level)
    if method == "woolf":
        if min(a, b, c, d) <= 0:
            return Estimate(orr, NAN, NAN, "Woolf")
        return _log_ci(orr, 1 / a + 1 / b + 1 / c + 1 / d, z, "Woolf")
    if method == "tb":
        return _tb(orr, pearson_chi2(a, b, c, d), z, True)
    if (a + b) == 0 or (c + d) == 0 or (a + c) == 0 or (b + d) == 0:
        return Estimate(orr, NAN, NAN, "exact" if method == "exact" else "Cornfield")
    if method == "exact" and min(a, b, c, d) > 0:
        lb, ub = exact_or_ci(a, b, c, d, level)
        return Estimate(orr, lb, ub, "exact")
    lb, ub = cornfield_or_ci(a, b, c, d, level)
    return Estimate(orr, lb, ub, "Cornfield")


# ------------------------------------------------------------------------- cohort (cs)
@dataclass
class Cohort:
    a: float
    b: float
    c: float
    d: float
    risk1: float
    risk0: float
    risk: float
    rd: Estimate
    rr: Estimate
    chi2: float
    kind: str
    afe: Estimate
    afp: float
    orr: Estimate | None = None


def cohort(a, b, c, d, level: float = 95.0, tb: bool = False, or_method: str | None = None) -> Cohort:
    n1, n0 = a + c, b + d
    p1, p0 = _div(a, n1), _div(b, n0)
    p = _div(a + b, n1 + n0)
    z = _z(level)
    chi2 = pearson_chi2(a, b, c, d)
    rd_est = p1 - p0
    if tb:
        rd = _tb(rd_est, chi2, z, False)
        rr = _tb(_ratio(p1, p0), chi2, z, True)
    else:
        se = math.sqrt(p1 * (1 - p1) / n1 + p0 * (1 - p0) / n0) if n1 and n0 else NAN
        rd = Estimate(rd_est, rd_est - z * se, rd_est + z * se)
        var = (1 / a - 1 / n1 + 1 / b - 1 / n0) if a > 0 and b > 0 else NAN
        rr = _log_ci(_ratio(p1, p0), var, z)
    kind, afe, _ = fraction(rr, 1.0)
    afp = _div(p - p0, p) if kind == "attributable" else _div(p0 - p, p0)
    out = Cohort(a, b, c, d, p1, p0, p, rd, rr, chi2, kind, afe, afp)
    if or_method:
        out.orr = odds_ratio(a, b, c, d, level, or_method)
    return out


# ------------------------------------------------------------------------- case-control (cc)
@dataclass
class CaseControl:
    a: float
    b: float
    c: float
    d: float
    orr: Estimate
    chi2: float
    kind: str
    afe: Estimate
    afp: float


def case_control(a, b, c, d, level: float = 95.0, method: str = "exact") -> CaseControl:
    orr = odds_ratio(a, b, c, d, level, method)
    chi2 = pearson_chi2(a, b, c, d)
    kind, afe, _ = fraction(orr, 1.0)
    share = _div(a, a + b) if kind == "attributable" else _div(c, c + d)
    return CaseControl(a, b, c, d, orr, chi2, kind, afe, afe.est * share)


# ------------------------------------------------------------------------- incidence rates (ir)
@dataclass
class Rates:
    a: float
    b: float
    t1: float
    t0: float
    rate1: float
    rate0: float
    rate: float
    ird: Estimate
    irr: Estimate
    kind: str
    afe: Estimate
    afp: float
    p_one: float              # mid-p, one-sided in the observed direction
    upper: bool               # the tail is Pr(k >= a)
    chi2: float = NAN


def _binom_cp(k: float, n: float, level: float) -> tuple[float, float]:
    from scipy.special import betaincinv
    alpha = 1 - level / 100
    lo = 0.0 if k == 0 else float(betaincinv(k, n - k + 1, alpha / 2))
    hi = 1.0 if k == n else float(betaincinv(k + 1, n - k, 1 - alpha / 2))
    return lo, hi


def rates(a, b, t1, t0, level: float = 95.0, tb: bool = False) -> Rates:
    from scipy.stats import binom
    r1, r0 = _div(a, t1), _div(b, t0)
    r = _div(a + b, t1 + t0)
    z = _z(level)
    m = a + b
    p = t1 / (t1 + t0)
    expected = m * p
    chi2 = (a - expected) ** 2 / (m * p * (1 - p)) if m > 0 else NAN
    ird_est = r1 - r0
    irr_est = _div(r1, r0) if r0 else (math.inf if r1 else NAN)
    if tb:
        ird = _tb(ird_est, chi2, z, False)
        irr = _tb(irr_est, chi2, z, True)
    else:
        se = math.sqrt(a / t1 ** 2 + b / t0 ** 2)
        ird = Estimate(ird_est, ird_est - z * se, ird_est + z * se)
        lo, hi = _binom_cp(a, m, level) if m > 0 else (NAN, NAN)
        k = t0 / t1
        irr = Estimate(irr_est, lo / (1 - lo) * k if lo < 1 else math.inf,
                       hi / (1 - hi) * k if hi < 1 else math.inf, "exact")
    upper = not irr_est < 1          # Stata's `irr >= 1`, true for a missing ratio
    if m > 0:
        pk = float(binom.pmf(a, m, p))
        tail = float(binom.sf(a - 1, m, p)) if upper else float(binom.cdf(a, m, p))
        p_one = tail - 0.5 * pk
    else:
        p_one = NAN
    kind, afe, _ = fraction(irr, 1.0)
    afp = afe.est * (_div(a, m) if kind == "attributable" else p)
    return Rates(a, b, t1, t0, r1, r0, r, ird, irr, kind, afe, afp, p_one, upper, chi2)


# ------------------------------------------------------------------------- Mantel-Haenszel
@dataclass
class Stratified:
    """Per-stratum estimates, crude and M-H combined, and the tests."""
    strata: list = field(default_factory=list)      # (Estimate, M-H weight)
    crude: Estimate | None = None
    mh: Estimate | None = None
    chi2_hom: float = NAN
    df_hom: int = 0
    chi2_mh: float = NAN            # test that the combined ratio is 1 (odds ratios)
    chi2_bd: float = NAN
    chi2_tarone: float = NAN
    df_bd: int = 0


def _homogeneity(ests, varis, combined) -> tuple[float, int]:
    """sum (ln R_i - ln R)^2 / var_i over the strata whose ratio and variance are finite and
    positive; df = the strata with a finite ratio (0 included), less one, as Stata counts."""
    df = sum(1 for e in ests if math.isfinite(e)) - 1
    ok = [(math.log(e), v) for e, v in zip(ests, varis)
          if math.isfinite(e) and e > 0 and math.isfinite(v) and v > 0]
    if df < 1 or not ok or not (combined > 0 and math.isfinite(combined)):
        return NAN, max(df, 0)
    lc = math.log(combined)
    return float(sum((l - lc) ** 2 / v for l, v in ok)), df


def mh_risk_ratio(tabs: np.ndarray, level: float = 95.0) -> Stratified:
    """tabs: (K, 4) rows a b c d."""
    z = _z(level)
    out = Stratified()
    R = S = num = 0.0
    ests, varis = [], []
    for a, b, c, d in tabs:
        n1, n0 = a + c, b + d
        n = n1 + n0
        est = cohort(a, b, c, d, level).rr
        out.strata.append((est, b * n1 / n if n else NAN))
        R += a * n0 / n if n else 0.0
        S += b * n1 / n if n else 0.0
        num += ((a + b) * n1 * n0 - a * b * n) / n ** 2 if n else 0.0
        ests.append(est.est)
        varis.append(1 / a - 1 / n1 + 1 / b - 1 / n0 if a > 0 and b > 0 else NAN)
    a, b, c, d = tabs.sum(axis=0)
    out.crude = cohort(a, b, c, d, level).rr
    out.mh = _log_ci(_div(R, S), _div(num, R * S), z)
    out.chi2_hom, out.df_hom = _homogeneity(ests, varis, out.mh.est)
    return out


def mh_odds_ratio(tabs: np.ndarray, level: float = 95.0, method: str = "exact") -> Stratified:
    z = _z(level)
    out = Stratified()
    sR = sS = sPR = sPSQR = sQS = 0.0
    ests, varis = [], []
    obs = expct = var_a = 0.0
    for a, b, c, d in tabs:
        n = a + b + c + d
        est = odds_ratio(a, b, c, d, level, method)
        out.strata.append((est, b * c / n if n else NAN))
        if n == 0:
            continue
        P, Q, R, S = (a + d) / n, (b + c) / n, a * d / n, b * c / n
        sR, sS = sR + R, sS + S
        sPR, sPSQR, sQS = sPR + P * R, sPSQR + P * S + Q * R, sQS + Q * S
        ests.append(est.est)
        varis.append(1 / a + 1 / b + 1 / c + 1 / d if min(a, b, c, d) > 0 else NAN)
        if n > 1:
            m1, n1 = a + b, a + c
            obs += a
            expct += m1 * n1 / n
            var_a += m1 * (n - m1) * n1 * (n - n1) / (n * n * (n - 1))
    a, b, c, d = tabs.sum(axis=0)
    out.crude = odds_ratio(a, b, c, d, level, method)
    mh = _div(sR, sS)
    var = sPR / (2 * sR ** 2) + sPSQR / (2 * sR * sS) + sQS / (2 * sS ** 2) if sR > 0 and sS > 0 else NAN
    out.mh = _log_ci(mh, var, z)
    out.chi2_hom, out.df_hom = _homogeneity(ests, varis, mh)
    out.chi2_mh = (obs - expct) ** 2 / var_a if var_a > 0 else NAN
    out.chi2_bd, out.chi2_tarone, out.df_bd = breslow_day(tabs, mh)
    return out


def breslow_day(tabs: np.ndarray, psi: float) -> tuple[float, float, int]:
    """Breslow and Day's chi2 of homogeneity of the odds ratios at the M-H estimate (strata
    with an undetermined table left out), the same with Tarone's correction, and their df."""
    if not (psi > 0 and math.isfinite(psi)):
        return NAN, NAN, 0
    chi = 0.0
    k = 0
    sa = sA = sv = 0.0
    for a, b, c, d in tabs:
        m1, n1, n0 = a + b, a + c, b + d
        if m1 == 0 or (c + d) == 0 or n1 == 0 or n0 == 0:
            continue
        A = _fitted_a(psi, m1, n1, n0)
        B, C, D = m1 - A, n1 - A, n0 - m1 + A
        if min(A, B, C, D) <= 0:
            continue
        v = 1 / (1 / A + 1 / B + 1 / C + 1 / D)
        chi += (a - A) ** 2 / v
        sa, sA, sv = sa + a, sA + A, sv + v
        k += 1
    tar = chi - (sa - sA) ** 2 / sv if sv > 0 else NAN
    return (chi, tar, k - 1) if k > 1 else (NAN, NAN, 0)


def mh_rate_ratio(tabs: np.ndarray, level: float = 95.0) -> Stratified:
    """tabs: (K, 4) rows a b t1 t0."""
    z = _z(level)
    out = Stratified()
    R = S = num = 0.0
    ests, varis = [], []
    for a, b, t1, t0 in tabs:
        t = t1 + t0
        est = rates(a, b, t1, t0, level).irr
        out.strata.append((est, b * t1 / t if t else NAN))
        if t > 0:
            R += a * t0 / t
            S += b * t1 / t
            num += (a + b) * t1 * t0 / t ** 2
        ests.append(est.est)
        varis.append(1 / a + 1 / b if a > 0 and b > 0 else NAN)
    a, b, t1, t0 = tabs.sum(axis=0)
    out.crude = rates(a, b, t1, t0, level).irr
    out.mh = _log_ci(_div(R, S), _div(num, R * S), z)
    out.chi2_hom, out.df_hom = _homogeneity(ests, varis, out.mh.est)
    return out
