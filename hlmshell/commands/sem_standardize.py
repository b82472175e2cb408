"""sem, standardized: each reported parameter in the metric of standardized variables (paths
times sd(source)/sd(dependent), error variances over total variances, covariances as
correlations, means and intercepts over the standard deviation), from the model-implied
covariance of all variables; standard errors by the delta method (numerical Jacobian)."""
from __future__ import annotations

import numpy as np

from hlmshell.engine.sem_fit import standardize


def standardized_b_se(fitted) -> tuple[np.ndarray, np.ndarray]:
    built = fitted.built
    kinds = [(p.mat, p.i, p.j) for p in built.params]
    theta = fitted.fit.theta
    b = standardize(built.model, theta, kinds)
    J = np.zeros((len(kinds), theta.size))
    for k in range(theta.size):
        h = 1e-6 * max(1.0, abs(theta[k]))
        tp, tm = theta.copy(), theta.copy()
        tp[k] += h
        tm[k] -= h
        J[:, k] = (standardize(built.model, tp, kinds) - standardize(built.model, tm, kinds)) / (2 * h)
    V = J @ fitted.V_free @ J.T
    se = np.sqrt(np.clip(np.diag(V), 0, None))
    fixed = np.array([p.k < 0 for p in built.params])
    # a parameter fixed in the model is reported fixed only when its standardized value is too
    se[fixed & (se < 1e-12)] = 0.0
    return b, se
