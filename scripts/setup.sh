#!/usr/bin/env bash
# Creates .venv and installs trackbook into it with its labextension built.
# Sourced by demo.sh and test.sh; safe to run again (it only does what is missing).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${TRACKBOOK_VENV:-$ROOT/.venv}"
PYTHON="${PYTHON:-python3}"

if [ ! -x "$VENV/bin/python" ]; then
  echo "==> creating $VENV"
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --upgrade pip
fi
# As `activate` would: tools that look at VIRTUAL_ENV (IPython warns when it
# names another environment) see this one.
export VIRTUAL_ENV="$VENV"
export PATH="$VENV/bin:$PATH"

# jlpm (JupyterLab's pinned yarn) and the builder come with jupyterlab.
python -m pip install --quiet "jupyterlab>=4.0,<5" "hatchling>=1.5" hatch-nodejs-version hatch-jupyter-builder

cd "$ROOT"
if [ ! -f python/trackbook/labextension/static/style.js ] || [ "${TRACKBOOK_REBUILD:-0}" = 1 ]; then
  echo "==> building the labextension"
  jlpm install --immutable
  jlpm build:prod
fi

echo "==> installing trackbook${TRACKBOOK_EXTRAS:+[$TRACKBOOK_EXTRAS]}"
python -m pip install --quiet -e ".${TRACKBOOK_EXTRAS:+[$TRACKBOOK_EXTRAS]}"
