"""db-benchmark (H2O.ai's, continued by DuckDB Labs) group-by and join questions for xpdb.

Modules: ``datagen`` (the data), ``questions`` (the 10 + 5 questions), ``solutions`` (one
module per engine), ``run`` (the timing loop and the report).
"""
