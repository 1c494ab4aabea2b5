"""Geometry arrays in the GeoArrow layout, on the CPU (NumPy) or the GPU (CuPy).

A :class:`GeometryArray` holds one geometry type for all its rows, as separated coordinates
(``x``, ``y``: float64 arrays) plus one offsets array per level of nesting (int64, GeoArrow
"native" encoding with separated coordinates)::

    point             x, y                      (one coordinate per row)
    linestring        geom -> coords            offsets = (geom_offsets,)
    multipoint        geom -> coords            offsets = (geom_offsets,)
    polygon           geom -> rings -> coords   offsets = (geom_offsets, ring_offsets)
    multilinestring   geom -> parts -> coords   offsets = (geom_offsets, part_offsets)
    multipolygon      geom -> polygons -> rings -> coords
                                                offsets = (geom_offsets, polygon_offsets,
                                                           ring_offsets)

Each offsets array has one more entry than the items it splits: items ``i`` of a level own
the children ``offsets[i]:offsets[i+1]`` of the next level. Rings are closed (last coordinate
equals the first), as in GeoArrow and shapely; the first ring of a polygon is its shell, the
others its holes.

Nulls and empties are different things, as in shapely: a null row (``None``) is False in
``validity``; an empty row (``POLYGON EMPTY``) owns no coordinates (an empty point has
NaN coordinates, GeoArrow's convention). A null row is stored like an empty one.

A mixed array (points and polygons in one array, GeoArrow's "geometry" union) is out of scope:
convert it to one type per array (shapely arrays of one type, or split by type).

The geometry is planar: coordinates are (x, y) = (longitude, latitude) in a plane, as in
shapely. A polygon crossing the antimeridian must be split there (or its longitudes
shifted) before planar predicates give the spherical answer.

Helpers shared by every spatial kernel (see :meth:`GeometryArray.ring_offsets`,
:meth:`GeometryArray.geom_ring_offsets`, :meth:`GeometryArray.edges`) give a uniform view:
a *ring* is any innermost coordinate sequence (a polygon ring, a linestring, a part of a
multilinestring), so polygons, multipolygons and lines share one edge layout.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..device import Device, device_of, get_device
from ..errors import TypeError as XpdbTypeError
from ..errors import XpdbError

POINT = "point"
LINESTRING = "linestring"
POLYGON = "polygon"
MULTIPOINT = "multipoint"
MULTILINESTRING = "multilinestring"
MULTIPOLYGON = "multipolygon"

#: number of offsets arrays of each geometry type
NESTING: dict[str, int] = {
    POINT: 0,
    LINESTRING: 1,
    MULTIPOINT: 1,
    POLYGON: 2,
    MULTILINESTRING: 2,
    MULTIPOLYGON: 3,
}
GEOMETRY_TYPES = tuple(NESTING)


class GeometryError(XpdbError, ValueError):
    """Geometry data is malformed (offsets out of order, lengths that do not match...)."""


@dataclass(frozen=True)
class Edges:
    """Every segment of the rings of a geometry array, one entry per segment.

    Attributes
    ----------
    x0, y0, x1, y1 : xp float64 arrays
        The segment's end points.
    ring : xp int64 array
        Index of the ring (innermost coordinate sequence) holding the segment.
    geom : xp int64 array
        Index of the geometry (row) holding the segment.
    """

    x0: Any
    y0: Any
    x1: Any
    y1: Any
    ring: Any
    geom: Any

    def __len__(self) -> int:
        return int(self.x0.shape[0])


class GeometryArray:
    """An array of geometries of one type in the GeoArrow layout, on one device.

    Parameters
    ----------
    geom_type : {"point", "linestring", "polygon", "multipoint", "multilinestring", \
"multipolygon"}
    x, y : array-like of float64
        Separated coordinates.
    offsets : sequence of array-like of int
        One offsets array per nesting level, outermost first (see the module docstring).
    validity : array-like of bool, optional
        False marks a null row; None means no nulls.
    device : str or Device, optional
        Where the arrays live; by default the device of ``x``.

    Notes
    -----
    A GeometryArray is immutable, as an Arrow array: operations return new arrays, and
    structures derived from the coordinates (the point-in-polygon grid, edge bands and cell
    states) are built on first use and kept with the array, as GeoPandas keeps a
    GeoDataFrame's ``sindex``. The arrays passed in are used without a copy where their
    device and dtype already fit, so do not modify them afterwards.

    Examples
    --------
    >>> g = polygons([0, 4, 4, 0, 0], [0, 0, 4, 4, 0], ring_offsets=[0, 5], geom_offsets=[0, 1])
    >>> len(g), g.geom_type, g.n_coords
    (1, 'polygon', 5)
    >>> g.bounds()
    (array([0.]), array([0.]), array([4.]), array([4.]))
    """

    __slots__ = ("_derived", "device", "geom_type", "offsets", "validity", "x", "y")

    def __init__(
        self,
        geom_type: str,
        x: Any,
        y: Any,
        offsets: tuple[Any, ...] | list[Any] = (),
        validity: Any = None,
        device: str | Device | None = None,
    ) -> None:
        gt = str(geom_type).lower()
        if gt not in NESTING:
            msg = (
                f"unknown geometry type {geom_type!r}; use one of {', '.join(GEOMETRY_TYPES)} "
                "(a mixed-type array must be split by type first)"
            )
            raise XpdbTypeError(msg)
        dev = get_device(device) if device is not None else device_of(x)
        self.device: Device = dev
        self.geom_type: str = gt
        self.x = dev.asarray(x, dtype=np.float64)
        self.y = dev.asarray(y, dtype=np.float64)
        self.offsets: tuple[Any, ...] = tuple(dev.asarray(o, dtype=np.int64) for o in offsets)
        self.validity = None if validity is None else dev.asarray(validity, dtype=bool)
        # structures derived from the coordinates (the point-in-polygon index), built on
        # first use and kept: the array is immutable, as an Arrow array
        self._derived: dict[Any, Any] = {}
        if len(self.offsets) != NESTING[gt]:
            msg = (
                f"a {gt} array needs {NESTING[gt]} offsets arrays (outermost first), "
                f"got {len(self.offsets)}"
            )
            raise GeometryError(msg)
        if self.x.shape != self.y.shape or self.x.ndim != 1:
            msg = f"x and y must be 1-d and of equal length, got {self.x.shape} and {self.y.shape}"
            raise GeometryError(msg)
        if self.validity is not None and self.validity.shape[0] != len(self):
            msg = f"validity has {self.validity.shape[0]} entries for {len(self)} geometries"
            raise GeometryError(msg)

    # -- basic properties ---------------------------------------------------------------
    @property
    def xp(self) -> Any:
        """The array namespace (NumPy or CuPy) of this array's device."""
        return self.device.xp

    def __len__(self) -> int:
        if not self.offsets:
            return int(self.x.shape[0])
        return int(self.offsets[0].shape[0]) - 1

    def __repr__(self) -> str:
        return (
            f"GeometryArray({self.geom_type}, {len(self)} rows, {self.n_coords} coords, "
            f"device={self.device})"
        )

    @property
    def n_coords(self) -> int:
        """Number of coordinates."""
        return int(self.x.shape[0])

    @property
    def nbytes(self) -> int:
        n = self.x.nbytes + self.y.nbytes + sum(o.nbytes for o in self.offsets)
        return n + (0 if self.validity is None else self.validity.nbytes)

    @property
    def is_polygonal(self) -> bool:
        """True for polygons and multipolygons."""
        return self.geom_type in (POLYGON, MULTIPOLYGON)

    def valid_mask(self) -> Any:
        """Bool array, True where the row is not null."""
        if self.validity is None:
            return self.xp.ones(len(self), dtype=bool)
        return self.validity

    def is_null(self) -> Any:
        """Bool array, True where the row is null (``None``)."""
        return ~self.valid_mask()

    def is_empty(self) -> Any:
        """Bool array, True where the row is empty (owns no coordinates) or null."""
        if self.geom_type == POINT:
            return self.xp.isnan(self.x) | self.xp.isnan(self.y) | self.is_null()
        co = self.geom_coord_offsets()
        return (co[1:] == co[:-1]) | self.is_null()

    def validate(self) -> None:
        """Check the offsets and that polygon rings are closed (raises
        :class:`GeometryError`); tests call it."""
        xp = self.xp
        child = self.n_coords
        for level in range(len(self.offsets) - 1, -1, -1):
            o = self.offsets[level]
            if o.shape[0] < 1:
                raise GeometryError(f"offsets level {level} is empty; it needs at least [0]")
            if int(o[0]) != 0 or int(o[-1]) != child:
                msg = (
                    f"offsets level {level} must run from 0 to {child} (its children), "
                    f"got {int(o[0])}..{int(o[-1])}"
                )
                raise GeometryError(msg)
            if o.shape[0] > 1 and bool(xp.any(o[1:] < o[:-1])):
                raise GeometryError(f"offsets level {level} decrease somewhere")
            child = int(o.shape[0]) - 1
        if self.is_polygonal:
            ro = self.ring_offsets()
            start, end = ro[:-1], ro[1:]
            used = end > start
            first, last = start[used], end[used] - 1
            open_ = (self.x[first] != self.x[last]) | (self.y[first] != self.y[last])
            if bool(xp.any(open_)):
                bad = int(xp.nonzero(open_)[0][0])
                msg = (
                    f"polygon ring {bad} is not closed (its last coordinate differs from its "
                    "first); repeat the first coordinate at the end of every ring"
                )
                raise GeometryError(msg)

    # -- uniform views used by the kernels -------------------------------------------------
    def geom_coord_offsets(self) -> Any:
        """Offsets geometry -> coordinates (length ``len(self) + 1``), all levels composed."""
        xp = self.xp
        if not self.offsets:
            return xp.arange(len(self) + 1, dtype=np.int64)
        o = self.offsets[-1]
        for outer in reversed(self.offsets[:-1]):
            o = o[outer]
        return o

    def ring_offsets(self) -> Any:
        """Offsets ring -> coordinates, a ring being any innermost coordinate sequence.

        Polygon and multipolygon rings; each linestring, each multilinestring part; for
        points and multipoints each row (points are not rings: the kernels skip them).
        """
        if not self.offsets:
            return self.xp.arange(len(self) + 1, dtype=np.int64)
        return self.offsets[-1]

    def geom_ring_offsets(self) -> Any:
        """Offsets geometry -> rings (length ``len(self) + 1``), through the polygon level.

        For a multipolygon ``o[i]:o[i+1]`` are the rings of all polygons of row ``i``.
        """
        xp = self.xp
        if len(self.offsets) <= 1:
            return xp.arange(len(self) + 1, dtype=np.int64)
        o = self.offsets[-2]
        for outer in reversed(self.offsets[:-2]):
            o = o[outer]
        return o

    @property
    def n_rings(self) -> int:
        return int(self.ring_offsets().shape[0]) - 1

    def ring_geom(self) -> Any:
        """Row index of every ring (int64, length ``n_rings``)."""
        return segment_ids(self.xp, self.geom_ring_offsets())

    def coord_geom(self) -> Any:
        """Row index of every coordinate (int64, length ``n_coords``)."""
        return segment_ids(self.xp, self.geom_coord_offsets())

    def ring_is_shell(self) -> Any:
        """Bool per ring: True for the first ring of a polygon (its shell)."""
        xp = self.xp
        n = self.n_rings
        out = xp.zeros(n, dtype=bool)
        if self.geom_type == POLYGON:
            starts = self.offsets[0]
        elif self.geom_type == MULTIPOLYGON:
            starts = self.offsets[1]
        else:
            return xp.ones(n, dtype=bool)
        lens = starts[1:] - starts[:-1]
        s = starts[:-1][lens > 0]
        out[s] = True
        return out

    def edges(self) -> Edges:
        """Every segment (consecutive coordinate pair inside one ring), as :class:`Edges`.

        For polygons this includes each ring's closing segment (rings are stored closed).
        Points and multipoints have no edges.
        """
        xp = self.xp
        if self.geom_type in (POINT, MULTIPOINT) or self.n_coords < 2:
            e = xp.zeros(0, dtype=np.float64)
            i = xp.zeros(0, dtype=np.int64)
            return Edges(e, e, e, e, i, i)
        ring_of_coord = segment_ids(xp, self.ring_offsets())
        # a segment starts at coordinate i when i+1 lies in the same ring
        start = xp.nonzero(ring_of_coord[1:] == ring_of_coord[:-1])[0]
        ring = ring_of_coord[start]
        geom = self.ring_geom()[ring] if len(self.offsets) >= 1 else ring
        return Edges(
            self.x[start], self.y[start], self.x[start + 1], self.y[start + 1], ring, geom
        )

    def bounds(self) -> tuple[Any, Any, Any, Any]:
        """Per-row bounding boxes ``(xmin, ymin, xmax, ymax)``; NaN for empty and null rows."""
        from .bbox import bounds

        return bounds(self)

    # -- conversions ------------------------------------------------------------------------
    def to(self, device: str | Device) -> GeometryArray:
        """This array on ``device`` (itself when already there)."""
        dev = get_device(device)
        if dev is self.device:
            return self
        if dev.is_gpu:
            move = dev.asarray
        else:
            move = self.device.to_host
        return GeometryArray(
            self.geom_type,
            move(self.x),
            move(self.y),
            tuple(move(o) for o in self.offsets),
            None if self.validity is None else move(self.validity),
            dev,
        )

    def as_multi(self) -> GeometryArray:
        """The same rows as the multi type (polygon -> multipolygon...), sharing coordinates."""
        xp = self.xp
        if self.geom_type in (POLYGON, LINESTRING):
            # an empty row becomes a multi geometry with no parts (not one empty part)
            o = self.offsets[0]
            keep = o[1:] > o[:-1]
            outer = xp.zeros(len(self) + 1, dtype=np.int64)
            outer[1:] = xp.cumsum(keep.astype(np.int64))
            parts = xp.concatenate([o[:1], o[1:][keep]])
            multi = MULTIPOLYGON if self.geom_type == POLYGON else MULTILINESTRING
            return GeometryArray(
                multi, self.x, self.y, (outer, parts, *self.offsets[1:]), self.validity,
                self.device,
            )
        if self.geom_type == POINT:
            # empty points (NaN) become empty multipoints
            keep = ~(xp.isnan(self.x) | xp.isnan(self.y))
            offs = xp.zeros(len(self) + 1, dtype=np.int64)
            offs[1:] = xp.cumsum(keep.astype(np.int64))
            return GeometryArray(
                MULTIPOINT, self.x[keep], self.y[keep], (offs,), self.validity, self.device
            )
        return self

    def take(self, indices: Any) -> GeometryArray:
        """Rows ``indices`` (int array on any device), in that order."""
        xp = self.xp
        idx = self.device.asarray(indices).astype(np.int64, copy=False)
        validity = None if self.validity is None else self.validity[idx]
        if not self.offsets:
            return GeometryArray(
                self.geom_type, self.x[idx], self.y[idx], (), validity, self.device
            )
        new_offsets = []
        sel = idx
        for o in self.offsets:
            new_o, sel = gather_ranges(xp, o, sel)
            new_offsets.append(new_o)
        return GeometryArray(
            self.geom_type, self.x[sel], self.y[sel], tuple(new_offsets), validity, self.device
        )

    def filter(self, mask: Any) -> GeometryArray:
        """Rows where the bool array ``mask`` is True."""
        m = self.device.asarray(mask, dtype=bool)
        return self.take(self.xp.nonzero(m)[0])

    def __getitem__(self, key: Any) -> GeometryArray:
        if isinstance(key, slice):
            return self.take(self.xp.arange(len(self), dtype=np.int64)[key])
        if isinstance(key, int | np.integer):
            n = len(self)
            k = int(key) + n if int(key) < 0 else int(key)
            if not 0 <= k < n:
                raise IndexError(f"row {key} out of range for {n} geometries")
            return self.take(self.xp.asarray([k], dtype=np.int64))
        arr = self.device.asarray(key)
        if arr.dtype == bool:
            return self.filter(arr)
        return self.take(arr)

    # -- I/O (shapely, pyarrow); implemented in xpdb.spatial.io --------------------------------
    @classmethod
    def from_shapely(cls, geoms: Any, device: str | Device = "cpu") -> GeometryArray:
        """From a sequence/array of shapely geometries of one type (None is a null row)."""
        from .io import from_shapely

        return from_shapely(geoms, device=device)

    def to_shapely(self) -> np.ndarray:
        """A NumPy object array of shapely geometries (None for null rows)."""
        from .io import to_shapely

        return to_shapely(self)

    def to_arrow(self) -> Any:
        """A pyarrow array with the GeoArrow extension type (``geoarrow.polygon``...)."""
        from .io import to_arrow

        return to_arrow(self)

    @classmethod
    def from_arrow(cls, array: Any, device: str | Device = "cpu") -> GeometryArray:
        """From a GeoArrow (native) or WKB/WKT pyarrow array."""
        from .io import from_arrow

        return from_arrow(array, device=device)


