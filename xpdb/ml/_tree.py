"""The histogram tree builder behind :mod:`xpdb.ml.ensemble`, written once on ``xp``.

Three steps, each a handful of whole-array operations (no Python loop over rows or over the
nodes of a level):

1. **Binning** (:func:`bin_features`): per feature, at most 255 quantile bins computed on a
   sample of the rows (scikit-learn's ``HistGradientBoosting`` rule: midpoints between
   distinct values when there are few, else percentiles), the data coded as uint8.
   A sample goes left at a split on bin ``b`` when its code is ``<= b``, that is when its
   value is ``<= edges[f, b]``: predictions compare raw values with that threshold and need
   no binning.
2. **Growth in rounds** (:func:`grow`): all open leaves of every tree of a batch at once;
   a round splits every leaf that can split (level-wise growth) or, with
   ``max_leaf_nodes``, each tree's leaf of highest gain (best-first, as scikit-learn's
   gradient boosting). Every new node's best split is found when it is made: one
   ``bincount`` per channel over the combined index
   ``(node * n_features_drawn + k) * n_bins + code`` builds every (node, feature, bin)
   histogram of class weights, of (weight, weighted target) or of (gradient, hessian); a
   cumulative sum over bins gives every split's left statistics (right = node total -
   left); the best split of each node is an ``argmax`` of the gain; rows move to their
   child by one gather. Deep levels of small nodes score sorted entries instead of full
   histograms (same answer, work in proportion to the rows). Trees of a batch only differ
   in which rows they hold (bootstrap) and which features their nodes draw, so they share
   the same arrays.
3. **Prediction** (:func:`forest_apply`, :func:`forest_sum`): trees are flat arrays
   (feature, threshold, left, right, value) and all trees descend together, three gathers
   per depth over a tree-major (tree, sample) array, leaves pointing at themselves. On the
   GPU a fused kernel walks each sample through every tree instead (``_forest_kernels``).

Criteria (:class:`Criterion`) are scores whose differences are impurity decreases:
``sum c^2 / w`` (gini), ``sum c log(c / w)`` (entropy), ``s^2 / w`` (squared error) and
``G^2 / (H + l2)`` (Newton boosting). The gain of a split is ``score(left) + score(right) -
score(node)``, which is also each split's contribution to ``feature_importances_``.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from ..kernels._xp import (
    argsort_bounded,
    bincount,
    is_numpy,
    run_starts,
    stable_argsort,
)
from ..kernels.dense_agg import group_max, group_min
from . import _forest_kernels
from ._data import get_xp, to_device
from ._threads import map_blocks

__all__ = ["Binned", "Criterion", "Forest", "GrowParams", "Rows", "bin_features",
           "concat_forests", "device_kind", "forest_apply", "forest_sum", "grow", "importances"]

# Elements per histogram pass (nodes x features x bins x channels) and row entries
# (rows x features) per pass; the GPU takes bigger passes. Tests lower them to exercise the
# chunked paths.
HIST_BUDGET = {"cpu": 1 << 22, "gpu": 1 << 26}
ENTRY_BUDGET = {"cpu": 1 << 22, "gpu": 1 << 26}
# (sample, tree) pairs a prediction block descends at once; on the CPU a block's arrays
# stay in the L2/L3 caches (1 << 19 took 100 trees x 100k rows 1.5x faster than 1 << 21)
PREDICT_BUDGET = {"cpu": 1 << 19, "gpu": 1 << 24}
BIN_SUBSAMPLE = 200_000
# A level's splits come from sorted entries instead of full histograms when its rows times
# this ratio are fewer than its nodes times bins (deep levels of small nodes).
SORTED_RATIO = 8
# Build only the smaller sibling's histograms and subtract them from the parent's (when
# every node sees every feature); tests turn it off to compare.
SUBTRACT = True


def device_kind(xp: Any) -> str:
    """'cpu' for NumPy, 'gpu' for CuPy (keys of the budgets above)."""
    return "cpu" if is_numpy(xp) else "gpu"


# -- binning --------------------------------------------------------------------------------
@dataclass
class Binned:
    """Features coded into bins.

    Attributes
    ----------
    codes : uint8 array (n_samples, n_features)
        Bin of every value.
    edges : float64 array (n_features, n_bins - 1)
        Upper edge of every bin but the last (``+inf`` padding past a feature's bins).
    n_bins : int
        The largest bin count of any feature (at least 1).
    """

    codes: Any
    edges: Any
    n_bins: int


def _edges_of(xp: Any, col: Any, max_bins: int) -> Any:
    """Bin edges of one sorted column, as scikit-learn's ``_find_binning_thresholds``."""
    distinct = col[run_starts(xp, col)]  # col is sorted: no second sort
    if distinct.shape[0] <= max_bins:
        return (distinct[:-1] + distinct[1:]) * 0.5
    n = col.shape[0]
    # scikit-learn >= 1.6 takes percentiles with method="averaged_inverted_cdf": each is
    # one order statistic or the mean of two neighbours; their positions come from the
    # same NumPy call on 0..n-1, so only two gathers run on the device
    pos = np.percentile(np.arange(n, dtype=np.float64), np.linspace(0, 100, max_bins + 1)[1:-1],
                        method="averaged_inverted_cdf")
    lo = xp.asarray(np.floor(pos).astype(np.int64))
    hi = xp.asarray(np.ceil(pos).astype(np.int64))
    return xp.unique((col[lo] + col[hi]) * 0.5)


def bin_features(X: Any, max_bins: int, seed: int, subsample: int | None = None) -> Binned:
    """Quantile bins per feature (on a sample of ``subsample`` rows) and the uint8 codes.

    Examples
    --------
    >>> b = bin_features(np.array([[0.0], [1.0], [1.0], [5.0]]), 255, 0)
    >>> b.codes.ravel().tolist(), b.edges.tolist(), b.n_bins
    ([0, 1, 1, 2], [[0.5, 3.0]], 3)
    """
    xp = get_xp(X)
    n, n_features = X.shape
    subsample = BIN_SUBSAMPLE if subsample is None else subsample
    sample = X
    if n > subsample:
        idx = np.sort(np.random.default_rng(seed).choice(n, subsample, replace=False))
        sample = X[xp.asarray(idx)]
    sample = xp.sort(sample.astype(np.float64), axis=0)
    per_feature = [_edges_of(xp, sample[:, j], max_bins) for j in range(n_features)]
    width = max(int(e.shape[0]) for e in per_feature)
    edges = xp.full((n_features, width), np.inf, dtype=np.float64)
    codes = xp.empty((n, n_features), dtype=np.uint8)
    for j, e in enumerate(per_feature):
        edges[j, : e.shape[0]] = e
        codes[:, j] = xp.searchsorted(e, X[:, j].astype(np.float64), side="left")
    return Binned(codes, edges, width + 1)


# -- criteria -------------------------------------------------------------------------------
@dataclass
class Criterion:
    """How node statistics score, validate and value.

    Parameters
    ----------
    kind : {"gini", "entropy", "squared_error", "newton"}
        For ``gini``/``entropy`` the statistics are class weights (``n_classes``
        channels); for ``squared_error`` the row channels are (w, w*y, w*y^2), of which
        the first two make the histograms; for ``newton`` (gradient, hessian).
    n_classes : int
    l2 : float
        L2 regularization of Newton leaf values.
    min_hessian : float
        Smallest hessian sum of a child (Newton), as scikit-learn's
        ``min_hessian_to_split``.
    """

    kind: str
    n_classes: int = 0
    l2: float = 0.0
    min_hessian: float = 1e-3

    @property
    def classification(self) -> bool:
        return self.kind in ("gini", "entropy")

    @property
    def hist_channels(self) -> int:
        return self.n_classes if self.classification else 2

    @property
    def n_outputs(self) -> int:
        return self.n_classes if self.classification else 1

    # Statistics arrays put channels first: s[0], s[1]... are contiguous.
    def weight(self, xp: Any, s: Any) -> Any:
        """The weight of each statistics vector (axis 0 = channels)."""
        if self.classification:
            return s.sum(axis=0)
        return s[1] if self.kind == "newton" else s[0]

    def score(self, xp: Any, s: Any, w: Any = None) -> Any:
        """The negated weighted impurity, up to terms that cancel in a gain (``w``: the
        weights of ``s``, when the caller has them)."""
        if self.kind == "newton":
            den = s[1] + self.l2
            return xp.where(den > 0, s[0] ** 2 / xp.where(den > 0, den, 1.0), 0.0)
        w = self.weight(xp, s) if w is None else w
        pos = w > 0
        safe_w = xp.where(pos, w, 1.0)
        if self.kind == "gini":
            out = (s * s).sum(axis=0) / safe_w
        elif self.kind == "entropy":
            out = (s * xp.log(xp.where(s > 0, s, 1.0) / safe_w)).sum(axis=0)
        else:
            out = s[1] ** 2 / safe_w
        return xp.where(pos, out, 0.0)

    def side_ok(self, xp: Any, s: Any, w: Any, total: Any) -> Any:
        """Whether a child with statistics ``s`` (weights ``w``) may exist (its node's
        total ``total``)."""
        if self.kind == "newton":
            return s[1] >= self.min_hessian
        # relative floor: the right side is total - left, exact zeros are lost to rounding
        return w > 1e-12 * self.weight(xp, total)

    def value(self, xp: Any, s: Any) -> Any:
        """Node values (n_nodes, n_outputs) from statistics (channels, n_nodes): class
        shares, mean target or Newton step."""
        if self.kind == "newton":
            return (-s[0] / (s[1] + self.l2))[:, None]
        w = self.weight(xp, s)
        safe_w = xp.where(w > 0, w, 1.0)
        if self.classification:
            return (s / safe_w).T
        return (s[1] / safe_w)[:, None]

    def impure(self, xp: Any, s: Any) -> Any:
        """Nodes that may still split (scikit-learn stops at zero impurity)."""
        if self.kind == "newton":
            return xp.ones(s.shape[1], dtype=bool)
        w = self.weight(xp, s)
        if self.classification:
            return s.max(axis=0) < w * (1 - 1e-12)
        safe_w = xp.where(w > 0, w, 1.0)
        mean_sq = s[2] / safe_w
        var = mean_sq - (s[1] / safe_w) ** 2
        return var > 1e-12 * mean_sq + 1e-300


# -- the forest -----------------------------------------------------------------------------
@dataclass
class Forest:
    """Trees as flat arrays on one device, node ids global over all trees.

    Leaves point at themselves (``left == right == id``, threshold ``+inf``), so a descent
    needs no test for leaves.

    Attributes
    ----------
    feature : int32 (n_nodes,)
        Split feature (0 at leaves; see ``is_leaf``).
    threshold : float64 (n_nodes,)
        Samples with ``x[feature] <= threshold`` go left.
    left, right : int32 (n_nodes,)
    value : float64 (n_nodes, n_outputs)
    gain : float64 (n_nodes,)
        Impurity decrease (or boosting gain) of each split, 0 at leaves.
    is_leaf : bool (n_nodes,)
    node_tree : int32 (n_nodes,)
    roots : int32 (n_trees,)
    depth : int
        The deepest leaf's depth.
    """

    feature: Any
    threshold: Any
    left: Any
    right: Any
    value: Any
    gain: Any
    is_leaf: Any
    node_tree: Any
    roots: Any
    depth: int

    @property
    def n_trees(self) -> int:
        return int(self.roots.shape[0])

    @property
    def n_nodes(self) -> int:
        return int(self.feature.shape[0])

    def to(self, device: Any) -> Forest:
        """The same forest on ``device`` (a no-op when it is there)."""
        return Forest(**{f.name: (getattr(self, f.name) if f.name == "depth"
                                  else to_device(getattr(self, f.name), device))
                         for f in fields(self)})


def concat_forests(xp: Any, parts: list[Forest]) -> Forest:
    """One forest from several (node and tree ids renumbered)."""
    if len(parts) == 1:
        return parts[0]
    node_off = 0
    tree_off = 0
    cols: dict[str, list[Any]] = {f.name: [] for f in fields(Forest) if f.name != "depth"}
    for p in parts:
        for name in ("feature", "threshold", "value", "gain", "is_leaf"):
            cols[name].append(getattr(p, name))
        cols["left"].append(p.left + node_off)
        cols["right"].append(p.right + node_off)
        cols["roots"].append(p.roots + node_off)
        cols["node_tree"].append(p.node_tree + tree_off)
        node_off += p.n_nodes
        tree_off += p.n_trees
    return Forest(**{k: xp.concatenate(v) for k, v in cols.items()},
                  depth=max(p.depth for p in parts))


def forest_apply(forest: Forest, X: Any) -> Any:
    """Leaf id (global) of every sample in every tree: int32 (n_samples, n_trees).

    All trees descend together; three gathers per level.
    """
    xp = get_xp(X)
    n = X.shape[0]
    out = xp.empty((n, forest.n_trees), dtype=np.int32)
    nodes = _NodeTable.of(xp, forest)
    for lo, hi in _row_blocks(xp, n, forest.n_trees):
        out[lo:hi] = _descend(xp, forest, X[lo:hi], nodes).T
    return out


def _row_blocks(xp: Any, n: int, n_trees: int) -> list[tuple[int, int]]:
    step = max(1, PREDICT_BUDGET[device_kind(xp)] // max(n_trees, 1))
    return [(lo, min(lo + step, n)) for lo in range(0, n, step)] or [(0, 0)]


@dataclass
class _NodeTable:
    """A forest's nodes as the descent reads them, by *doubled* node id ``2 * node``: split
    feature and threshold twice over, and ``child[2 * node + (x <= threshold)]`` the next
    doubled id (right first: NaN, which fails every ``<=``, goes right). Doubled ids save
    the descent a multiplication pass per level (a fifth of its time on the CPU)."""

    feature: Any
    threshold: Any
    child: Any

    @classmethod
    def of(cls, xp: Any, forest: Forest) -> _NodeTable:
        child = xp.stack([forest.right, forest.left], axis=1).reshape(-1).astype(np.intp)
        return cls(xp.repeat(forest.feature.astype(np.intp), 2),
                   xp.repeat(forest.threshold, 2), child * 2)


def _descend(xp: Any, forest: Forest, Xb: Any, nodes: _NodeTable | None = None) -> Any:
    """Leaf of every (tree, sample) of the block ``Xb``: (n_trees, m) node ids.

    Tree-major, so that the nodes one row of the array reads are one tree's: a tree's
    nodes stay in cache while its samples descend (3x faster on the CPU than sample-major).
    """
    nodes = _NodeTable.of(xp, forest) if nodes is None else nodes
    m = Xb.shape[0]
    Xb = xp.ascontiguousarray(Xb)
    base = xp.arange(m, dtype=np.intp) * Xb.shape[1]
    Xf = Xb.reshape(-1)
    idx = xp.repeat(forest.roots.astype(np.intp) * 2, m).reshape(forest.n_trees, m)
    for _ in range(forest.depth):
        x = Xf.take(base + nodes.feature.take(idx))
        idx = nodes.child.take(idx + (x <= nodes.threshold.take(idx)))
    return idx >> 1


def forest_sum(forest: Forest, X: Any, n_groups: int = 1, n_threads: int = 1) -> Any:
    """Sum over trees of the leaf values of every sample.

    With ``n_groups == 1`` the result is (n_samples, n_outputs); else trees are taken
    round-robin into ``n_groups`` groups (tree ``t`` in group ``t % n_groups``, one-output
    trees as in multinomial boosting) and the result is (n_samples, n_groups). On the CPU,
    ``n_threads`` threads take blocks of rows side by side (NumPy's gathers release the
    GIL); the result is the same for any number.
    """
    xp = get_xp(X)
    if _forest_kernels.usable(xp, forest, n_groups):
        # the GPU: one fused kernel, a thread per sample walking every tree
        return _forest_kernels.forest_sum(xp, forest, X, n_groups)
    n = X.shape[0]
    width = forest.value.shape[1] if n_groups == 1 else n_groups
    out = xp.zeros((n, width), dtype=np.float64)
    nodes = _NodeTable.of(xp, forest)

    def block(lo: int, hi: int) -> None:
        if hi <= lo:
            return
        leaves = _descend(xp, forest, X[lo:hi], nodes)
        # sums over the leading (tree) axis add tree by tree, the kernel's order
        if n_groups == 1:
            out[lo:hi] = forest.value[leaves].sum(axis=0)
        else:
            vals = forest.value[leaves, 0]
            out[lo:hi] = vals.reshape(-1, n_groups, hi - lo).sum(axis=0).T

    map_blocks(xp, lambda b: block(*b), _row_blocks(xp, n, forest.n_trees), n_threads)
    return out


def importances(xp: Any, forest: Forest, n_features: int) -> Any:
    """Mean decrease in impurity per feature: per tree normalized to 1, averaged over the
    trees that split, normalized again (scikit-learn's forest ``feature_importances_``)."""
    split = ~forest.is_leaf
    idx = (forest.node_tree.astype(np.int64) * n_features + forest.feature)[split]
    per_tree = bincount(xp, idx, forest.n_trees * n_features,
                        weights=xp.maximum(forest.gain[split], 0.0))
    per_tree = per_tree.reshape(forest.n_trees, n_features)
    sums = per_tree.sum(axis=1)
    used = sums > 0
    if not bool(used.any()):
        return xp.zeros(n_features, dtype=np.float64)
    mean = (per_tree[used] / sums[used][:, None]).mean(axis=0)
    return mean / mean.sum()


# -- growth ---------------------------------------------------------------------------------
@dataclass
class Rows:
    """The (row, tree) pairs a batch of trees is grown on, with their statistics.

    ``tree`` gives each entry's tree within the batch. Classification passes ``cls`` (class
    codes) and ``w`` (weights); the others ``chan`` (n_entries, n_channels): (w, w*y, w*y^2)
    or (gradient, hessian).
    """

    row: Any
    tree: Any
    cls: Any = None
    w: Any = None
    chan: Any = None

    def take(self, mask: Any) -> Rows:
        return Rows(*(None if a is None else a[mask]
                      for a in (self.row, self.tree, self.cls, self.w, self.chan)))


@dataclass
class GrowParams:
    """Stopping rules of :func:`grow` (scikit-learn's meanings)."""

    max_depth: int | None = None
    min_samples_split: int = 2
    min_samples_leaf: int = 1
    max_features: int | None = None  # features drawn per node; None: all
    max_leaf_nodes: int | None = None
    min_gain: float | None = None  # None: any valid split; else the gain must exceed it


def _node_totals(xp: Any, crit: Criterion, rows: Rows, nid: Any, n_nodes: int) -> Any:
    """Per node statistics (channels, n_nodes), all row channels."""
    if crit.classification:
        c = crit.n_classes
        flat = bincount(xp, rows.cls * n_nodes + nid, n_nodes * c, weights=rows.w)
        return flat.reshape(c, n_nodes)
    return xp.stack([bincount(xp, nid, n_nodes, weights=rows.chan[:, s])
                     for s in range(rows.chan.shape[1])])


def _entry_keys(xp: Any, codes: Any, rows: Rows, cid: Any, feats: Any, n_bins: int) -> Any:
    """Per (row, drawn feature) entry: ``(node * n_drawn + slot) * n_bins + code``, as an
    (n_rows, n_drawn) int64 array."""
    if feats is None:
        code = codes[rows.row]
    else:
        code = codes[rows.row[:, None], feats[cid]]
    mf = code.shape[1]
    return (cid[:, None] * mf + xp.arange(mf, dtype=np.int64)[None, :]) * n_bins + code


def _entry_stats(xp: Any, crit: Criterion, rows: Rows, mf: int) -> list[Any]:
    """Histogram channels of every entry (each raveled like the keys)."""
    m = rows.row.shape[0]
    if crit.classification:
        return [xp.broadcast_to(xp.where(rows.cls == c, rows.w, 0.0)[:, None], (m, mf)).ravel()
                for c in range(crit.n_classes)]
    return [xp.broadcast_to(rows.chan[:, s:s + 1], (m, mf)).ravel()
            for s in range(crit.hist_channels)]


def _split_scores(xp: Any, crit: Criterion, params: GrowParams, left: Any, total: Any,
                  c_left: Any, c_total: Any) -> Any:
    """Gain of every candidate split (-inf where not allowed)."""
    right = total - left
    # each side's weight once, for both its test and its score (a sum over classes)
    w_left, w_right = crit.weight(xp, left), crit.weight(xp, right)
    valid = crit.side_ok(xp, left, w_left, total) & crit.side_ok(xp, right, w_right, total)
    if c_left is not None:
        msl = params.min_samples_leaf
        valid &= (c_left >= msl) & (c_total - c_left >= msl)
    s_left, s_right = crit.score(xp, left, w_left), crit.score(xp, right, w_right)
    gain = s_left + s_right - crit.score(xp, total)
    if params.min_gain is not None:
        # a zero gain computed in floats is rounding noise of the children's scores: it
        # must not count as an improvement (it would split nodes at random)
        noise = 1e-9 * (xp.abs(s_left) + xp.abs(s_right))
        valid &= gain > params.min_gain + noise
    return xp.where(valid, gain, -np.inf)


def _histogram(xp: Any, crit: Criterion, codes: Any, rows: Rows, cid: Any, feats: Any,
               n_bins: int, size: int, counts: bool) -> tuple[Any, Any]:
    """Flat (channel, node, drawn feature, bin) histogram of ``rows`` and, when asked, the
    row counts (node, drawn feature, bin)."""
    keys = _entry_keys(xp, codes, rows, cid, feats, n_bins)
    mf = keys.shape[1]
    if crit.classification:
        w = xp.broadcast_to(rows.w[:, None], (rows.w.shape[0], mf)).ravel()
        idx = (keys + (rows.cls * size)[:, None]).ravel()  # the class picks the channel
        hist = bincount(xp, idx, size * crit.n_classes, weights=w)
        keys = keys.ravel()
    else:
        keys = keys.ravel()
        hist = xp.concatenate([bincount(xp, keys, size, weights=w)
                               for w in _entry_stats(xp, crit, rows, mf)])
    return hist, (bincount(xp, keys, size) if counts else None)


def _dense_hist(xp: Any, crit: Criterion, params: GrowParams, codes: Any, rows: Rows,
                cid: Any, n_nodes: int, feats: Any, n_bins: int) -> tuple[Any, Any]:
    """(channel, node, drawn feature, bin) histograms of ``rows`` (node ``cid``) and, when
    ``min_samples_leaf`` needs them, row counts (node, drawn feature, bin)."""
    mf = codes.shape[1] if feats is None else feats.shape[1]
    size = n_nodes * mf * n_bins
    counts = params.min_samples_leaf > 1
    m = rows.row.shape[0]
    # histograms add up over rows: big levels (boosting on every row) go in slices
    step = max(1, ENTRY_BUDGET[device_kind(xp)] // mf)
    hist = cnt = None
    for lo in range(0, max(m, 1), step):
        part = rows if step >= m else rows.take(slice(lo, lo + step))
        pcid = cid if step >= m else cid[lo:lo + step]
        h, c = _histogram(xp, crit, codes, part, pcid, feats, n_bins, size, counts)
        hist = h if hist is None else hist + h
        cnt = c if cnt is None else cnt + c
    hist = hist.reshape(-1, n_nodes, mf, n_bins)
    return hist, (cnt.reshape(n_nodes, mf, n_bins) if counts else None)


def _best_from_hist(xp: Any, crit: Criterion, params: GrowParams, hist: Any,
                    cnt: Any) -> tuple[Any, Any, Any]:
    """Per node: (best gain or -inf, drawn feature slot, bin) from its histograms."""
    n_nodes, n_bins = hist.shape[1], hist.shape[3]
    cum = xp.cumsum(hist, axis=3)
    c_left = c_total = None
    if cnt is not None:
        cc = xp.cumsum(cnt, axis=2)
        c_left, c_total = cc[:, :, :-1], cc[:, :, -1:]
    gain = _split_scores(xp, crit, params, cum[..., :-1], cum[..., -1:], c_left, c_total)
    gain = gain.reshape(n_nodes, -1)
    best = xp.argmax(gain, axis=1)
    best_gain = xp.take_along_axis(gain, best[:, None], axis=1)[:, 0]
    return best_gain, best // (n_bins - 1), best % (n_bins - 1)


def _splits_dense(xp: Any, crit: Criterion, params: GrowParams, codes: Any, rows: Rows,
                  cid: Any, n_nodes: int, feats: Any, n_bins: int) -> tuple[Any, Any, Any]:
    """Best split per node from full (node, drawn feature, bin) histograms: one bincount
    per channel, a cumulative sum over bins, an argmax. Per node: (gain or -inf, drawn
    feature slot, bin)."""
    hist, cnt = _dense_hist(xp, crit, params, codes, rows, cid, n_nodes, feats, n_bins)
    return _best_from_hist(xp, crit, params, hist, cnt)


def _splits_sorted(xp: Any, crit: Criterion, params: GrowParams, codes: Any, rows: Rows,
                   cid: Any, n_nodes: int, feats: Any, n_bins: int,
                   totals: Any) -> tuple[Any, Any, Any]:
    """The same answer as :func:`_splits_dense` from sorted entries, for levels whose nodes
    hold few rows (deep levels): work in proportion to the entries, not to
    nodes x features x bins. Only the bins present in a node are scored; an absent bin
    splits the rows as the present bin below it, which the dense argmax picks first too."""
    keys = _entry_keys(xp, codes, rows, cid, feats, n_bins)
    mf = keys.shape[1]
    keys = keys.ravel()
    order = argsort_bounded(xp, keys, n_nodes * mf * n_bins)
    ks = keys[order]
    first = run_starts(xp, ks)
    run = xp.cumsum(first) - 1
    n_runs = int(run[-1]) + 1
    stats = xp.stack([bincount(xp, run, n_runs, weights=w[order])
                      for w in _entry_stats(xp, crit, rows, mf)])
    run_key = ks[first]
    seg = run_key // n_bins  # node * mf + slot
    node = seg // mf
    seg_first = xp.searchsorted(seg, seg, side="left")
    # prefix sums restarted at every (node, slot) segment
    cs = xp.cumsum(stats, axis=1)
    before = xp.where(seg_first > 0, cs[:, xp.maximum(seg_first - 1, 0)], 0.0)
    left = cs - before
    total = totals[:, node]
    c_left = c_total = None
    if params.min_samples_leaf > 1:
        cnt = xp.cumsum(bincount(xp, run, n_runs))
        c_left = cnt - xp.where(seg_first > 0, cnt[xp.maximum(seg_first - 1, 0)], 0)
        seg_last = xp.searchsorted(seg, seg, side="right") - 1
        c_total = c_left[seg_last]
    gain = _split_scores(xp, crit, params, left, total, c_left, c_total)
    # the last bin present in a segment leaves nothing on the right
    last = xp.ones(n_runs, dtype=bool)
    last[:-1] = seg[1:] != seg[:-1]
    gain = xp.where(last, -np.inf, gain)
    # per node, the first run of highest gain (the dense argmax's choice)
    # (every candidate node holds rows, so each has runs: no empty groups)
    best_gain = group_max(xp, node, n_nodes, gain)[0]
    pos = xp.where(gain == best_gain[node], xp.arange(n_runs, dtype=np.int64), n_runs)
    pick = group_min(xp, node, n_nodes, pos)[0]
    slot = xp.zeros(n_nodes, dtype=np.int64)
    b = xp.zeros(n_nodes, dtype=np.int64)
    slot[node[pick]] = seg[pick] % mf
    b[node[pick]] = run_key[pick] % n_bins
    return best_gain, slot, b


def _limit_leaves(xp: Any, ok: Any, gain: Any, tree: Any, allowed: Any) -> Any:
    """Keep, per tree, only the ``allowed[tree]`` splits of highest gain (best-first within
    a level, for ``max_leaf_nodes``)."""
    n = ok.shape[0]
    by_gain = stable_argsort(xp, xp.where(ok, -gain, np.inf))
    order = by_gain[stable_argsort(xp, tree[by_gain])]  # by tree, then by gain
    t_sorted = tree[order]
    first = xp.searchsorted(t_sorted, t_sorted, side="left")
    rank = xp.arange(n) - first
    keep = xp.zeros(n, dtype=bool)
    keep[order] = (rank < allowed[t_sorted]) & ok[order]
    return keep


def _splits_chunked(xp: Any, crit: Criterion, params: GrowParams, codes: Any, rows: Rows,
                    cid: Any, n_nodes: int, feats: Any, n_bins: int,
                    mf: int) -> tuple[Any, Any, Any]:
    """:func:`_splits_dense` over groups of nodes whose histograms fit ``HIST_BUDGET``."""
    per_pass = max(1, HIST_BUDGET[device_kind(xp)] // (mf * n_bins * crit.hist_channels))
    if per_pass >= n_nodes:
        return _splits_dense(xp, crit, params, codes, rows, cid, n_nodes, feats, n_bins)
    gain = xp.empty(n_nodes, dtype=np.float64)
    slot = xp.empty(n_nodes, dtype=np.int64)
    b = xp.empty(n_nodes, dtype=np.int64)
    for lo in range(0, n_nodes, per_pass):
        hi = min(lo + per_pass, n_nodes)
        mask = (cid >= lo) & (cid < hi)
        pf = None if feats is None else feats[lo:hi]
        gain[lo:hi], slot[lo:hi], b[lo:hi] = _splits_dense(
            xp, crit, params, codes, rows.take(mask), cid[mask] - lo, hi - lo, pf, n_bins)
    return gain, slot, b


def _node_splits(xp: Any, crit: Criterion, params: GrowParams, binned: Binned, rows: Rows,
                 nid: Any, n_nodes: int, depth: Any, feature_rng: Any, mf: int | None,
                 parent: tuple[Any, Any] | None = None) -> tuple[Any, ...]:
    """Values and best splits of new nodes ``0..n_nodes-1`` (the rows' ``nid``).

    ``parent``: the histograms (and counts) of the parents when the new nodes are sibling
    pairs ``(2 r, 2 r + 1)`` of parent ``r`` and every node sees every feature; then only
    the smaller sibling's histograms are built and the other's are the parent's minus
    those (histogram subtraction).

    Returns (value (n_nodes, n_outputs), gain (-inf where the node is a leaf), feature,
    bin, histograms or None): the histograms (and counts) of all new nodes when every
    node sees every feature and they fit ``HIST_BUDGET``, for their children's
    subtraction.
    """
    codes, n_bins = binned.codes, binned.n_bins
    n_features = codes.shape[1]
    totals = _node_totals(xp, crit, rows, nid, n_nodes)
    min_count = max(params.min_samples_split, 2 * params.min_samples_leaf, 2)
    n_rows = bincount(xp, nid, n_nodes)
    can = crit.impure(xp, totals) & (n_rows >= min_count)
    if params.max_depth is not None:
        can &= depth < params.max_depth
    gain = xp.full(n_nodes, -np.inf)
    feat = xp.zeros(n_nodes, dtype=np.int64)
    bins = xp.zeros(n_nodes, dtype=np.int64)
    n_can = int(can.sum()) if n_bins >= 2 else 0
    keep_hist = (mf is None and n_bins >= 2 and n_nodes * n_features * n_bins
                 * crit.hist_channels <= HIST_BUDGET[device_kind(xp)])
    if parent is not None and keep_hist and n_can:
        hist, cnt = _sibling_hists(xp, crit, params, codes, rows, nid, n_rows, n_bins, parent)
        cand = xp.flatnonzero(can)
        c_gain, c_feat, c_bin = _best_from_hist(
            xp, crit, params, hist[:, cand], None if cnt is None else cnt[cand])
    elif n_can:
        cand = xp.flatnonzero(can)
        cmap = xp.full(n_nodes, -1, dtype=np.int64)
        cmap[cand] = xp.arange(n_can, dtype=np.int64)
        cid = cmap[nid]
        sub = rows.take(cid >= 0)
        cid = cid[cid >= 0]
        feats = None
        if mf is not None:
            draws = feature_rng.random_sample((n_can, n_features))
            feats = xp.argsort(draws, axis=1)[:, :mf].astype(np.int64)
        if sub.row.shape[0] * SORTED_RATIO < n_can * n_bins:
            keep_hist = False
            c_gain, c_slot, c_bin = _splits_sorted(
                xp, crit, params, codes, sub, cid, n_can, feats, n_bins,
                totals[:crit.hist_channels][:, cand])
        elif keep_hist:
            c_hist, c_cnt = _dense_hist(xp, crit, params, codes, sub, cid, n_can, None, n_bins)
            c_gain, c_slot, c_bin = _best_from_hist(xp, crit, params, c_hist, c_cnt)
            # nodes that cannot split are never parents: zeros stand in for them
            hist = xp.zeros((c_hist.shape[0], n_nodes, *c_hist.shape[2:]), dtype=c_hist.dtype)
            hist[:, cand] = c_hist
            cnt = None
            if c_cnt is not None:
                cnt = xp.zeros((n_nodes, *c_cnt.shape[1:]), dtype=c_cnt.dtype)
                cnt[cand] = c_cnt
        else:
            c_gain, c_slot, c_bin = _splits_chunked(xp, crit, params, codes, sub, cid, n_can,
                                                    feats, n_bins,
                                                    n_features if mf is None else mf)
        c_feat = c_slot if feats is None else xp.take_along_axis(
            feats, c_slot[:, None], axis=1)[:, 0]
    if n_can:
        ok = xp.isfinite(c_gain)
        gain[cand] = c_gain
        feat[cand] = xp.where(ok, c_feat, 0)
        bins[cand] = xp.where(ok, c_bin, 0)
    hists = (hist, cnt) if keep_hist and n_can else None
    return crit.value(xp, totals), gain, feat, bins, hists


def _sibling_hists(xp: Any, crit: Criterion, params: GrowParams, codes: Any, rows: Rows,
                   nid: Any, n_rows: Any, n_bins: int,
                   parent: tuple[Any, Any]) -> tuple[Any, Any]:
    """Histograms of sibling pairs: the smaller sibling's from its rows, the other's by
    subtraction from the parent's."""
    p_hist, p_cnt = parent
    n_pairs = p_hist.shape[1]
    pair = xp.arange(n_pairs, dtype=np.int64)
    small = 2 * pair + (n_rows[1::2] < n_rows[0::2])
    is_small = xp.zeros(2 * n_pairs, dtype=bool)
    is_small[small] = True
    on_small = is_small[nid]
    s_hist, s_cnt = _dense_hist(xp, crit, params, codes, rows.take(on_small),
                                nid[on_small] // 2, n_pairs, None, n_bins)
    hist = xp.empty((p_hist.shape[0], 2 * n_pairs, *p_hist.shape[2:]), dtype=p_hist.dtype)
    hist[:, small] = s_hist
    hist[:, small ^ 1] = p_hist - s_hist
    cnt = None
    if s_cnt is not None:
        cnt = xp.empty((2 * n_pairs, *s_cnt.shape[1:]), dtype=s_cnt.dtype)
        cnt[small] = s_cnt
        cnt[small ^ 1] = p_cnt - s_cnt
    return hist, cnt


def grow(binned: Binned, rows: Rows, n_trees: int, crit: Criterion, params: GrowParams,
         feature_rng: Any = None, track_rows: int | None = None) -> tuple[Forest, Any]:
    """Grow ``n_trees`` trees on ``rows``, in rounds over the open leaves of all trees.

    Every open leaf knows its best split (found when it was made). A round splits all
    open leaves that can split, which grows the trees level by level; with
    ``max_leaf_nodes`` it splits, per tree, only the open leaf of highest gain, which is
    scikit-learn's best-first growth. Only the new children's histograms are built.

    Parameters
    ----------
    binned : Binned
    rows : Rows
        Entries (row, tree) with their statistics; rows absent from a tree are not listed.
    n_trees : int
    crit : Criterion
    params : GrowParams
    feature_rng : ``xp.random.RandomState`` or None
        Draws the features of every node when ``params.max_features`` is below the feature
        count.
    track_rows : int or None
        When given (the row count), also return every tree's leaf of every listed row as an
        int32 array (n_trees, track_rows) of global node ids (-1 where not listed).

    Returns
    -------
    (Forest, leaves or None)
    """
    xp = get_xp(binned.codes)
    codes = binned.codes
    mf = params.max_features
    if mf is not None and mf >= codes.shape[1]:
        mf = None
    leaves = (xp.full((n_trees, track_rows), -1, dtype=np.int32)
              if track_rows is not None else None)
    # open leaves: global id, tree, depth and their best split
    o_gid = xp.arange(n_trees, dtype=np.int64)
    o_tree = o_gid.copy()
    o_depth = xp.zeros(n_trees, dtype=np.int64)
    nid = rows.tree.astype(np.int64)  # each row's open leaf
    value, o_gain, o_feat, o_bin, o_hist = _node_splits(xp, crit, params, binned, rows, nid,
                                                        n_trees, o_depth, feature_rng, mf)
    store = _HistStore(xp, params, n_trees, o_hist) if SUBTRACT and mf is None else None
    made = {"value": [value], "node_tree": [o_tree], "depth": [o_depth]}
    splits: dict[str, list[Any]] = {"gid": [], "feature": [], "bin": [], "gain": []}
    n_made = n_trees
    leaf_count = xp.ones(n_trees, dtype=np.int64)
    while True:
        can = xp.isfinite(o_gain)
        if params.max_leaf_nodes is not None:
            allowed = xp.minimum(params.max_leaf_nodes - leaf_count, 1)
            chosen = _limit_leaves(xp, can, o_gain, o_tree, allowed)
        else:
            chosen = can
        n_split = int(chosen.sum())
        stays = can & ~chosen
        if leaves is not None:  # rows of the leaves that close now (all, at the end)
            done = ~can[nid] if n_split else xp.ones(nid.shape[0], dtype=bool)
            leaves[o_tree[nid[done]], rows.row[done]] = o_gid[nid[done]].astype(np.int32)
        if not n_split:
            break
        splits["gid"].append(o_gid[chosen])
        splits["feature"].append(o_feat[chosen])
        splits["bin"].append(o_bin[chosen])
        splits["gain"].append(o_gain[chosen])
        if params.max_leaf_nodes is not None:
            leaf_count += bincount(xp, o_tree[chosen], n_trees)
        # new open set: the leaves that wait, then the children of this round
        n_stay = int(stays.sum())
        remap = xp.full(o_gid.shape[0], -1, dtype=np.int64)
        remap[stays] = xp.arange(n_stay, dtype=np.int64)
        rank = xp.cumsum(chosen) - 1
        keep = can[nid]
        if not bool(keep.all()):  # rows of leaves that closed leave the entries
            rows, nid = rows.take(keep), nid[keep]
        # only the split leaves' rows move (best-first: one leaf a tree, a small share of
        # the rows): gathers over those alone; the others are renumbered
        moving = xp.flatnonzero(chosen[nid])
        m_nid = nid[moving]
        right = codes[rows.row[moving], o_feat[m_nid]] > o_bin[m_nid]
        nid = remap[nid]
        nid[moving] = n_stay + 2 * rank[m_nid] + right
        child_tree = xp.repeat(o_tree[chosen], 2)
        child_depth = xp.repeat(o_depth[chosen] + 1, 2)
        child_gid = n_made + xp.arange(2 * n_split, dtype=np.int64)
        n_made += 2 * n_split
        # values and best splits of the children only (their rows, renumbered from 0)
        c_rows = rows if moving.shape[0] == nid.shape[0] else rows.take(moving)
        parent = None if store is None else store.parents(chosen, o_gid[chosen])
        c_val, c_gain, c_feat, c_bin, c_hist = _node_splits(
            xp, crit, params, binned, c_rows, nid[moving] - n_stay, 2 * n_split,
            child_depth, feature_rng, mf, parent)
        made["value"].append(c_val)
        made["node_tree"].append(child_tree)
        made["depth"].append(child_depth)
        o_gid = xp.concatenate([o_gid[stays], child_gid])
        o_tree = xp.concatenate([o_tree[stays], child_tree])
        o_depth = xp.concatenate([o_depth[stays], child_depth])
        o_gain = xp.concatenate([o_gain[stays], c_gain])
        o_feat = xp.concatenate([o_feat[stays], c_feat])
        o_bin = xp.concatenate([o_bin[stays], c_bin])
        if store is not None:
            store.update(stays, n_stay, child_gid, c_hist)
    return _assemble(xp, binned, made, splits, n_made, n_trees), leaves


class _HistStore:
    """The open leaves' histograms, kept for their children's subtraction.

    Level-wise growth keeps the last round's (all open leaves are its children);
    best-first growth (``max_leaf_nodes``), where leaves wait for later rounds, keeps a
    pool indexed by node id, at most ``2 * max_leaf_nodes - 1`` nodes a tree.
    """

    def __init__(self, xp: Any, params: GrowParams, n_trees: int, roots: Any):
        self.xp = xp
        self.current = roots  # (hist, cnt) of the open leaves, in their order, or None
        self.pool = None
        if params.max_leaf_nodes is not None and roots is not None:
            hist, cnt = roots
            cap = n_trees * (2 * params.max_leaf_nodes - 1)
            if cap * hist[0, 0].size * hist.shape[0] <= 4 * HIST_BUDGET[device_kind(xp)]:
                self.pool = xp.zeros((hist.shape[0], cap, *hist.shape[2:]), dtype=hist.dtype)
                self.pool[:, :n_trees] = hist
                self.cnt = None
                if cnt is not None:
                    self.cnt = xp.zeros((cap, *cnt.shape[1:]), dtype=cnt.dtype)
                    self.cnt[:n_trees] = cnt
                self.ok = xp.zeros(cap, dtype=bool)
                self.ok[:n_trees] = True

    def parents(self, chosen: Any, gid: Any) -> tuple[Any, Any] | None:
        """Histograms of the leaves split this round, or None when one is missing."""
        if self.pool is not None:
            if not bool(self.ok[gid].all()):
                return None
            return self.pool[:, gid], None if self.cnt is None else self.cnt[gid]
        if self.current is None:
            return None
        hist, cnt = self.current
        return hist[:, chosen], None if cnt is None else cnt[chosen]

    def update(self, stays: Any, n_stay: int, child_gid: Any, new: Any) -> None:
        """Record the children's histograms (None when they were not built)."""
        if self.pool is not None:
            if new is not None:
                self.pool[:, child_gid] = new[0]
                if self.cnt is not None:
                    self.cnt[child_gid] = new[1]
                self.ok[child_gid] = True
            return
        # level-wise: no leaf waits, the children are the whole open set
        self.current = new if not n_stay else None


def _assemble(xp: Any, binned: Binned, made: dict[str, list[Any]],
              splits: dict[str, list[Any]], n_nodes: int, n_trees: int) -> Forest:
    """Flat node arrays from the nodes made (in id order) and the splits applied."""
    ids = xp.arange(n_nodes, dtype=np.int64)
    feature = xp.zeros(n_nodes, dtype=np.int32)
    threshold = xp.full(n_nodes, np.inf, dtype=np.float64)
    left = ids.astype(np.int32)
    right = ids.astype(np.int32)
    gain = xp.zeros(n_nodes, dtype=np.float64)
    is_leaf = xp.ones(n_nodes, dtype=bool)
    depth = xp.concatenate(made["depth"])
    if splits["gid"]:
        gid = xp.concatenate(splits["gid"])
        feat = xp.concatenate(splits["feature"])
        bins = xp.concatenate(splits["bin"])
        # children were numbered in split order, two per split, after the roots
        first_child = n_trees + 2 * xp.arange(gid.shape[0], dtype=np.int64)
        feature[gid] = feat.astype(np.int32)
        threshold[gid] = binned.edges[feat, bins]
        left[gid] = first_child.astype(np.int32)
        right[gid] = (first_child + 1).astype(np.int32)
        gain[gid] = xp.concatenate(splits["gain"])
        is_leaf[gid] = False
    return Forest(feature=feature, threshold=threshold, left=left, right=right,
                  value=xp.concatenate(made["value"]), gain=gain, is_leaf=is_leaf,
                  node_tree=xp.concatenate(made["node_tree"]).astype(np.int32),
                  roots=xp.arange(n_trees, dtype=np.int32), depth=int(depth.max()))
