from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from xpdb.column import Column
from xpdb.kernels import keys


def host(dev, a):
    return dev.to_host(a)


@pytest.mark.parametrize(
    "values",
    [
        [5, None, 1, 5, 10**15, -3],
        [3.5, float("nan"), None, -0.0, 0.0, float("-inf"), 3.5],
        ["b", None, "a", "b", "é"],
        [True, None, False, True],
        [],
    ],
    ids=["int-wide", "float", "string", "bool", "empty"],
)
@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("nulls_last", [False, True])
def test_order_codes_sort_like_pandas(values, descending, nulls_last, device, dev):
    col = Column.from_arrow(pa.array(values), device)
    codes = keys.order_codes(col, descending, nulls_last)
    ids = host(dev, codes.ids)
    assert ids.shape == (len(values),)
    assert (ids >= 0).all() and (ids < codes.n).all()
    order = np.argsort(ids, kind="stable")
    s = pd.Series(values, dtype=object if values and isinstance(values[0], str) else None)
    if s.dtype == object and values and isinstance(values[0], bool):
        s = s.astype("boolean")
    expected = s.sort_values(ascending=not descending, na_position="last" if nulls_last else "first",
                             kind="stable")
    got = [values[i] for i in order]
    # pandas treats NaN as missing (sorted with the nulls); xpdb treats it as the largest number
    if any(isinstance(v, float) and v != v for v in values):
        got_nums = [v for v in got if v is not None and v == v]
        exp_nums = [v for v in expected.tolist() if not pd.isna(v)]
        assert got_nums == exp_nums
        nan_pos = [i for i, v in enumerate(got) if isinstance(v, float) and v != v]
        num_pos = [i for i, v in enumerate(got) if v is not None and v == v]
        assert (max(nan_pos) < min(num_pos)) if descending else (min(nan_pos) > max(num_pos))
    else:
        assert [None if pd.isna(v) else v for v in expected.tolist()] == got


def test_factorize_several_keys(device, dev):
    a = Column.from_arrow(pa.array(["x", "y", "x", None, "x"]), device)
    b = Column.from_arrow(pa.array([1, 1, 1, 2, 2]), device)
    codes = keys.factorize([a, b])
    assert codes.n == 4
    assert host(dev, codes.ids).tolist() == [0, 2, 0, 3, 1]
    first = keys.group_first_row(codes.ids, codes.n)
    assert host(dev, first).tolist() == [0, 4, 1, 3]


def test_joint_factorize_nulls_never_match(device, dev):
    left = [Column.from_arrow(pa.array([1, None, 3], pa.int32()), device)]
    right = [Column.from_arrow(pa.array([3, None, 1], pa.int64()), device)]
    lid, rid, _ = keys.joint_factorize(left, right)
    lid, rid = host(dev, lid), host(dev, rid)
    assert lid[0] == rid[2] and lid[2] == rid[0]
    assert lid[1] == -1 and rid[1] == -2


def test_joint_factorize_strings_with_different_dictionaries(device, dev):
    left = [Column.from_arrow(pa.array(["b", "zz", "a"]), device)]
    right = [Column.from_arrow(pa.array(["a", "b", "c"]), device)]
    lid, rid, _ = keys.joint_factorize(left, right)
    lid, rid = host(dev, lid), host(dev, rid)
    assert lid[0] == rid[1] and lid[2] == rid[0] and lid[1] not in set(rid.tolist())


@given(st.lists(st.tuples(st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1)),
                          st.one_of(st.none(), st.text(max_size=3))), max_size=40))
def test_factorize_property(rows):
    a = Column.from_arrow(pa.array([r[0] for r in rows], pa.int64()))
    b = Column.from_arrow(pa.array([r[1] for r in rows], pa.string()))
    codes = keys.factorize([a, b])
    ids = codes.ids.tolist()
    # equal ids exactly when keys are equal
    for i in range(len(rows)):
        for j in range(len(rows)):
            assert (ids[i] == ids[j]) == (rows[i] == rows[j])
    # ids ascend with the keys (nulls last per key)
    def k(r):
        return ((r[0] is None, r[0] or 0), (r[1] is None, r[1] or ""))
    for i in range(len(rows)):
        for j in range(len(rows)):
            if k(rows[i]) < k(rows[j]):
                assert ids[i] < ids[j]
    assert codes.n == len(set(rows))
