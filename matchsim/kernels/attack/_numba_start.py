"""A fresh process's first numba dispatch, without importing SciPy's linear algebra.

On the first call of any compiled function (even one loaded from numba's on-disk
cache) numba's CPU target imports its implementation modules; one of them,
``numba.np.arraymath``, asks at import whether BLAS is there for ``np.dot`` by
importing ``scipy.linalg.cython_blas``, which imports all of ``scipy.linalg`` (and,
through SciPy's array-API layer, ``numpy.f2py``): 0.2-0.4 s of a fresh process on this
project's machine, for kernels that never call BLAS (``benchmarks/attack_fixed_costs.py``).

:func:`defer_blas_check` imports that module first with the check answered by
whether ``scipy.linalg`` can be found (no import), so the answer is the same
wherever SciPy is installed. numba's linear-algebra implementations call
``ensure_blas`` again when they are compiled, so a kernel that does use BLAS still
imports SciPy then and fails the same way without it. If numba's internals differ from
what this expects, nothing is changed (the import is only slower).
"""

from __future__ import annotations

import importlib.util
import sys

_DONE = False


def _scipy_linalg_findable() -> None:
    find = importlib.util.find_spec
    if find("scipy") is None or find("scipy.linalg") is None:
        raise ImportError("scipy.linalg is not installed")


def defer_blas_check() -> None:
    """Import ``numba.np.arraymath`` with its BLAS probe deferred (once per process;
    nothing to do if it is imported already)."""
    global _DONE
    if _DONE or "numba.np.arraymath" in sys.modules:
        _DONE = True
        return
    _DONE = True
    try:
        import numba.np.linalg as linalg
    except ImportError:  # pragma: no cover - numba without the module
        return
    real = getattr(linalg, "ensure_blas", None)
    if real is None:  # pragma: no cover - a numba that checks some other way
        return
    linalg.ensure_blas = _scipy_linalg_findable
    try:
        import numba.np.arraymath as arraymath
    finally:
        linalg.ensure_blas = real
    if getattr(arraymath, "ensure_blas", None) is _scipy_linalg_findable:
        arraymath.ensure_blas = real