# -- constructors -------------------------------------------------------------------------
def points(x: Any, y: Any, validity: Any = None, device: str | Device | None = None
           ) -> GeometryArray:
    """A point array from coordinate arrays (NaN coordinates are empty points).

    Examples
    --------
    >>> p = points([0.0, 1.0], [2.0, 3.0])
    >>> len(p), p.geom_type
    (2, 'point')
    """
    return GeometryArray(POINT, x, y, (), validity, device)


def linestrings(x: Any, y: Any, offsets: Any, validity: Any = None,
                device: str | Device | None = None) -> GeometryArray:
    """A linestring array: row ``i`` owns coordinates ``offsets[i]:offsets[i+1]``."""
    return GeometryArray(LINESTRING, x, y, (offsets,), validity, device)


def polygons(x: Any, y: Any, ring_offsets: Any, geom_offsets: Any, validity: Any = None,
             device: str | Device | None = None) -> GeometryArray:
    """A polygon array: rings ``geom_offsets[i]:geom_offsets[i+1]`` of row ``i``; ring ``r``
    owns coordinates ``ring_offsets[r]:ring_offsets[r+1]`` (closed; the first is the shell).
    """
    return GeometryArray(POLYGON, x, y, (geom_offsets, ring_offsets), validity, device)


def multipolygons(x: Any, y: Any, ring_offsets: Any, polygon_offsets: Any, geom_offsets: Any,
                  validity: Any = None, device: str | Device | None = None) -> GeometryArray:
    """A multipolygon array (geom -> polygons -> rings -> coordinates offsets)."""
    return GeometryArray(
        MULTIPOLYGON, x, y, (geom_offsets, polygon_offsets, ring_offsets), validity, device
    )


