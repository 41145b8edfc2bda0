"""u2cut.bench against `u2cut bench --json`."""

from __future__ import annotations

import json

import u2cut
from conftest import run_cli


def test_bench_has_the_fields_of_the_command_line():
    report = u2cut.bench(size=64, batch=2, iters=1)
    cli = json.loads(run_cli("-q", "bench", "--size", "64", "--batch", "2", "--iters", "1", "--json").stdout)
    assert report.keys() == cli.keys()
    assert report["size"] == 64 and report["batch"] == 2 and report["model"] == "u2netp"
    assert report["images_per_second"] > 0
    assert [k["name"] for k in report["kernels"]] and report["adapter"] == cli["adapter"]
