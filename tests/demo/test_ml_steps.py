"""The demo's ML steps (xpdb/demo/ml_steps.py): the split against DuckDB running the same
SQL, the models' test metrics and predictions against scikit-learn fitted on the same rows.
"""

from __future__ import annotations

import math
import os

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics import accuracy_score, mean_squared_error, r2_score, roc_auc_score

import xpdb
from xpdb.demo import ml_steps
from xpdb.demo import steps as demo_steps
from xpdb.demo.check import check_devices_agree, clean_pandas
from xpdb.demo.taxi import write_trips
from xpdb.testing import assert_tables_equal

from .conftest import duck_after_etl

ROWS = 30_000
#: small enough that the training set is a sample (17 of the 48 training seconds)
TRAIN_ROWS = 8_000
ROW_KEYS = ["pickup_at", "distance", "fare", "minutes", "surcharge"]


@pytest.fixture(scope="module")
def parquet(tmp_path_factory):
    root = tmp_path_factory.mktemp("ml_trips")
    write_trips(str(root), ROWS, seed=5, file_rows=12_000)
    return os.path.join(str(root), "*.parquet")


@pytest.fixture(scope="module")
def duck(parquet):
    """DuckDB after the demo's ETL and the same split statements."""
    con = duck_after_etl(parquet)
    for sql in ml_steps.SPLIT_SQL:
        con.execute(sql, [TRAIN_ROWS] if "?" in sql else None)
    yield con
    con.close()


def _frame(duck, table: str) -> pd.DataFrame:
    return duck.execute(f"SELECT * FROM {table} ORDER BY {', '.join(ROW_KEYS)}").df()


_RUNS: dict[str, tuple[demo_steps.Context, str]] = {}


def _run(device: str, parquet: str, root) -> tuple[demo_steps.Context, str]:
    """The load, the ETL and the ML steps, once per device, on a persistent database."""
    if device not in _RUNS:
        path = str(root / f"db_{device}")
        ctx = demo_steps.Context(connect=lambda: xpdb.connect(path, device=device),
                                 parquet=parquet)
        steps = [*demo_steps.STEPS[:4], *ml_steps.ML_STEPS]
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(ml_steps, "TRAIN_ROWS", TRAIN_ROWS)
            demo_steps.run_steps(ctx, steps, xpdb.get_device(device))
        _RUNS[device] = (ctx, path)
    return _RUNS[device]


@pytest.fixture
def ran(device, parquet, tmp_path_factory):
    return _run(device, parquet, tmp_path_factory.getbasetemp())


def _answer(ctx, i: int) -> pd.DataFrame:
    return ctx.answers[ml_steps.ML_STEPS[i].name]


def test_ml_steps_come_before_reopen():
    names = [s.name for s in demo_steps.STEPS]
    ml = [s.name for s in ml_steps.ML_STEPS]
    at = names.index(ml[0])
    assert names[at:at + len(ml)] == ml
    assert names.index("ETL: clean + features") < at < names.index("reopen: tables intact")


def test_split_matches_duckdb(ran, duck):
    _, path = ran
    with xpdb.connect(path, device="cpu", read_only=True) as db:
        for table in ["ml_train", "ml_test"]:
            keys = ", ".join(ROW_KEYS)
            actual = db.sql(f"SELECT * FROM {table} ORDER BY {keys}").to_arrow()
            expected = duck.execute(f"SELECT * FROM {table} ORDER BY {keys}").arrow().read_all()
            assert actual.num_rows > 1000
            assert_tables_equal(actual, expected, rtol=1e-12)
    n_clean = duck.execute("SELECT count(*) FROM clean").fetchone()[0]
    train, test = _frame(duck, "ml_train"), _frame(duck, "ml_test")
    # the test set is 12 of 60 seconds; the sample the fewest seconds giving TRAIN_ROWS
    seconds = math.ceil(60 * TRAIN_ROWS / n_clean)
    assert seconds < 48
    assert set(train.pickup_at.dt.second) == set(range(12, 12 + seconds))
    assert abs(len(test) / n_clean - 0.2) < 0.02
    assert abs(len(train) / n_clean - seconds / 60) < 0.02
    assert set(test.pickup_at.dt.second) == set(range(12))


def test_fare_model_matches_scikit_learn(ran, duck):
    ctx, path = ran
    train, test = _frame(duck, "ml_train"), _frame(duck, "ml_test")
    feats = ml_steps.FARE_FEATURES
    sk = LinearRegression().fit(train[feats].to_numpy(float), train.fare)
    pred = sk.predict(test[feats].to_numpy(float))
    ans = _answer(ctx, 2)
    assert list(ans.columns) == ["model", "type", "train_rows", "test_rows", "r2", "mse",
                                 "mae", "rmse"]
    row = ans.iloc[0]
    assert (row.model, row.type) == ("fare_model", "linear_regression")
    assert (row.train_rows, row.test_rows) == (len(train), len(test))
    assert row.r2 == pytest.approx(r2_score(test.fare, pred), abs=1e-4)  # rounded
    assert row.mse == pytest.approx(mean_squared_error(test.fare, pred), abs=1e-4)
    assert 0.9 < row.r2 < 1.0  # the metered fare is nearly linear in distance and minutes
    # full precision: EVALUATE and PREDICT on the stored model
    with xpdb.connect(path, device="cpu", read_only=True) as db:
        got = db.sql(ml_steps.ML_SQL["evaluate_fare_model"]).to_pandas().iloc[0]
        assert got.r2 == pytest.approx(r2_score(test.fare, pred), rel=1e-9)
        keys = ", ".join(ROW_KEYS)
        ours = db.sql("SELECT PREDICT(fare_model, distance, minutes, passengers, hour) AS p "
                      f"FROM ml_test ORDER BY {keys}").to_pandas().p
    np.testing.assert_allclose(ours, pred, rtol=1e-9)