def boxes(xmin: Any, ymin: Any, xmax: Any, ymax: Any, device: str | Device | None = None
          ) -> GeometryArray:
    """Axis-aligned rectangles as polygons (counter-clockwise rings, as ``shapely.box``)."""
    dev = get_device(device) if device is not None else device_of(xmin)
    xp = dev.xp
    x0, y0 = dev.asarray(xmin, np.float64), dev.asarray(ymin, np.float64)
    x1, y1 = dev.asarray(xmax, np.float64), dev.asarray(ymax, np.float64)
    n = int(x0.shape[0])
    # shapely.box's ring: (xmax ymin, xmax ymax, xmin ymax, xmin ymin, xmax ymin)
    x = xp.stack([x1, x1, x0, x0, x1], axis=1).reshape(-1)
    y = xp.stack([y0, y1, y1, y0, y0], axis=1).reshape(-1)
    ring = xp.arange(n + 1, dtype=np.int64) * 5
    return polygons(x, y, ring, xp.arange(n + 1, dtype=np.int64), device=dev)


def concat_geometries(arrays: list[GeometryArray]) -> GeometryArray:
    """Rows of several arrays of one type and device, one after another."""
    if not arrays:
        raise GeometryError("concat_geometries needs at least one array")
    first = arrays[0]
    types = {a.geom_type for a in arrays}
    if len(types) > 1:
        raise XpdbTypeError(f"cannot concatenate geometry types {sorted(types)}; convert first")
    dev = first.device
    xp = dev.xp
    x = xp.concatenate([a.to(dev).x for a in arrays])
    y = xp.concatenate([a.to(dev).y for a in arrays])
    offsets = []
    for level in range(len(first.offsets)):
        parts = []
        base = 0
        for j, a in enumerate(arrays):
            o = a.to(dev).offsets[level]
            parts.append((o if j == 0 else o[1:]) + base)
            base += int(o[-1])
        offsets.append(xp.concatenate(parts))
    validity = None
    if any(a.validity is not None for a in arrays):
        validity = xp.concatenate([a.to(dev).valid_mask() for a in arrays])
    return GeometryArray(first.geom_type, x, y, tuple(offsets), validity, dev)


