"""The ML benchmark: xpdb.ml on the GPU and the CPU beside scikit-learn at
scikit-learn_bench sizes (``run.py``; cases in ``cases.py``, data in ``datagen.py``)."""
