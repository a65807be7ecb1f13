#!/usr/bin/env bash
# Set up everything, then run the quickstart notebook headless into a fresh store,
# print the recorded runs, replay them and write an audit report. Pass --lab to
# open JupyterLab on the examples instead.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TRACKBOOK_EXTRAS="test" source "$ROOT/scripts/setup.sh"
if [ "${1:-}" = "--lab" ]; then
  cd "$ROOT/examples" && exec jupyter lab
fi
trackbook demo --output-dir "$ROOT/build/demo"
