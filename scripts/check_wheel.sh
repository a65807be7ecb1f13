#!/usr/bin/env bash
# Build the wheel, install it into a fresh venv whose PATH has no Node, and check
# that JupyterLab lists, serves and activates the prebuilt extension.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
rm -rf build/wheel build/wheel-venv
python -m pip wheel --quiet --no-deps --wheel-dir build/wheel .
WHEEL=$(ls build/wheel/trackbook-*.whl)
unzip -l "$WHEEL" | grep -q "share/jupyter/labextensions/trackbook/package.json" \
  || { echo "the wheel does not contain the prebuilt labextension"; exit 1; }

python -m venv build/wheel-venv
build/wheel-venv/bin/python -m pip install --quiet "$WHEEL" "jupyterlab>=4,<5"
NO_NODE_ENV=(env -i HOME="$HOME" LANG=C.UTF-8 PATH="$ROOT/build/wheel-venv/bin")
if "${NO_NODE_ENV[@]}" sh -c 'command -v node' >/dev/null 2>&1; then
  echo "node is still on PATH"; exit 1
fi
"${NO_NODE_ENV[@]}" jupyter labextension list 2>&1 | tee build/labextension-list.txt
grep -Eq "trackbook v[0-9.]+ .*enabled.*OK" build/labextension-list.txt
"${NO_NODE_ENV[@]}" jupyter server extension list 2>&1 | tee build/server-extension-list.txt
grep -Eq "trackbook [0-9.]+ .*OK" build/server-extension-list.txt
"${NO_NODE_ENV[@]}" python "$ROOT/scripts/check_lab.py"
