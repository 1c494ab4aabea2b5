"""The spatial benchmark: xpdb.spatial beside shapely 2, GeoPandas, NumPy and pandas.

Cases: a spatial join of points to zone polygons, haversine distances over point pairs,
trajectory lengths and speeds per object. ``run`` holds the data generators, the CPU peers
(run in a process pool), the timing loop, the answer checks and the report.
"""
