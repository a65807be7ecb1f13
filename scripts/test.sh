#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs what it needs, builds the
# extension, runs pytest and jest, then checks that the wheel, installed where
# there is no Node, activates in JupyterLab.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

if ! command -v chromium >/dev/null 2>&1 && [ "${TRACKBOOK_SKIP_BROWSER:-0}" != 1 ]; then
  echo "==> installing chromium (browser tests)"
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi

TRACKBOOK_REBUILD=1 TRACKBOOK_EXTRAS="test" source "$ROOT/scripts/setup.sh"

echo "==> mypy (strict)"
python -m mypy

echo "==> pytest"
python -m pytest -q -p no:cacheprovider "$@"

echo "==> jest"
jlpm test

echo "==> lint (stylelint, prettier, eslint)"
jlpm lint:check

echo "==> every handler requires authentication"
python scripts/check_auth.py

echo "==> the wheel activates without Node"
bash scripts/check_wheel.sh

if [ "${TRACKBOOK_SKIP_BROWSER:-0}" != 1 ]; then
  echo "==> browser tests: Galata against the wheel's JupyterLab in system Chromium"
  (cd ui-tests && jlpm install --immutable && \
    PATH="$ROOT/build/wheel-venv/bin:$PATH" CI=1 jlpm playwright test)
fi
echo "==> all tests passed"
