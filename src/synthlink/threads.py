"""Cap the threads of the native numeric libraries (BLAS, OpenMP) inside a block.

One place for it: the utility's model fits, the propensity model and every evaluation task run
inside :func:`limited_threads`. On a shared or busy machine free threading oversubscribes the
cores and makes gradient boosting many times slower; the evaluation workers run one task per
core, so nested thread pools only get in each other's way.

threadpoolctl (https://github.com/joblib/threadpoolctl) changes the limit of the thread pools of
the libraries *already loaded* into the process, and restores the previous limits when the block
ends. So the block loads them first: numpy's and scipy's OpenBLAS (``scipy.linalg``) and
scikit-learn's OpenMP runtime (``sklearn.ensemble``). statsmodels loads no thread pool of its own
(it computes with numpy and scipy), so importing it adds nothing to limit.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

__all__ = ["limited_threads"]


@contextlib.contextmanager
def limited_threads(n: int | None) -> Iterator[None]:
    """Within the block, at most ``n`` threads in every BLAS and OpenMP pool of the process
    (``None``: leave the limits alone); the previous limits are back when the block ends."""
    if n is None:
        yield
        return
    import scipy.linalg  # noqa: F401  (load scipy's OpenBLAS before limiting it)
    import sklearn.ensemble  # noqa: F401  (load the OpenMP runtime before limiting it)
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=int(n)):
        yield
