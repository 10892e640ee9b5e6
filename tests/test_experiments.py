"""The experiment scripts under bench/experiments run end to end at their --smoke size."""

import importlib.util
import pathlib
import subprocess
import sys

import pytest

EXPERIMENTS = pathlib.Path(__file__).resolve().parents[1] / "bench" / "experiments"
SCRIPTS = ["rbm_capacity", "hopfield_capacity", "mcmc_mixing"]
HAVE_MATPLOTLIB = importlib.util.find_spec("matplotlib") is not None


def run_script(name, output_dir, *extra):
    completed = subprocess.run(
        [sys.executable, str(EXPERIMENTS / f"{name}.py"), "--smoke",
         "--output-dir", str(output_dir), *extra],
        capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
    return completed


@pytest.mark.parametrize("name", SCRIPTS)
def test_smoke_writes_table(name, tmp_path):
    run_script(name, tmp_path)
    table = (tmp_path / f"{name}.md").read_text(encoding="utf-8")
    assert "| --- |" in table
    assert "Command: `python" in table
    png = tmp_path / f"{name}.png"
    if HAVE_MATPLOTLIB:
        assert png.read_bytes().startswith(b"\x89PNG")
    else:
        assert not png.exists()


def test_no_plot_writes_table_only(tmp_path):
    run_script("mcmc_mixing", tmp_path, "--no-plot")
    assert (tmp_path / "mcmc_mixing.md").exists()
    assert not (tmp_path / "mcmc_mixing.png").exists()