def test_tip_model_matches_scikit_learn(ran, duck):
    ctx, _ = ran
    train, test = _frame(duck, "ml_train"), _frame(duck, "ml_test")
    train, test = train[train.payment == "card"], test[test.payment == "card"]
    feats = ml_steps.TIP_FEATURES
    sk = LogisticRegression(max_iter=2000).fit(train[feats].to_numpy(float), train.big_tip)
    proba = sk.predict_proba(test[feats].to_numpy(float))[:, 1]
    row = _answer(ctx, 4).iloc[0]
    assert (row.model, row.type) == ("tip_model", "logistic_regression")
    assert (row.train_rows, row.test_rows) == (len(train), len(test))
    # the same objective, each optimizer to its own tolerance
    assert row.roc_auc == pytest.approx(roc_auc_score(test.big_tip, proba), abs=2e-3)
    assert row.accuracy == pytest.approx(accuracy_score(test.big_tip, proba > 0.5), abs=5e-3)
    assert row.roc_auc > 0.85  # a $5 tip follows the fare


def test_predict_answer(ran, duck):
    ctx, _ = ran
    ans = _answer(ctx, 5)
    train, test = _frame(duck, "ml_train"), _frame(duck, "ml_test")
    shown = (test[test.payment == "card"]
             .sort_values(["pickup_at", "distance", "fare"]).head(8))
    assert len(ans) == 8
    np.testing.assert_array_equal(ans.pickup_at, shown.pickup_at)
    np.testing.assert_array_equal(ans.fare, shown.fare)
    np.testing.assert_array_equal(ans.big_tip, shown.big_tip)
    feats = ml_steps.FARE_FEATURES
    sk = LinearRegression().fit(train[feats].to_numpy(float), train.fare)
    np.testing.assert_allclose(ans.predicted_fare,
                               np.round(sk.predict(shown[feats].to_numpy(float)), 2),
                               atol=0.0100001)
    assert ans.predicted_big_tip.dtype == bool


def test_check_with_scikit_learn(ran, parquet):
    """The check the demo can run on its pandas ``clean`` frame, and that it catches a
    wrong answer."""
    ctx, _ = ran
    trips = pd.read_parquet(parquet.replace("*.parquet", ""))
    clean = clean_pandas(trips)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(ml_steps, "TRAIN_ROWS", TRAIN_ROWS)
        assert ml_steps.check_with_scikit_learn(ctx.answers, clean) == [
            ml_steps.ML_STEPS[2].name]
        wrong = dict(ctx.answers)
        bad = wrong[ml_steps.ML_STEPS[2].name].copy()
        bad["r2"] -= 0.001
        wrong[ml_steps.ML_STEPS[2].name] = bad
        with pytest.raises(AssertionError, match="r2"):
            ml_steps.check_with_scikit_learn(wrong, clean)


@pytest.mark.gpu
@pytest.mark.skipif(not xpdb.gpu_available(), reason="needs a GPU")
def test_devices_agree(parquet, tmp_path_factory):
    """The demo compares every device's answers: the ML answers must agree too."""
    root = tmp_path_factory.getbasetemp()
    cpu, _ = _run("cpu", parquet, root)
    gpu, _ = _run("gpu", parquet, root)
    ml = {s.name for s in ml_steps.ML_STEPS}
    check_devices_agree({k: v for k, v in cpu.answers.items() if k in ml},
                        {k: v for k, v in gpu.answers.items() if k in ml})


def test_too_few_trips_skip(device, tmp_path):
    """A tiny --rows: the ML steps say they were skipped instead of failing."""
    write_trips(str(tmp_path / "t"), 300, seed=1)
    ctx = demo_steps.Context(connect=lambda: xpdb.connect(device=device),
                             parquet=str(tmp_path / "t" / "*.parquet"), persistent=False)
    demo_steps.run_steps(ctx, [*demo_steps.STEPS[:4], *ml_steps.ML_STEPS],
                         xpdb.get_device(device))
    shown = [s.name for s in ml_steps.ML_STEPS if s.title is not None]
    assert sorted(ctx.answers) == sorted(shown)
    for name in shown:
        ans = ctx.answers[name]
        assert list(ans.columns) == ["skipped"]
        assert "--rows" in ans.skipped[0] and f"{ml_steps.MIN_TRIPS:,}" in ans.skipped[0]
