"""Background removal for a folder of images on a Ray cluster, with u2cut.

Ray Data reads the files (their encoded bytes), hands them in batches to a
pool of u2cut actors, each holding one ``u2cut.Remover`` (its model and
compiled GPU pipelines, made once per actor), and each actor writes its
cutouts as PNGs under OUT_DIR with the input's relative path: the same
files, byte for byte, as ``u2cut remove INPUT_DIR -o OUT_DIR`` writes.

    pip install ".[ray]"                            # u2cut and Ray Data
    python examples/ray_remove.py photos/ cutouts/  # a local Ray, one GPU per actor

On a cluster, start Ray on each machine (``ray start --head`` on one,
``ray start --address=HEAD:6379`` on the others), put INPUT_DIR and
OUT_DIR on storage every machine mounts, and run this on the head node
with ``--address auto``; ``--concurrency`` is the number of actors (at
most the cluster's GPUs divided by ``--num-gpus``). ``--num-gpus 0``
runs the actors without reserving a GPU (u2cut then takes whatever
adapter the node has, llvmpipe on a CPU machine): Ray never schedules an
actor that asks for a GPU on a node without one.

Prints one line per input (OK or the error, a bad file does not stop the
job) and a summary; exits 1 if any input failed.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile

import numpy as np
import ray

import u2cut

EXTENSIONS = ["png", "jpg", "jpeg", "webp", "bmp", "gif", "tif", "tiff", "tga", "pnm", "ppm", "pgm", "qoi"]


class Cutouts:
    """A Ray Data actor: one u2cut remover, batches of encoded images in,
    PNG files out."""

    def __init__(self, input_root: str, out_dir: str, model: str, batch_size: int, only_mask: bool):
        self.input_root = input_root
        self.out_dir = out_dir
        self.remover = u2cut.Remover(model, batch_size=batch_size, only_mask=only_mask)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        paths = [str(p) for p in batch["path"]]
        data = [bytes(b) for b in batch["bytes"]]
        try:
            results = list(zip(self.remover.remove_bytes(data), [None] * len(data)))
        except u2cut.InputError:
            # One bad image fails the batch's call: run its images one at a
            # time so only that one fails.
            results = [self._one(d) for d in data]
        outputs, errors = [], []
        for path, (png, error) in zip(paths, results):
            out = None
            if png is not None:
                out = self._write(path, png)
            outputs.append(out or "")
            errors.append("" if error is None else str(error))
        return {"path": np.array(paths), "output": np.array(outputs), "error": np.array(errors)}

    def _one(self, data: bytes):
        try:
            return self.remover.remove_bytes(data), None
        except u2cut.InputError as e:
            return None, e

    def _write(self, path: str, png: bytes) -> str:
        """Writes OUT_DIR/<path relative to the input root>.png atomically."""
        rel = os.path.relpath(path, self.input_root)
        out = os.path.join(self.out_dir, os.path.splitext(rel)[0] + ".png")
        os.makedirs(os.path.dirname(out), exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=os.path.dirname(out), prefix=".u2cut-", delete=False) as f:
            f.write(png)
        os.replace(f.name, out)
        return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("input_dir")
    ap.add_argument("out_dir")
    ap.add_argument("--address", help="the Ray cluster (auto: the one this machine joined); default a local Ray")
    ap.add_argument("--model", default="u2netp", help="u2netp, u2net or a .safetensors path")
    ap.add_argument("--batch-size", type=int, default=8, help="images per actor call and GPU pass")
    ap.add_argument("--concurrency", type=int, default=1, help="u2cut actors")
    ap.add_argument("--num-gpus", type=float, default=1, help="GPUs each actor reserves (0: none)")
    ap.add_argument("--num-cpus", type=float, default=1, help="CPUs each actor reserves")
    ap.add_argument("--local-cpus", type=int, help="CPUs of a local Ray (default: all)")
    ap.add_argument("--mask", action="store_true", help="write the masks instead of cutouts")
    args = ap.parse_args()

    input_root = os.path.abspath(args.input_dir)
    out_dir = os.path.abspath(args.out_dir)
    os.makedirs(out_dir, exist_ok=True)
    ray.init(address=args.address, num_cpus=None if args.address else args.local_cpus,
             include_dashboard=False, log_to_driver=True)
    ds = ray.data.read_binary_files(input_root, include_paths=True, file_extensions=EXTENSIONS)
    ds = ds.map_batches(
        Cutouts,
        fn_constructor_kwargs=dict(input_root=input_root, out_dir=out_dir, model=args.model,
                                   batch_size=args.batch_size, only_mask=args.mask),
        batch_size=args.batch_size,
        concurrency=args.concurrency,
        num_gpus=args.num_gpus,
        num_cpus=args.num_cpus,
    )
    done = failed = 0
    for row in ds.iter_rows():
        if row["error"]:
            failed += 1
            print(f"{row['path']}: {row['error']}", file=sys.stderr)
        else:
            done += 1
            print(f"{row['path']} -> {row['output']}")
    print(f"{done} done, {failed} failed", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
