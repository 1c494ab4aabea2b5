#!/usr/bin/env bash
# Runs on the offline GPU machine (see ../shared/gpu/README.md), from the repository root:
#   bash benchmarks/gpu_session.sh tests          # the whole test suite, CPU and GPU params
#   bash benchmarks/gpu_session.sh tests PATHS... # only these test paths
#   bash benchmarks/gpu_session.sh bench ARGS...  # benchmarks/dbbench/run.py ARGS
#   bash benchmarks/gpu_session.sh install        # only install the carried wheels
#   bash benchmarks/gpu_session.sh py SCRIPT ARGS # python3 SCRIPT ARGS with the wheels
# Wheels for packages the machine lacks travel in .whl/ (.whlp/ for polars, .whld/ for
# deltalake, .whlc/ for the small pure-Python ones such as sqlglot and dask, which fit beside
# .whld). One call carries at most 64 MiB, so deltalake (52 MB) travels in a call of its
# own (with .whlc: "install", or a benchmark that needs no DuckDB), and the next call,
# while the machine is warm, finds it in /tmp/site. XDIST sets the test processes (8).
set -uo pipefail
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT" /tmp/site
for d in .whl .whlc .whlp .whld .whls; do
  if compgen -G "$d/*.whl" >/dev/null; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
      --target /tmp/site "$d"/*.whl || exit 1
  fi
done
export PYTHONPATH=/tmp/site:$PWD PYTHONUNBUFFERED=1
what=${1:-tests}; shift || true
case "$what" in
  tests)
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$OUT/gpu.txt"
    python3 -c "import cupy, numpy, pandas, pyarrow; print('cupy', cupy.__version__, 'numpy', numpy.__version__, 'pandas', pandas.__version__, 'pyarrow', pyarrow.__version__)" | tee -a "$OUT/gpu.txt"
    XPDB_HYPOTHESIS_PROFILE=gpu python3 -m pytest -q -p no:cacheprovider -p no:benchmark -n ${XDIST:-8} \
      -o addopts="--strict-markers --import-mode=importlib -ra" --junitxml="$OUT/junit.xml" \
      "${@:-tests}" 2>&1 | tee "$OUT/gpu-tests.log" | tail -60
    ;;
  install)
    python3 -c "import deltalake; print('deltalake', deltalake.__version__)" ;;
  py)
    python3 "$@" ;;
  bench)
    python3 benchmarks/dbbench/run.py "$@" 2>&1 | tee "$OUT/bench.log"
    ;;
  *) echo "unknown mode $what"; exit 2;;
esac
