"""Mixing of random-walk Metropolis and HMC on a standard Gaussian in 2 and 20 dimensions.

Target N(0, I_d) for d = 2 and d = 20. Each sampler draws 10,000 states in
each of 4 chains, started at exact draws from the target, with fixed
settings and no warmup. Random-walk Metropolis proposes x + 0.5 z with
z ~ N(0, I). HMC makes 10 leapfrog steps of 0.1 with a unit mass matrix. The table gives the acceptance rate, the integrated
autocorrelation time tau (Sokal windowing) and the bulk ESS, both averaged
over dimensions, and the ESS ratio HMC / Metropolis; the plot shows the
autocorrelation up to lag 100, averaged over chains and dimensions. HMC
costs 10 gradient evaluations per draw, Metropolis one energy evaluation,
so the table also gives the ESS per 1,000 evaluations.

    python bench/experiments/mcmc_mixing.py                  # seconds on 2 cores
    python bench/experiments/mcmc_mixing.py --smoke
"""

import warnings

import numpy as np

from _common import Timer, environment_line, markdown_table, parse_args, pyplot_or_none, write_outputs

from ebmfast.diagnostics import autocorrelation, ess, integrated_time
from ebmfast.mcmc import Gaussian, hmc, rwm

N_CHAINS = 4
MAX_LAG = 100
RWM_STEP = 0.5
HMC_STEP = 0.1
N_LEAPFROG = 10


def run_samplers(dim, n_draws, seed):
    """Return {name: (samples, acceptance rate, evaluations per draw)}."""
    target = Gaussian(np.zeros(dim), np.eye(dim))
    start = np.random.default_rng(seed).standard_normal((N_CHAINS, dim))
    metropolis = rwm(target, start, n_samples=n_draws, n_warmup=0, step_size=RWM_STEP,
                     adapt_step_size=False, random_state=seed + 1)
    hamiltonian = hmc(target, start, n_samples=n_draws, n_warmup=0, step_size=HMC_STEP,
                      n_leapfrog=N_LEAPFROG, adapt_step_size=False, adapt_mass=False,
                      random_state=seed + 2)
    return {"Metropolis": (metropolis.samples, metropolis.acceptance_rate.mean(), 1),
            "HMC": (hamiltonian.samples, hamiltonian.acceptance_rate.mean(), N_LEAPFROG)}


def main():
    args = parse_args(__doc__.splitlines()[0])
    n_draws = 1000 if args.smoke else 10_000
    dims = [2, 20]

    rows, curves = [], {}
    with Timer() as timer:
        for dim in dims:
            ess_by_sampler = {}
            for name, (samples, acceptance, cost) in run_samplers(dim, n_draws, args.seed).items():
                with warnings.catch_warnings():
                    # A tau above n_draws / 50 is flagged in the table instead.
                    warnings.simplefilter("ignore")
                    tau = integrated_time(samples, on_short="ignore")
                bulk = ess(samples)
                ess_by_sampler[name] = bulk.mean()
                curves[(dim, name)] = autocorrelation(samples, max_lag=MAX_LAG).mean(axis=1)
                reliable = "" if np.all(n_draws >= 50 * tau) else " (chains < 50 tau)"
                rows.append([dim, name, f"{acceptance:.3f}", f"{tau.mean():.1f}{reliable}",
                             f"{bulk.mean():.0f}", f"{bulk.mean() / (N_CHAINS * n_draws):.3f}",
                             f"{1000 * bulk.mean() / (N_CHAINS * n_draws * cost):.1f}"])
            rows[-1].append(f"{ess_by_sampler['HMC'] / ess_by_sampler['Metropolis']:.1f}")
            rows[-2].append("")

    header = ["d", "sampler", "acceptance", "tau (mean over dims)", "bulk ESS (mean over dims)",
              "ESS / draws", "ESS per 1,000 evaluations", "ESS ratio HMC / Metropolis"]
    markdown = (f"MCMC mixing on N(0, I_d): {N_CHAINS} chains x {n_draws} draws per sampler, "
                f"started at exact draws, no warmup; Metropolis step {RWM_STEP}, HMC "
                f"{N_LEAPFROG} leapfrog steps of {HMC_STEP}.\n\n"
                + markdown_table(header, rows) + "\n" + environment_line(timer.seconds))

    plt = pyplot_or_none(args.no_plot)
    figure = None
    if plt is not None:
        figure, axes = plt.subplots(1, len(dims), figsize=(9, 3.5), sharey=True)
        for axis, dim in zip(axes, dims):
            for name in ("Metropolis", "HMC"):
                axis.plot(np.arange(MAX_LAG + 1), curves[(dim, name)], label=name)
            axis.axhline(0.0, color="gray", linewidth=0.8)
            axis.set_title(f"d = {dim}")
            axis.set_xlabel("lag")
        axes[0].set_ylabel("autocorrelation")
        axes[0].legend()
        figure.suptitle("Random-walk Metropolis (step 0.5) vs HMC (10 x 0.1) on N(0, I)", y=1.03)
    write_outputs(args.output_dir, "mcmc_mixing", markdown, figure)


if __name__ == "__main__":
    main()