# -- vectorized helpers over offsets (shared with the kernels) ------------------------------
def segment_ids(xp: Any, offsets: Any) -> Any:
    """For offsets of ``n`` segments, the segment index of every element (int64).

    Examples
    --------
    >>> segment_ids(np, np.array([0, 2, 2, 5]))
    array([0, 0, 2, 2, 2])
    """
    n = int(offsets.shape[0]) - 1
    lens = (offsets[1:] - offsets[:-1]).astype(np.int64)
    return xp.repeat(xp.arange(n, dtype=np.int64), lens)


def expand_ranges(xp: Any, starts: Any, lens: Any) -> Any:
    """Concatenation of ``arange(starts[i], starts[i] + lens[i])`` for every ``i`` (int64).

    Examples
    --------
    >>> expand_ranges(np, np.array([5, 0, 10]), np.array([2, 0, 3]))
    array([ 5,  6, 10, 11, 12])
    """
    lens = lens.astype(np.int64, copy=False)
    total = int(lens.sum()) if lens.shape[0] else 0
    if total == 0:
        return xp.zeros(0, dtype=np.int64)
    ends = xp.cumsum(lens)
    shift = starts.astype(np.int64) - (ends - lens)
    return xp.arange(total, dtype=np.int64) + xp.repeat(shift, lens)


def gather_ranges(xp: Any, offsets: Any, idx: Any) -> tuple[Any, Any]:
    """Select segments ``idx`` of ``offsets``: the new offsets and the child indices kept."""
    starts = offsets[idx]
    lens = offsets[idx + 1] - starts
    new = xp.zeros(int(idx.shape[0]) + 1, dtype=np.int64)
    if idx.shape[0]:
        new[1:] = xp.cumsum(lens)
    return new, expand_ranges(xp, starts, lens)
