"""docs/ml.md stays true: its ```python examples run, and its lists name every estimator.

The examples are executed in order in one namespace (later ones reuse earlier names, as a
reader does), with a fresh temporary directory as the working directory so the files they
write (a database, a model file) land there. They are written for the CPU, which is what
the page promises; the GPU equivalents are plain ``` blocks that are not run.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "ml.md"
_PYTHON_BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)


def python_blocks(text: str) -> list[tuple[int, str]]:
    """``(line, code)`` of every ```python block of ``text``, in order."""
    return [(text.count("\n", 0, m.start()) + 2, m.group(1))
            for m in _PYTHON_BLOCK.finditer(text)]


def test_blocks_are_found() -> None:
    sample = "a\n```python\nx = 1\n```\ntext\n```\nnot run\n```\n```python\ny = 2\n```\n"
    assert python_blocks(sample) == [(3, "x = 1\n"), (10, "y = 2\n")]


def test_examples_run_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocks = python_blocks(DOC.read_text())
    assert len(blocks) >= 6, "docs/ml.md lost its examples"
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": "docs_ml"}
    for line, code in blocks:
        # compiled under the doc's name with the block's first line, so a failure's
        # traceback points at docs/ml.md:<line>
        compiled = compile("\n" * (line - 1) + code, str(DOC), "exec")
        exec(compiled, namespace)
    assert (tmp_path / "trips.db").is_dir() and (tmp_path / "fare_rf.xpm").is_file()


def test_every_estimator_and_sql_type_is_listed() -> None:
    from xpdb.ml import all_estimators, submodules
    from xpdb.ml.model_types import model_types

    text = DOC.read_text()
    missing = [name for name, _ in all_estimators() if f"`{name}`" not in text]
    assert not missing, f"estimators not in docs/ml.md: {missing}"
    missing = [name for name in model_types() if f"`{name}`" not in text]
    assert not missing, f"SQL TYPE names not in docs/ml.md: {missing}"
    missing = [m for m in submodules() if m != "model_types" and f"`{m}`" not in text]
    assert not missing, f"xpdb.ml submodules not in docs/ml.md: {missing}"
