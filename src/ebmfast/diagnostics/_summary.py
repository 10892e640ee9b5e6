"""Summary table of posterior statistics and convergence diagnostics."""

import numpy as np

from ._ess import ess_dims
from ._mcse import mcse_mean_dims, pooled_sd
from ._rhat import rhat_dims
from ._validation import MIN_DRAWS, as_draws, warn_too_few_draws

COLUMNS = ("mean", "sd", "mcse_mean", "ess_bulk", "ess_tail", "r_hat")


class Summary:
    """Table of per-dimension statistics returned by :func:`summary`.

    Attributes
    ----------
    names : list of str
        Row labels, one per dimension.
    mean, sd, mcse_mean, ess_bulk, ess_tail, r_hat : ndarray of shape (d,)
        One column each, as defined in :func:`summary`.
    """

    def __init__(self, names, columns):
        self.names = list(names)
        for column in COLUMNS:
            setattr(self, column, np.asarray(columns[column], dtype=np.float64))

    def __len__(self):
        return len(self.names)

    def to_array(self):
        """Return the table as a structured array with fields ``name`` and the COLUMNS.

        The ``name`` field is a Unicode string as wide as the longest name.
        """
        width = max(1, *(len(name) for name in self.names))
        dtype = [("name", f"U{width}")] + [(column, np.float64) for column in COLUMNS]
        table = np.empty(len(self.names), dtype=dtype)
        table["name"] = self.names
        for column in COLUMNS:
            table[column] = getattr(self, column)
        return table

    def to_dict(self):
        """Return the table as a dict mapping ``"name"`` and each column to a list.

        The numbers are Python floats, so ``json.dumps`` accepts the dict. NaN
        and inf stay as float values, which ``json.dumps`` writes as NaN and
        Infinity by default.
        """
        table = {"name": list(self.names)}
        for column in COLUMNS:
            table[column] = [float(value) for value in getattr(self, column)]
        return table

    def __str__(self):
        header = ["", *COLUMNS]
        rows = [header]
        for row, name in enumerate(self.names):
            rows.append(
                [
                    name,
                    _format_real(self.mean[row]),
                    _format_real(self.sd[row]),
                    _format_real(self.mcse_mean[row]),
                    _format_count(self.ess_bulk[row]),
                    _format_count(self.ess_tail[row]),
                    _format_rhat(self.r_hat[row]),
                ]
            )
        widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
        lines = []
        for row in rows:
            name_cell = row[0].ljust(widths[0])
            number_cells = [cell.rjust(width) for cell, width in zip(row[1:], widths[1:])]
            lines.append("  ".join([name_cell, *number_cells]))
        return "\n".join(lines)

    def __repr__(self):
        return str(self)


def _format_real(value):
    return f"{value:.4g}"


def _format_count(value):
    return f"{value:.0f}" if np.isfinite(value) else str(value)


def _format_rhat(value):
    return f"{value:.3f}" if np.isfinite(value) else str(value)


def summary(samples, *, names=None):
    """Summarise MCMC draws per dimension: mean, sd, MCSE, ESS and R-hat.

    Parameters
    ----------
    samples : array_like, shape (n_chains, n_draws) or (n_chains, n_draws, d)
        Draws of one or more chains, or an object with a ``samples`` attribute
        containing such an array, such as a sampler result. Values must be
        finite. Not modified.
    names : sequence of str, optional
        One label per dimension. Default ``"x"`` for 2-D input and
        ``"x[0]"``, ``"x[1]"``, ... for 3-D input.

    Returns
    -------
    Summary
        One row per dimension, with columns:

        - ``mean``, ``sd``: mean and standard deviation (ddof=1) of all draws
          pooled over chains.
        - ``mcse_mean``: Monte Carlo standard error of the mean, see
          :func:`mcse_mean`.
        - ``ess_bulk``, ``ess_tail``: :func:`ess` with ``method="bulk"`` and
          ``method="tail"``.
        - ``r_hat``: rank-normalised split R-hat, see :func:`rhat`.

        ``print(result)`` shows the table. ``result.to_array()`` returns it as
        a NumPy structured array and ``result.to_dict()`` as a dict of lists.

    Raises
    ------
    TypeError
        If ``samples`` is not numeric.
    ValueError
        If ``samples`` has the wrong number of dimensions, is empty or
        contains NaN or inf, or if ``names`` has the wrong length.

    Warns
    -----
    RuntimeWarning
        Once, if there are fewer than 4 draws per chain. MCSE, ESS and R-hat
        are then NaN, and mean and sd are still computed.

    References
    ----------
    .. [1] A. Vehtari, A. Gelman, D. Simpson, B. Carpenter, P.-C. Bürkner,
       "Rank-normalization, folding, and localization: An improved R-hat for
       assessing convergence of MCMC", Bayesian Analysis 16(2), 667-718, 2021.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> table = summary(rng.standard_normal((4, 1000, 2)), names=["a", "b"])
    >>> table.to_array()["name"].tolist()
    ['a', 'b']
    """
    draws, squeeze = as_draws(samples)
    n_draws, n_dims = draws.shape[1], draws.shape[2]
    names = _row_names(names, n_dims, squeeze)

    columns = {
        "mean": draws.mean(axis=(0, 1)),
        "sd": [pooled_sd(draws[:, :, dim]) for dim in range(n_dims)],
    }
    if n_draws < MIN_DRAWS:
        warn_too_few_draws(n_draws)
        for column in ("mcse_mean", "ess_bulk", "ess_tail", "r_hat"):
            columns[column] = np.full(n_dims, np.nan)
    else:
        columns["mcse_mean"] = mcse_mean_dims(draws)
        columns["ess_bulk"] = ess_dims(draws, method="bulk")
        columns["ess_tail"] = ess_dims(draws, method="tail")
        columns["r_hat"] = rhat_dims(draws)
    return Summary(names, columns)


def _row_names(names, n_dims, squeeze):
    """Return the row labels, checking that ``names`` has one per dimension."""
    if names is None:
        return ["x"] if squeeze else [f"x[{dim}]" for dim in range(n_dims)]
    if isinstance(names, str):
        names = [names]
    names = [str(name) for name in names]
    if len(names) != n_dims:
        raise ValueError(
            f"names must have one label per dimension ({n_dims}); got {len(names)}"
        )
    return names
