"""docs/spatial.md stays true: its ```python blocks run in order in one namespace (cwd: a
temporary folder), asserting their answers against shapely, and the names it cites exist.

The examples are written for the CPU (the guide's readers run them as is), so this test runs
there only; the spatial suite runs the same functions on the GPU."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "spatial.md"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def _blocks() -> list[tuple[int, str]]:
    """(first line number, source) of every ```python block, in order."""
    text = DOC.read_text()
    return [(text.count("\n", 0, m.start(1)) + 1, m.group(1)) for m in BLOCK.finditer(text)]


def test_the_guide_has_examples():
    blocks = _blocks()
    assert len(blocks) >= 8
    assert all("assert" in src or "print" in src for _, src in blocks)


def test_examples_run_in_order(tmp_path, monkeypatch):
    for mod in ("shapely", "geopandas", "pyogrio", "pyproj"):
        pytest.importorskip(mod)
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "spatial_md"}
    for line, src in _blocks():
        # padded so that tracebacks give the guide's own line numbers
        code = compile("\n" * (line - 1) + src, str(DOC), "exec")
        exec(code, namespace)
    # the file examples really wrote files
    assert {"zones.parquet", "zones.geojson", "zones.shp"} <= {p.name for p in tmp_path.iterdir()}


def test_cited_python_names_exist():
    import xpdb.spatial as xs

    text = DOC.read_text()
    used = set(re.findall(r"\bxs\.([A-Za-z_]\w*)", text))
    assert used and not used - set(dir(xs)), sorted(used - set(dir(xs)))


def test_sql_function_table_matches_the_registry():
    """Every spatial SQL function is listed, and every ST_ name listed exists."""
    from xpdb.sql.spatial import FUNCTIONS

    text = DOC.read_text()
    section = text[text.index("## SQL"):text.index("## Performance")]
    cited = {n.lower() for n in re.findall(r"\b(ST_[A-Za-z]\w*|haversine)\b", section)}
    # sqlglot's node names for two of them are aliases, not spellings users write
    registered = set(FUNCTIONS) - {"stpoint", "stdistance"}
    assert cited == registered, (sorted(registered - cited), sorted(cited - registered))
