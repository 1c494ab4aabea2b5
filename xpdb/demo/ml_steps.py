"""The demo's ML steps: a fare regression and a tip classifier trained inside the database.

Everything is SQL on the ``clean`` table of the ETL step:

1. A deterministic train/test split into two tables. The second within the minute of a
   trip's pickup serves as the hash of a row id would (the data has no id column): the
   generator draws it uniformly and independently of everything else. Trips picked up in
   seconds 0-11 are the test set ``ml_test`` (20%); the training set ``ml_train`` is a
   sample of the other 80% of about :data:`TRAIN_ROWS` trips (as few whole seconds as
   give that many, computed in SQL from the row count), so that training stays about a
   second at the demo's default 8M rows. The split is a table, computed once.
2. ``CREATE MODEL fare_model TYPE linear_regression TARGET fare`` on distance, minutes,
   passengers and hour of day, then ``EVALUATE MODEL`` on the held-out trips.
3. A tip classifier among card payments (cash tips are not recorded): did the rider tip
   $5 or more (``big_tip``)? ``TYPE logistic_regression``, features as the fare model's
   plus the fare and the surcharges, evaluated on the held-out card trips. (Whether a card
   rider tips at all is drawn independently of the trip in the generator, so a classifier
   of that could only learn the base rate; the tip's size follows the fare.)
4. A ``PREDICT`` query: a few held-out trips, their fare and tip beside the predictions.

The evaluation answers are rounded to :data:`DIGITS` decimals: the demo asserts that every
device's answers agree to 1e-9, and models fitted on another device agree only to the
optimizer's tolerance. :func:`check_with_scikit_learn` recomputes the fare model's test
metrics with scikit-learn from a pandas ``clean`` frame (:func:`.check.clean_pandas`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from .steps import Context, Step

#: about how many trips each model is trained on (a sample of the training 80%): the
#: parameter of :data:`SPLIT_SQL`
TRAIN_ROWS = 250_000
#: the test set: trips picked up in the first TEST_SECONDS seconds of their minute (20%)
TEST_SECONDS = 12
#: fewer clean trips than this (a tiny ``--rows``) and the ML steps are skipped: the
#: test set or a class of the tip classifier could be empty
MIN_TRIPS = 1_000
#: decimals of the metrics in the answers (devices agree to this, not to 1e-9)
DIGITS = 4

FARE_FEATURES = ["distance", "minutes", "passengers", "hour"]
TIP_FEATURES = [*FARE_FEATURES, "fare", "surcharge"]

#: the split: ``ml_test`` holds the trips picked up in seconds 0-11 of their minute (20%),
#: ``ml_train`` a sample of about TRAIN_ROWS of the others (as few whole seconds as give
#: that many; ``?`` is TRAIN_ROWS). Both are tables: the split is computed once.
SPLIT_SQL = [
    """
    CREATE OR REPLACE TABLE ml_train AS
    SELECT pickup_at, distance, minutes, passengers, hour, fare, surcharge, tip, payment,
           tip >= 5.0 AS big_tip
    FROM clean
    WHERE second(pickup_at) >= 12
      AND second(pickup_at) < 12 + (SELECT least(48, ceil(60.0 * ? / count(*))) FROM clean)""",
    """
    CREATE OR REPLACE TABLE ml_test AS
    SELECT pickup_at, distance, minutes, passengers, hour, fare, surcharge, tip, payment,
           tip >= 5.0 AS big_tip
    FROM clean
    WHERE second(pickup_at) < 12""",
]

#: the SQL of the models, by name (tests run the same text)
ML_SQL = {
    "create_fare_model": """
        CREATE OR REPLACE MODEL fare_model TYPE linear_regression TARGET fare AS
        SELECT distance, minutes, passengers, hour, fare FROM ml_train""",
    "evaluate_fare_model": """
        EVALUATE MODEL fare_model ON (
            SELECT distance, minutes, passengers, hour, fare FROM ml_test)""",
    # with unscaled features (fares up to $70+) L-BFGS takes about 50 iterations; max_iter
    # leaves room, as a convergence warning in the demo's output would be noise
    "create_tip_model": """
        CREATE OR REPLACE MODEL tip_model TYPE logistic_regression TARGET big_tip
        WITH (max_iter = 500) AS
        SELECT distance, minutes, passengers, hour, fare, surcharge, big_tip
        FROM ml_train WHERE payment = 'card'""",
    "evaluate_tip_model": """
        EVALUATE MODEL tip_model ON (
            SELECT distance, minutes, passengers, hour, fare, surcharge, big_tip
            FROM ml_test WHERE payment = 'card')""",
    # the first trips are picked before PREDICT runs, so it scores 8 rows, not the test set
    "predict": """
        SELECT pickup_at, distance, round(minutes, 1) AS minutes, fare,
               round(PREDICT(fare_model, distance, minutes, passengers, hour), 2)
                   AS predicted_fare,
               tip, big_tip,
               PREDICT(tip_model, distance, minutes, passengers, hour, fare, surcharge)
                   AS predicted_big_tip
        FROM (SELECT * FROM ml_test WHERE payment = 'card'
              ORDER BY pickup_at, distance, fare LIMIT 8) AS first_trips
        ORDER BY pickup_at, distance, fare""",
}


def _too_few(ctx: Context) -> Any:
    """None when ``clean`` has :data:`MIN_TRIPS` trips, else the answer of a skipped step."""
    n = ctx.db.sql("SELECT count(*) AS n FROM clean").fetchall()[0][0]
    if n >= MIN_TRIPS:
        return None
    import pandas as pd

    return pd.DataFrame({"skipped": [f"the ML steps need {MIN_TRIPS:,} clean trips, the data "
                                     f"has {n:,}; run the demo with --rows 2000 or more"]})


def _ml_step(run: Callable[[Context], Any], sql: str | None = None) -> Callable[[Context], Any]:
    """``run``, or the skipped answer when there are too few trips (a tiny ``--rows``)."""
    def step(ctx: Context) -> Any:
        skipped = _too_few(ctx)
        return run(ctx) if skipped is None else skipped
    if sql is not None:
        step.sql = sql  # type: ignore[attr-defined]
    return step


def _split(ctx: Context) -> None:
    for sql in SPLIT_SQL:
        ctx.db.execute(sql, [TRAIN_ROWS] if "?" in sql else None)


def _create(name: str) -> Callable[[Context], Any]:
    sql = ML_SQL[name]

    def run(ctx: Context) -> None:
        ctx.db.sql(sql)  # its answer (rows, seconds) differs per device: not shown
    return _ml_step(run, sql)


def _evaluate(model: str) -> Callable[[Context], Any]:
    """A step evaluating ``model`` on ``ml_test``: its type, training and test rows, and
    the metrics rounded to :data:`DIGITS` decimals."""
    sql = ML_SQL[f"evaluate_{model}"]

    def run(ctx: Context) -> Any:
        import pandas as pd

        metrics = ctx.db.sql(sql).to_pandas()
        shown = ctx.db.sql("SHOW MODELS").to_pandas().set_index("name").loc[model]
        head = pd.DataFrame({"model": [model], "type": [shown["type"]],
                             "train_rows": [int(shown["training_rows"])],
                             "test_rows": metrics["rows"].astype("int64")})
        return pd.concat([head, metrics.drop(columns="rows").round(DIGITS)], axis=1)
    return _ml_step(run, sql)


def _predict(ctx: Context) -> Any:
    return ctx.db.sql(ML_SQL["predict"]).to_pandas()


#: the ML steps, in order (:mod:`.steps` puts them before its final reopen step)
ML_STEPS: list[Step] = [
    Step("ML: train/test split", _ml_step(_split)),
    Step("ML: train fare regression", _create("create_fare_model")),
    Step("ML: evaluate fare regression", _evaluate("fare_model"),
         "fare regression (CREATE MODEL ... TYPE linear_regression TARGET fare), evaluated "
         "on held-out trips"),
    Step("ML: train tip classifier", _create("create_tip_model")),
    Step("ML: evaluate tip classifier", _evaluate("tip_model"),
         "did a card rider tip $5 or more? (TYPE logistic_regression), evaluated on held-out "
         "card trips"),
    Step("ML: PREDICT beside the truth", _ml_step(_predict, ML_SQL["predict"]),
         "PREDICT(fare_model, ...) and PREDICT(tip_model, ...) on a few held-out trips"),
]


def split_pandas(clean: Any) -> tuple[Any, Any]:
    """The training sample and the test set of :data:`SPLIT_SQL`, in pandas.

    Parameters
    ----------
    clean : pandas.DataFrame
        The ETL's ``clean`` table (e.g. :func:`xpdb.demo.check.clean_pandas`).

    Returns
    -------
    (pandas.DataFrame, pandas.DataFrame)
        The rows of the tables ``ml_train`` and ``ml_test``.
    """
    second = clean["pickup_at"].dt.second
    seconds = min(60 - TEST_SECONDS, math.ceil(60.0 * TRAIN_ROWS / len(clean)))
    train = clean[(second >= TEST_SECONDS) & (second < TEST_SECONDS + seconds)]
    return train, clean[second < TEST_SECONDS]


def sklearn_fare_metrics(clean: Any) -> dict[str, float]:
    """The fare model's test metrics from scikit-learn's ``LinearRegression`` fitted on
    the same training rows as ``fare_model``: train_rows, test_rows, r2, mse, mae."""
    from sklearn.linear_model import LinearRegression
    from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score

    train, test = split_pandas(clean)
    model = LinearRegression().fit(train[FARE_FEATURES].to_numpy(float), train["fare"])
    pred = model.predict(test[FARE_FEATURES].to_numpy(float))
    return {"train_rows": len(train), "test_rows": len(test),
            "r2": r2_score(test["fare"], pred), "mse": mean_squared_error(test["fare"], pred),
            "mae": mean_absolute_error(test["fare"], pred)}


def check_with_scikit_learn(answers: Mapping[str, Any], clean: Any) -> list[str]:
    """Compare the demo's fare-model evaluation with scikit-learn on the same rows.

    Parameters
    ----------
    answers : mapping
        The demo's answers by step name (as :func:`.steps.run_steps` leaves them).
    clean : pandas.DataFrame
        The ETL's ``clean`` table computed with pandas (:func:`.check.clean_pandas`).

    Returns
    -------
    list of str
        The names of the steps checked (none when the ML steps were skipped: too few
        trips).

    Raises
    ------
    AssertionError
        When the row counts differ or a metric differs beyond the answer's rounding.
    """
    name = ML_STEPS[2].name
    if "skipped" in answers[name].columns:
        return []
    got = answers[name].iloc[0]
    expected = sklearn_fare_metrics(clean)
    for key in ("train_rows", "test_rows"):
        assert int(got[key]) == expected[key], \
            f"{name}: {key} {int(got[key])} != {expected[key]} (scikit-learn's split)"
    for key in ("r2", "mse", "mae"):
        # the answer is rounded to DIGITS decimals; the fits agree far closer than that
        tol = 0.6 * 10.0 ** -DIGITS + 1e-9 * abs(expected[key])
        assert abs(float(got[key]) - expected[key]) <= tol, \
            f"{name}: {key} {float(got[key])!r} != {expected[key]!r} (scikit-learn)"
    return [name]


__all__ = ["DIGITS", "FARE_FEATURES", "MIN_TRIPS", "ML_SQL", "ML_STEPS", "SPLIT_SQL", "TEST_SECONDS",
           "TIP_FEATURES", "TRAIN_ROWS", "check_with_scikit_learn", "sklearn_fare_metrics",
           "split_pandas"]
