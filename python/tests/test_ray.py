"""examples/ray_remove.py on a local Ray (2 CPUs; the adapter is whatever
the machine has, llvmpipe here): its outputs are the CLI's, byte for byte.
Its actors reserve no GPU (--num-gpus 0), so Ray schedules them on a node
without one; one CPU each."""

from __future__ import annotations

import os
import subprocess
import sys

from conftest import REPO


def test_the_ray_example_writes_what_the_cli_writes(photos, cli_cutouts, tmp_path):
    out = tmp_path / "ray_out"
    run = subprocess.run(
        [sys.executable, REPO / "examples" / "ray_remove.py", photos, out,
         "--local-cpus", "2", "--num-cpus", "1", "--num-gpus", "0", "--concurrency", "1",
         "--batch-size", "8"],
        capture_output=True, text=True, timeout=900,
        env={**os.environ, "RAY_ENABLE_UV_RUN_RUNTIME_ENV": "0"})
    assert run.returncode == 0, run.stderr[-4000:]
    assert "19 done, 0 failed" in run.stderr
    want = sorted(p.name for p in cli_cutouts.iterdir())
    assert sorted(p.name for p in out.iterdir()) == want and len(want) == 19
    for name in want:
        assert (out / name).read_bytes() == (cli_cutouts / name).read_bytes(), name
