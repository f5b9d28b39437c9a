#!/usr/bin/env bash
# Release check: build the sdist and the wheel, check them with twine, install
# the wheel into a fresh venv outside the source tree and smoke-test it from
# outside the tree (.ci/smoke_wheel.py: fit, JSON, ONNX, the console script,
# the data sets, the MLflow entry point).
#
#   .ci/smoke_wheel.sh [PYTHON]   PYTHON has build and twine (the test extra);
#                                 default .venv/bin/python
set -euo pipefail
cd "$(dirname "$0")/.."
SRC=$PWD
PYTHON=${1:-.venv/bin/python}
case $PYTHON in /*) ;; */*) PYTHON=$SRC/$PYTHON ;; esac  # a relative path: from the root
# Nothing from a source checkout may leak into the installed package's run.
unset PYTHONPATH PYTHONHOME

WORK=$(mktemp -d "${TMPDIR:-/tmp}/sk-riskscore-smoke.XXXXXX")
had_egg_info=0; [ -e sk_riskscore.egg-info ] && had_egg_info=1
cleanup() {
    rm -rf "$WORK"
    # the sdist step writes sk_riskscore.egg-info into the tree; remove ours
    [ "$had_egg_info" = 1 ] || rm -rf "$SRC/sk_riskscore.egg-info"
}
trap cleanup EXIT

echo "smoke: [${SECONDS}s] building the sdist and the wheel (python -m build)"
if ! "$PYTHON" -m build --outdir "$WORK/dist" "$SRC" >"$WORK/build.log" 2>&1; then
    cat "$WORK/build.log"; exit 1
fi
"$PYTHON" -m twine check --strict "$WORK"/dist/*
wheel=$(ls "$WORK"/dist/*.whl)
"$PYTHON" - "$wheel" <<'EOF'
import sys, zipfile
names = zipfile.ZipFile(sys.argv[1]).namelist()
needed = ["sk_riskscore/datasets/breastcancer.csv", "sk_riskscore/datasets/mammo.csv",
          "sk_riskscore/datasets/README.md", "sk_riskscore_mlflow/__init__.py"]
missing = [n for n in needed if n not in names]
entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
text = zipfile.ZipFile(sys.argv[1]).read(entry_points).decode()
for line in ("[console_scripts]", "sk-riskscore = ", "[mlflow.model_evaluator]", "riskscore = "):
    if line not in text:
        missing.append(f"{entry_points}: {line.strip()}")
if missing:
    sys.exit("smoke: FAILED: the wheel lacks " + ", ".join(missing))
packages = sorted({n.rsplit("/", 1)[0] for n in names if n.endswith("/__init__.py")})
print(f"smoke: ok  {len(names)} files; packages {', '.join(packages)}")
EOF

echo "smoke: [${SECONDS}s] installing $(basename "$wheel")[onnx,cli,mlflow] into a fresh venv"
"$PYTHON" -m venv "$WORK/venv"
# mlflow: the smoke test loads the plugin's evaluator through its entry point
if ! "$WORK/venv/bin/python" -m pip install --disable-pip-version-check \
        "${wheel}[onnx,cli,mlflow]" >"$WORK/pip.log" 2>&1; then
    cat "$WORK/pip.log"; exit 1
fi
echo "smoke: [${SECONDS}s] installed; running .ci/smoke_wheel.py in $WORK/run"

mkdir "$WORK/run"
cd "$WORK/run"
# -I: isolated mode, so neither the script's folder nor the current one is on
# sys.path; the console script is found on the venv's PATH.
PATH="$WORK/venv/bin:$PATH" "$WORK/venv/bin/python" -I "$SRC/.ci/smoke_wheel.py"
echo "smoke: [${SECONDS}s] done"
