"""Models in SQL (xpdb/sql/models.py): CREATE MODEL, PREDICT, EVALUATE, SHOW/DESCRIBE/DROP
MODEL, versions, persistence and the Python API.

Oracles: scikit-learn fitted on the same rows (predictions and metrics), DuckDB for the
SQL around PREDICT (the same query over a column of scikit-learn's predictions).
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest
from sklearn import linear_model as sklm
from sklearn import metrics as skm
from sklearn.cluster import KMeans as SkKMeans
from sklearn.naive_bayes import GaussianNB as SkGaussianNB

import xpdb
from xpdb.errors import BindError, NotSupportedError, ParseError, StorageError, XpdbError
from xpdb.errors import TypeError as XTypeError

FEATURES = ["distance", "passengers"]


def _trips(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"id": np.arange(n), "distance": rng.uniform(0.2, 12.0, n),
                       "passengers": rng.integers(1, 6, n)})
    df["fare"] = 2.5 + 1.9 * df.distance + 0.4 * df.passengers + rng.normal(0, 0.8, n)
    df["vendor"] = np.where(rng.random(n) < 0.5, "a", "b")
    df["size"] = np.where(df.fare > 12, "big", np.where(df.fare > 7, "mid", "small"))
    df["tip"] = df.fare > 10
    return df


@pytest.fixture
def trips() -> tuple[pd.DataFrame, pd.DataFrame]:
    return _trips(300, 1), _trips(120, 2)


@pytest.fixture
def db(device, trips):
    con = xpdb.connect(device=device)
    con.register("trips", trips[0])
    con.register("trips_test", trips[1])
    return con


def _col(db, sql: str) -> np.ndarray:
    return db.sql(sql).to_pandas().iloc[:, 0].to_numpy()


CREATE_FARE = ("CREATE MODEL fare_model TYPE linear_regression TARGET fare AS "
               "SELECT distance, passengers, fare FROM trips")


# -- CREATE MODEL + PREDICT against scikit-learn ------------------------------------------------
def test_linear_regression_matches_scikit_learn(db, trips) -> None:
    train, test = trips
    res = db.sql(CREATE_FARE).to_pandas()
    assert res.to_dict("records")[0]["version"] == 1
    assert res["rows"][0] == len(train)
    sk = sklm.LinearRegression().fit(train[FEATURES], train.fare)
    got = db.sql("SELECT PREDICT(fare_model, distance, passengers) AS predicted "
                 "FROM trips_test ORDER BY id")
    assert got.columns == ["predicted"] and str(got.types[0]) == "float64"
    np.testing.assert_allclose(got.to_pandas().predicted, sk.predict(test[FEATURES]),
                               rtol=1e-9)


def test_options_reach_the_estimator(db, trips) -> None:
    train, test = trips
    db.sql("CREATE MODEL r TYPE ridge TARGET fare WITH (alpha = 25.5, fit_intercept = false) "
           "AS SELECT distance, passengers, fare FROM trips")
    assert db.model("r").alpha == 25.5 and db.model("r").fit_intercept is False
    sk = sklm.Ridge(alpha=25.5, fit_intercept=False).fit(train[FEATURES], train.fare)
    np.testing.assert_allclose(
        _col(db, "SELECT PREDICT(r, distance, passengers) FROM trips_test ORDER BY id"),
        sk.predict(test[FEATURES]), rtol=1e-8)


def test_classifier_predicts_the_label_type(db, trips) -> None:
    train, test = trips
    db.sql("CREATE MODEL nb TYPE gaussian_nb TARGET size AS "
           "SELECT distance, passengers, size FROM trips")
    sk = SkGaussianNB().fit(train[FEATURES], train["size"])
    got = db.sql("SELECT PREDICT(nb, distance, passengers) AS s FROM trips_test ORDER BY id")
    assert str(got.types[0]) == "string"
    assert got.to_pandas().s.tolist() == sk.predict(test[FEATURES]).tolist()
    # boolean labels come back as BOOLEAN
    db.sql("CREATE MODEL tipper TYPE logistic_regression TARGET tip AS "
           "SELECT distance, passengers, tip FROM trips")
    got = db.sql("SELECT PREDICT(tipper, distance, passengers) AS t FROM trips_test ORDER BY id")
    assert str(got.types[0]) == "bool"
    sk = sklm.LogisticRegression().fit(train[FEATURES], train.tip)
    agree = np.mean(got.to_pandas().t.to_numpy() == sk.predict(test[FEATURES]))
    assert agree >= 0.98


def test_kmeans_cluster_ids(db, trips) -> None:
    train, _ = trips
    db.sql("CREATE MODEL k TYPE kmeans WITH (n_clusters = 3, random_state = 0) AS "
           "SELECT distance, passengers FROM trips")
    got = db.sql("SELECT PREDICT(k, distance, passengers) AS c FROM trips ORDER BY id")
    assert str(got.types[0]) == "int64"
    labels = got.to_pandas().c.to_numpy()
    fitted = db.model("k").labels_
    np.testing.assert_array_equal(labels, fitted.get() if hasattr(fitted, "get") else fitted)
    sk = SkKMeans(3, random_state=0, n_init=10).fit(train[FEATURES])
    assert skm.adjusted_rand_score(sk.labels_, labels) > 0.95


# -- PREDICT in any query: DuckDB on scikit-learn's predictions is the oracle ---------------
def _duck_with_predictions(trips) -> duckdb.DuckDBPyConnection:
    train, test = trips
    sk = sklm.LinearRegression().fit(train[FEATURES], train.fare)
    duck = duckdb.connect()
    a, b = train.copy(), test.copy()
    a["p"], b["p"] = sk.predict(train[FEATURES]), sk.predict(test[FEATURES])
    duck.register("trips", a)
    duck.register("trips_test", b)
    return duck


@pytest.mark.parametrize("sql", [
    "SELECT id FROM trips WHERE {p} > 15 ORDER BY id",
    "SELECT vendor, count(*) AS n, round(avg({p}), 6) AS m FROM trips GROUP BY vendor "
    "ORDER BY vendor",
    "SELECT CAST(floor({p} / 5) AS BIGINT) AS bucket, count(*) AS n FROM trips "
    "GROUP BY bucket ORDER BY bucket",
    "SELECT t.id, round(abs(fare - {p}), 6) AS err FROM trips AS t "
    "JOIN (SELECT id FROM trips_test) AS u ON t.id = u.id ORDER BY t.id",
    "SELECT id, round({p}, 6) AS p2 FROM trips ORDER BY {p} DESC LIMIT 5",
])
def test_predict_in_any_query_matches_duckdb(db, trips, sql: str) -> None:
    db.sql(CREATE_FARE)
    duck = _duck_with_predictions(trips)
    got = db.sql(sql.format(p="PREDICT(fare_model, distance, passengers)")).to_pandas()
    want = duck.sql(sql.format(p="p")).df()
    assert list(got.columns) == list(want.columns)
    pd.testing.assert_frame_equal(got, want, check_dtype=False, atol=1e-6)


def test_unaliased_predict_is_named_like_duckdb(db) -> None:
    db.sql(CREATE_FARE)
    res = db.sql("SELECT PREDICT(fare_model, distance, passengers), fare FROM trips LIMIT 1")
    assert res.columns == ["predict(fare_model, distance, passengers)", "fare"]


def test_predict_nulls_and_expressions(db) -> None:
    db.sql(CREATE_FARE)
    est = db.model("fare_model")
    got = db.sql("SELECT PREDICT(fare_model, d, p) AS y FROM (VALUES (1.5, 2), (NULL, 3), "
                 "(4.0, NULL), (2.0 * 3, 1 + 1)) AS v(d, p)").to_pandas().y
    assert got.isna().tolist() == [False, True, True, False]
    want = np.asarray(est.predict(np.array([[1.5, 2.0], [6.0, 2.0]])))
    np.testing.assert_allclose(got[[0, 3]].to_numpy(dtype=float),
                               want.get() if hasattr(want, "get") else want, rtol=1e-9)
    empty = db.sql("SELECT PREDICT(fare_model, distance, passengers) AS y FROM trips "
                   "WHERE id < 0")
    assert len(empty) == 0 and str(empty.types[0]) == "float64"


# -- EVALUATE ---------------------------------------------------------------------------
def test_evaluate_regression_metrics(db, trips) -> None:
    train, test = trips
    db.sql(CREATE_FARE)
    res = db.sql("EVALUATE MODEL fare_model ON (SELECT distance, passengers, fare "
                 "FROM trips_test)").to_pandas().iloc[0]
    pred = sklm.LinearRegression().fit(train[FEATURES], train.fare).predict(test[FEATURES])
    assert res["rows"] == len(test)
    assert res.r2 == pytest.approx(skm.r2_score(test.fare, pred), rel=1e-9)
    assert res.mse == pytest.approx(skm.mean_squared_error(test.fare, pred), rel=1e-9)
    assert res.mae == pytest.approx(skm.mean_absolute_error(test.fare, pred), rel=1e-9)
    assert res.rmse == pytest.approx(np.sqrt(res.mse))
    # a table name works, extra columns are ignored and features are found by name
    again = db.sql("EVALUATE MODEL fare_model ON trips_test").to_pandas().iloc[0]
    assert again.r2 == pytest.approx(res.r2)


def test_evaluate_classification_metrics(db, trips) -> None:
    train, test = trips
    db.sql("CREATE MODEL nb TYPE gaussian_nb TARGET size AS "
           "SELECT distance, passengers, size FROM trips")
    res = db.sql("EVALUATE MODEL nb ON (SELECT passengers, size, distance FROM trips_test)"
                 ).to_pandas().iloc[0]
    sk = SkGaussianNB().fit(train[FEATURES], train["size"])
    pred, proba = sk.predict(test[FEATURES]), sk.predict_proba(test[FEATURES])
    y = test["size"]
    assert res.accuracy == pytest.approx(skm.accuracy_score(y, pred))
    assert res.precision == pytest.approx(skm.precision_score(y, pred, average="macro",
                                                              zero_division=0))
    assert res.recall == pytest.approx(skm.recall_score(y, pred, average="macro"))
    assert res.f1 == pytest.approx(skm.f1_score(y, pred, average="macro"))
    assert res.log_loss == pytest.approx(skm.log_loss(y, proba, labels=sk.classes_),
                                         rel=1e-6)
    assert res.roc_auc == pytest.approx(skm.roc_auc_score(y, proba, multi_class="ovr"),
                                        rel=1e-6)


def test_evaluate_clustering(db, trips) -> None:
    train, _ = trips
    db.sql("CREATE MODEL k TYPE kmeans WITH (n_clusters = 3, random_state = 0) AS "
           "SELECT distance, passengers FROM trips")
    res = db.sql("EVALUATE MODEL k ON (SELECT distance, passengers FROM trips)"
                 ).to_pandas().iloc[0]
    labels = _col(db, "SELECT PREDICT(k, distance, passengers) FROM trips ORDER BY id")
    X = train[FEATURES].to_numpy(float)
    centers = db.model("k").cluster_centers_
    centers = centers.get() if hasattr(centers, "get") else np.asarray(centers)  # CuPy on a GPU
    centers = centers.get() if hasattr(centers, "get") else centers
    inertia = ((X - centers[labels]) ** 2).sum()
    assert res.inertia == pytest.approx(inertia, rel=1e-6)
    assert res.silhouette == pytest.approx(skm.silhouette_score(X, labels), rel=1e-6)


# -- versions, catalog statements --------------------------------------------------------
def test_versions_show_describe_drop(db, trips) -> None:
    train, test = trips
    db.sql(CREATE_FARE)
    with pytest.raises(XpdbError, match="already exists"):
        db.sql(CREATE_FARE)
    db.sql(CREATE_FARE.replace("MODEL", "MODEL IF NOT EXISTS"))  # no error, no version
    out = db.sql("CREATE OR REPLACE MODEL fare_model TYPE ridge TARGET fare WITH (alpha = 50) "
                 "AS SELECT distance, passengers, fare FROM trips").to_pandas()
    assert out.version[0] == 2
    assert type(db.model("fare_model")).__name__ == "Ridge"
    assert type(db.model("fare_model", version=1)).__name__ == "LinearRegression"
    ridge = sklm.Ridge(alpha=50).fit(train[FEATURES], train.fare)
    np.testing.assert_allclose(
        _col(db, "SELECT PREDICT(fare_model, distance, passengers) FROM trips_test ORDER BY id"),
        ridge.predict(test[FEATURES]), rtol=1e-8)
    show = db.sql("SHOW MODELS").to_pandas()
    assert show.name.tolist() == ["fare_model"]
    row = show.iloc[0]
    assert (row.type, row.task, row.target, row.version, row.versions, row.features,
            row.training_rows) == ("ridge", "regression", "fare", 2, 2,
                                   "distance, passengers", len(train))
    desc = dict(db.sql("DESCRIBE MODEL fare_model").fetchall())
    assert desc["features"] == "distance DOUBLE, passengers BIGINT"
    assert desc["version"] == "2" and desc["versions"] == "[1, 2]"
    assert '"alpha": 50' in desc["params"]
    r2 = skm.r2_score(train.fare, ridge.predict(train[FEATURES]))
    assert float(desc["metric.r2"]) == pytest.approx(r2, rel=1e-9)
    old = dict(db.sql("DESCRIBE MODEL fare_model VERSION 1").fetchall())
    assert old["type"] == "linear_regression"
    res = db.sql("EVALUATE MODEL fare_model VERSION 1 ON trips_test").to_pandas()
    lin = sklm.LinearRegression().fit(train[FEATURES], train.fare)
    assert res.r2[0] == pytest.approx(skm.r2_score(test.fare, lin.predict(test[FEATURES])))
    db.sql("DROP MODEL fare_model")
    assert db.models() == []
    with pytest.raises(BindError, match="model 'fare_model' not found"):
        db.sql("SELECT PREDICT(fare_model, distance, passengers) FROM trips")
    db.sql("DROP MODEL IF EXISTS fare_model")
    with pytest.raises(BindError, match="not found"):
        db.sql("DROP MODEL fare_model")


def test_scripts_mix_model_and_other_statements(db) -> None:
    res = db.sql(f"CREATE TABLE t2 AS SELECT * FROM trips WHERE id < 100; {CREATE_FARE}; "
                 "CREATE TABLE scored AS SELECT id, PREDICT(fare_model, distance, passengers) "
                 "AS p FROM t2; SELECT count(*) FROM scored WHERE p IS NOT NULL")
    assert res.fetchall() == [(100,)]
    db.register("model", pd.DataFrame({"x": [1]}))  # a table called model is still a table
    assert db.sql("DESCRIBE model").to_pandas().column_name.tolist() == ["x"]
    n = db.execute("CREATE MODEL m2 TYPE linear_regression TARGET fare AS "
                   "SELECT distance, passengers, fare FROM trips WHERE id < ?", [50])
    assert n.to_pandas().rows[0] == 50


def test_budgets_and_progress_pass_through(db, capsys) -> None:
    db.sql("CREATE MODEL k TYPE kmeans WITH (n_clusters = 4, max_iter = 2, n_init = 1, "
           "tol = 0, time_budget = 30, verbose = true, random_state = 0) AS "
           "SELECT distance, passengers FROM trips")
    est = db.model("k")
    assert est.max_iter == 2 and est.time_budget == 30 and est.n_iter_ <= 2
    err = capsys.readouterr().err
    assert "[CREATE MODEL k] fitting KMeans on 300 rows x 2 features" in err
    assert "[KMeans]" in err and "[CREATE MODEL k] fitted in" in err


# -- errors ------------------------------------------------------------------------------
@pytest.mark.parametrize("sql, err, match", [
    ("CREATE MODEL m TYPE linear_regresion TARGET fare AS SELECT distance, fare FROM trips",
     BindError, "did you mean 'linear_regression'"),
    ("CREATE MODEL m TYPE ridge TARGET fare WITH (alpah = 1) AS SELECT distance, fare "
     "FROM trips", BindError, "did you mean 'alpha'.*fit_intercept"),
    ("CREATE MODEL m TYPE ridge AS SELECT distance, fare FROM trips", BindError,
     "needs TARGET"),
    ("CREATE MODEL m TYPE kmeans TARGET fare AS SELECT distance, fare FROM trips", BindError,
     "unsupervised"),
    ("CREATE MODEL m TYPE ridge TARGET far AS SELECT distance, fare FROM trips", BindError,
     "'far' not found; did you mean 'fare'"),
    ("CREATE MODEL m TYPE ridge TARGET fare AS SELECT vendor, fare FROM trips", XTypeError,
     "'vendor' has type VARCHAR.*CASE WHEN"),
    ("CREATE MODEL m TYPE ridge TARGET fare AS SELECT NULLIF(passengers, 2) AS p, fare "
     "FROM trips", XpdbError, "'p' has .* NULL.*COALESCE"),
    ("CREATE MODEL m TYPE ridge TARGET fare AS SELECT distance, fare FROM trips WHERE id < 0",
     XpdbError, "no rows"),
])
def test_create_errors_change_nothing(db, sql: str, err: type, match: str) -> None:
    with pytest.raises(err, match=match):
        db.sql(sql)
    assert db.models() == []


def test_parse_errors_point_at_the_token(db) -> None:
    with pytest.raises(ParseError) as e:
        db.sql("SELECT 1;\nCREATE MODEL m TYPE ridge TARGET fare\n  FOO bar AS SELECT 1")
    assert (e.value.line, e.value.column) == (3, 3)
    assert "FOO" in str(e.value) and "^" in str(e.value)
    with pytest.raises(ParseError, match="needs TYPE"):
        db.sql("CREATE MODEL m TARGET fare AS SELECT fare FROM trips")
    with pytest.raises(ParseError, match="option value"):
        db.sql("CREATE MODEL m TYPE ridge WITH (alpha = *) AS SELECT fare FROM trips")
    with pytest.raises(ParseError):  # nothing runs when any statement is malformed
        db.sql(f"{CREATE_FARE}; SELECT FROM WHERE")
    assert db.models() == []
    with pytest.raises(ParseError) as e:  # the AS query's own errors keep their position
        db.sql("CREATE MODEL m TYPE ridge TARGET fare AS\nSELECT fare FROM trips WHERE")
    assert e.value.line == 2


def test_predict_errors(db) -> None:
    db.sql(CREATE_FARE)
    with pytest.raises(BindError, match="got 1 feature.*distance DOUBLE, passengers BIGINT"):
        db.sql("SELECT PREDICT(fare_model, distance) FROM trips")
    with pytest.raises(XTypeError, match="vendor"):
        db.sql("SELECT PREDICT(fare_model, vendor, passengers) FROM trips")
    db.sql("CREATE MODEL d TYPE dbscan WITH (eps = 0.5) AS SELECT distance, passengers "
           "FROM trips")
    with pytest.raises(NotSupportedError, match="no predict"):
        db.sql("SELECT PREDICT(d, distance, passengers) FROM trips")
    db.sql("CREATE MODEL p TYPE pca WITH (n_components = 1) AS SELECT distance, passengers "
           "FROM trips")
    with pytest.raises(NotSupportedError, match="transform model"):
        db.sql("SELECT PREDICT(p, distance, passengers) FROM trips")
    with pytest.raises(BindError, match="got 1 feature"):
        db.sql("CREATE VIEW v AS SELECT PREDICT(fare_model, distance) FROM trips")
    assert "v" not in db.tables()
    with pytest.raises(XpdbError, match="a table named 'trips' exists"):
        db.sql("CREATE MODEL trips TYPE kmeans AS SELECT distance FROM trips")


# -- the Python API, export/import, persistence ----------------------------------------------
def test_register_model_trained_in_python(db, trips) -> None:
    from xpdb.ml import LinearRegression

    train, test = trips
    est = LinearRegression().fit(train[FEATURES], train.fare)  # remembers feature names
    assert db.register_model("py", est) == 1
    np.testing.assert_allclose(
        _col(db, "SELECT PREDICT(py, distance, passengers) FROM trips_test ORDER BY id"),
        est.predict(test[FEATURES]), rtol=1e-12)
    sk = sklm.LogisticRegression().fit(train[FEATURES].to_numpy(), train["size"])
    db.register_model("sk", sk, features=FEATURES, target="size")
    got = _col(db, "SELECT PREDICT(sk, distance, passengers) FROM trips_test ORDER BY id")
    assert got.tolist() == sk.predict(test[FEATURES].to_numpy()).tolist()
    with pytest.raises(BindError, match="features"):
        db.register_model("bad", sk, features=["distance"])


def test_export_import_round_trip(db, trips, tmp_path, device) -> None:
    db.sql("CREATE MODEL nb TYPE gaussian_nb TARGET size AS "
           "SELECT distance, passengers, size FROM trips")
    db.export_model("nb", tmp_path / "nb.xpm")
    other = xpdb.connect(str(tmp_path / "db2"), device=device)
    other.register("trips_test", trips[1])
    assert other.import_model("nb2", tmp_path / "nb.xpm") == 1
    q = "SELECT PREDICT({m}, distance, passengers) FROM trips_test ORDER BY id"
    assert _col(other, q.format(m="nb2")).tolist() == _col(db, q.format(m="nb")).tolist()
    desc = dict(other.sql("DESCRIBE MODEL nb2").fetchall())
    assert desc["target"] == "size" and desc["source"] == "import"
    assert desc["features"] == "distance DOUBLE, passengers BIGINT"
    # a file saved from Python without feature names: x0, x1... in order
    from xpdb.ml import Ridge, save_model

    train = trips[0]
    est = Ridge(alpha=3.0).fit(train[FEATURES].to_numpy(float), train.fare.to_numpy())
    save_model(est, tmp_path / "ridge.xpm")
    other.import_model("r", tmp_path / "ridge.xpm")
    assert dict(other.sql("DESCRIBE MODEL r").fetchall())["features"] == "x0 DOUBLE, x1 DOUBLE"
    got = _col(other, "SELECT PREDICT(r, distance, passengers) FROM trips_test ORDER BY id")
    np.testing.assert_allclose(got, est.predict(trips[1][FEATURES].to_numpy(float)),
                               rtol=1e-12)
    with pytest.raises(XpdbError, match="already exists"):
        other.import_model("r", tmp_path / "ridge.xpm")
    assert other.import_model("r", tmp_path / "ridge.xpm", replace=True) == 2
    other.close()


def test_persistent_models_survive_reopen(tmp_path, device, trips) -> None:
    train, test = trips
    path = str(tmp_path / "db")
    q = "SELECT PREDICT(fare_model, distance, passengers) FROM trips_test ORDER BY id"
    with xpdb.connect(path, device=device) as db:
        db.register("src", train)
        db.register("src_test", test)
        db.sql("CREATE TABLE trips AS SELECT * FROM src; "
               "CREATE TABLE trips_test AS SELECT * FROM src_test")
        db.sql(CREATE_FARE)
        db.sql(CREATE_FARE.replace("CREATE", "CREATE OR REPLACE").replace(
            "linear_regression", "ridge WITH (alpha = 10)"))
        before = _col(db, q)
    assert sorted(p.name for p in (tmp_path / "db" / "models" / "fare_model").iterdir()) \
        == ["v1.xpm", "v2.xpm"]
    with xpdb.connect(path, device=device, read_only=True) as reader:
        np.testing.assert_array_equal(_col(reader, q), before)
        with pytest.raises(StorageError, match="read-only"):
            reader.sql(CREATE_FARE.replace("fare_model", "m3"))
        assert not (tmp_path / "db" / "models" / "m3").exists()
    with xpdb.connect(path, device=device) as db:
        np.testing.assert_array_equal(_col(db, q), before)
        assert type(db.model("fare_model", 1)).__name__ == "LinearRegression"
        assert db.sql("SHOW MODELS").to_pandas().version.tolist() == [2]
        sk = sklm.Ridge(alpha=10).fit(train[FEATURES], train.fare)
        np.testing.assert_allclose(before, sk.predict(test[FEATURES]), rtol=1e-8)
        db.sql("DROP MODEL fare_model")
    assert not (tmp_path / "db" / "models" / "fare_model").exists()
    with xpdb.connect(path, device=device) as db:
        assert db.models() == []


def test_training_metrics_on_a_sample_of_large_inputs(db, trips, monkeypatch) -> None:
    from xpdb.sql import connection

    train, _ = trips
    monkeypatch.setattr(connection.model_sql, "METRIC_ROWS", 100)
    db.sql(CREATE_FARE)
    desc = dict(db.sql("DESCRIBE MODEL fare_model").fetchall())
    assert desc["training_rows"] == "300" and desc["metric_rows"] == "100"
    rows = train.iloc[::3]
    pred = sklm.LinearRegression().fit(train[FEATURES], train.fare).predict(rows[FEATURES])
    assert float(desc["metric.r2"]) == pytest.approx(skm.r2_score(rows.fare, pred), rel=1e-9)


def _model_type_names() -> list[str]:
    from xpdb.ml.model_types import model_types

    return list(model_types())


@pytest.mark.parametrize("tname", _model_type_names())
def test_every_model_type_from_sql(db, trips, tname: str) -> None:
    """CREATE MODEL takes every TYPE; PREDICT gives the stored estimator's predictions (on
    the host, for the same rows) or says why it cannot."""
    from xpdb.ml.model_types import model_type, task_of

    test = trips[1]
    cls = model_type(tname)
    task = task_of(cls)
    options = {"n_estimators": 5} if "n_estimators" in cls().get_params() else {}
    if "max_iter" in cls().get_params() and tname.startswith("hist"):
        options["max_iter"] = 5
    with_ = f"WITH ({', '.join(f'{k} = {v}' for k, v in options.items())})" if options else ""
    target = {"regression": "TARGET fare", "classification": "TARGET size"}.get(task, "")
    cols = "distance, passengers" + {"regression": ", fare", "classification": ", size"}.get(
        task, "")
    db.sql(f"CREATE MODEL m TYPE {tname} {target} {with_} AS SELECT {cols} FROM trips")
    est = db.model("m")
    assert type(est) is cls and all(getattr(est, k) == v for k, v in options.items())
    q = "SELECT PREDICT(m, distance, passengers) AS p FROM trips_test ORDER BY id"
    if task in ("transform", "other") or not hasattr(est, "predict"):
        with pytest.raises(NotSupportedError):
            db.sql(q)
        return
    got = db.sql(q).to_pandas().p.to_numpy()
    want = est.predict(test[FEATURES].to_numpy(float))
    want = want.get() if hasattr(want, "get") else want
    if task == "regression":
        np.testing.assert_allclose(got.astype(float), want, rtol=1e-9, atol=1e-9)
    else:
        assert got.tolist() == want.tolist()


def test_cli_scripts_take_model_statements(db) -> None:
    import io

    from xpdb.cli_sql import Output, run_script

    out, err = io.StringIO(), io.StringIO()
    run_script(db, f"{CREATE_FARE};\nSELECT round(PREDICT(fare_model, 2.0, 3), 6) AS p;\n"
               "SHOW MODELS;", Output(out, err, fmt="csv"))
    est = db.model("fare_model")
    want = np.asarray(est.predict(np.array([[2.0, 3.0]])))
    want = want.get() if hasattr(want, "get") else want
    assert f"{round(float(want[0]), 6)}" in out.getvalue()
    assert "fare_model" in out.getvalue()
    with pytest.raises(ParseError):  # a syntax error anywhere stops the script first
        run_script(db, "DROP MODEL fare_model; CREATE MODEL x TYPE", Output(out, err))
    assert db.models() == ["fare_model"]


def test_views_follow_the_current_version(db, trips, tmp_path, device) -> None:
    train = trips[0]
    db.sql(CREATE_FARE)
    db.sql("CREATE VIEW scored AS SELECT id, vendor, PREDICT(fare_model, distance, passengers) "
           "AS p FROM trips; CREATE VIEW big AS SELECT * FROM scored WHERE p > 12")
    duck = _duck_with_predictions(trips)
    sql = ("SELECT vendor, count(*) AS n, round(sum(p), 6) AS s FROM {v} GROUP BY vendor "
           "ORDER BY vendor")
    want = duck.sql(sql.format(v="(SELECT * FROM trips WHERE p > 12)")).df()
    got = db.sql(sql.format(v="big")).to_pandas()
    pd.testing.assert_frame_equal(got, want, check_dtype=False, atol=1e-6)
    got = db.sql("SELECT b.id FROM big AS b JOIN trips_test AS t ON b.id = t.id ORDER BY 1")
    assert got.to_pandas().id.tolist() == duck.sql(
        "SELECT id FROM trips WHERE p > 12 AND id < 120 ORDER BY 1").df().id.tolist()
    assert db.sql("DESCRIBE scored").to_pandas().column_name.tolist() == ["id", "vendor", "p"]
    db.sql("CREATE OR REPLACE MODEL fare_model TYPE ridge TARGET fare WITH (alpha = 500) AS "
           "SELECT distance, passengers, fare FROM trips")
    ridge = sklm.Ridge(alpha=500).fit(train[FEATURES], train.fare)
    np.testing.assert_allclose(_col(db, "SELECT p FROM scored ORDER BY id"),
                               ridge.predict(train[FEATURES]), rtol=1e-8)
    # a stored view keeps the model's name and works after a restart
    path = str(tmp_path / "db")
    with xpdb.connect(path, device=device) as pdb:
        pdb.register("src", train)
        pdb.sql(f"CREATE TABLE trips AS SELECT * FROM src; {CREATE_FARE}; "
                "CREATE VIEW scored AS SELECT id, PREDICT(fare_model, distance, passengers) "
                "AS p FROM trips")
        before = _col(pdb, "SELECT p FROM scored ORDER BY id")
    with xpdb.connect(path, device=device) as pdb:
        np.testing.assert_array_equal(_col(pdb, "SELECT p FROM scored ORDER BY id"), before)
