"""Tests of the summary table."""

import json
import warnings

import numpy as np
import pytest
import scipy.signal

from ebmfast.diagnostics import Summary, ess, mcse_mean, rhat, summary

COLUMNS = ("mean", "sd", "mcse_mean", "ess_bulk", "ess_tail", "r_hat")

# Computed once with ArviZ 0.23.4 on np.random.default_rng(1).standard_normal((4, 1000)):
# az.summary(az.convert_to_dataset(x), round_to="none"), columns mean, sd,
# mcse_mean, ess_bulk, ess_tail and r_hat.
WHITE_NOISE_ARVIZ = {
    "mean": -0.010054012348147791,
    "sd": 1.003168273951305,
    "mcse_mean": 0.015782327741179405,
    "ess_bulk": 4039.146787452132,
    "ess_tail": 3404.13834597156,
    "r_hat": 1.001569927811536,
}


def mixed_draws():
    """Draw (4, 600, 3): white noise, AR(1) with rho = 0.8, and a constant."""
    rng = np.random.default_rng(50)
    noise = rng.standard_normal((4, 600))
    correlated = scipy.signal.lfilter([1.0], [1.0, -0.8], rng.standard_normal((4, 600)), axis=1)
    return np.stack([noise, correlated, np.full((4, 600), 2.0)], axis=2)


def test_columns_match_functions():
    x = mixed_draws()
    table = summary(x)
    np.testing.assert_allclose(table.mean, x.mean(axis=(0, 1)), rtol=1e-12)
    np.testing.assert_allclose(table.sd, x.reshape(-1, 3).std(axis=0, ddof=1), rtol=1e-12, atol=0.0)
    np.testing.assert_array_equal(table.mcse_mean, mcse_mean(x))
    np.testing.assert_array_equal(table.ess_bulk, ess(x))
    np.testing.assert_array_equal(table.ess_tail, ess(x, method="tail"))
    np.testing.assert_array_equal(table.r_hat, rhat(x))


def test_white_noise_matches_stored_arviz_summary():
    x = np.random.default_rng(1).standard_normal((4, 1000))
    row = summary(x).to_dict()
    for column in COLUMNS:
        assert row[column][0] == pytest.approx(WHITE_NOISE_ARVIZ[column], rel=1e-9), column


def test_matches_installed_arviz_summary():
    az = pytest.importorskip("arviz")
    x = mixed_draws()[:, :, :2]
    expected = az.summary(az.convert_to_dataset(x), round_to="none")
    table = summary(x)
    for column in COLUMNS:
        np.testing.assert_allclose(getattr(table, column), expected[column].to_numpy(), rtol=1e-9, err_msg=column)


def test_constant_dimension_row():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        table = summary(mixed_draws())
    assert table.mean[2] == 2.0
    assert table.sd[2] == 0.0
    assert table.mcse_mean[2] == 0.0
    assert table.ess_bulk[2] == 2400.0
    assert table.ess_tail[2] == 2400.0
    assert np.isnan(table.r_hat[2])


def test_structured_array():
    table = summary(mixed_draws(), names=["noise", "ar1", "fixed"])
    array = table.to_array()
    assert array.dtype.names == ("name", *COLUMNS)
    assert array["name"].tolist() == ["noise", "ar1", "fixed"]
    np.testing.assert_array_equal(array["ess_bulk"], table.ess_bulk)
    assert array.shape == (3,)


def test_dict_is_json_serialisable():
    table = summary(mixed_draws(), names=["noise", "ar1", "fixed"])
    as_dict = table.to_dict()
    assert list(as_dict) == ["name", *COLUMNS]
    assert all(isinstance(value, float) for value in as_dict["ess_tail"])
    restored = json.loads(json.dumps(as_dict))
    assert restored["name"] == ["noise", "ar1", "fixed"]
    assert restored["ess_bulk"] == pytest.approx(table.ess_bulk.tolist())


def test_printed_table():
    table = summary(mixed_draws(), names=["noise", "ar1", "fixed"])
    text = str(table)
    lines = text.splitlines()
    assert len(lines) == 4
    assert lines[0].split() == list(COLUMNS)
    assert lines[1].split()[0] == "noise"
    assert lines[3].split() == ["fixed", "2", "0", "0", "2400", "2400", "nan"]
    assert f"{table.r_hat[1]:.3f}" in lines[2]
    assert len({len(line) for line in lines}) == 1
    assert repr(table) == text


def test_default_names():
    x = mixed_draws()
    assert summary(x).names == ["x[0]", "x[1]", "x[2]"]
    assert summary(x[:, :, 0]).names == ["x"]
    assert len(summary(x)) == 3
    assert isinstance(summary(x), Summary)


def test_rejects_wrong_number_of_names():
    with pytest.raises(ValueError, match=r"names must have one label per dimension \(3\); got 2"):
        summary(mixed_draws(), names=["a", "b"])


def test_too_few_draws_warns_once():
    x = np.random.default_rng(51).standard_normal((2, 3, 4))
    with pytest.warns(RuntimeWarning, match="fewer than the 4") as record:
        table = summary(x)
    assert len(record) == 1
    np.testing.assert_allclose(table.mean, x.mean(axis=(0, 1)))
    assert np.isfinite(table.sd).all()
    for column in ("mcse_mean", "ess_bulk", "ess_tail", "r_hat"):
        assert np.isnan(getattr(table, column)).all(), column


def test_single_draw_has_nan_sd():
    x = np.ones((1, 1, 2))
    with pytest.warns(RuntimeWarning, match="has 1 draws per chain"):
        table = summary(x)
    np.testing.assert_array_equal(table.mean, [1.0, 1.0])
    assert np.isnan(table.sd).all()
