#!/usr/bin/env python3
"""Where llvmpipe's JIT code spends its time: samples a running command with
perf, dumps the JIT code from its memory with gdb, disassembles it with
objdump, and attributes the samples to instructions.

Mesa's release builds cannot print the code they generate (no
GALLIVM_DEBUG), and perf cannot annotate anonymous executable memory, so
this reads the code out of the live process instead.

    python tools/jit_profile.py -- target/release/u2cut bench --iters 100 -q

Needs perf, gdb and objdump (Debian: linux-perf, gdb, binutils), and
permission to attach to the process (root, or ptrace_scope 0). Prints:
- the share of samples in JIT code (anonymous executable mappings);
- the most sampled mnemonics;
- the share in llvmpipe's per-lane load loops: every storage-buffer load
  is a loop over the 8 SIMD lanes that tests the lane's mask, bounds-checks
  each 32-bit word and inserts it into the vector;
- the same for the hottest 64 KiB of code (one shader), by the offset the
  loops read the buffer's base pointer from, which identifies the binding
  (Mesa 22.3: 16 bytes per storage buffer, in binding order);
and writes that code, annotated with sample counts, to --asm (default
jit_hot.asm).
"""

import argparse
import collections
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

INSN = re.compile(r"\s*([0-9a-f]+):\t[0-9a-f ]+\t(.*)")
JUMP = re.compile(r"jmp\s+0x([0-9a-f]+)")
# An indexed 32-bit load from a buffer: base register + index register * 4.
INDEXED_LOAD = re.compile(r"\(%r\w+,%r\w+,4\)")
# llvmpipe reads each buffer's base pointer from the resource block.
BASE_POINTER = re.compile(r"mov\s+(0x[0-9a-f]+)\(%r\w+\),%r\w+$")


def executable_maps(pid):
    """Anonymous executable mappings (the JIT's code) as (start, end)."""
    maps = []
    with open(f"/proc/{pid}/maps") as f:
        for line in f:
            fields = line.split()
            if "x" in fields[1] and len(fields) == 5:
                start, end = (int(v, 16) for v in fields[0].split("-"))
                maps.append((start, end))
    return maps


def sample(pid, seconds, workdir):
    """Instruction pointer -> samples over `seconds`."""
    data = os.path.join(workdir, "perf.data")
    subprocess.run(
        ["perf", "record", "-q", "-p", str(pid), "-o", data, "--", "sleep", str(seconds)],
        check=True,
        stderr=subprocess.DEVNULL,
    )
    out = subprocess.run(
        ["perf", "script", "-i", data, "-F", "ip"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return collections.Counter(int(v, 16) for v in out.split())


def disassemble(pid, start, end, workdir):
    """[(address, instruction)] of the live process's memory start..end."""
    dump = os.path.join(workdir, f"{start:x}.bin")
    subprocess.run(
        ["gdb", "-p", str(pid), "-batch", "-ex", f"dump memory {dump} {start:#x} {end:#x}"],
        check=True,
        capture_output=True,
    )
    out = subprocess.run(
        ["objdump", "-D", "-b", "binary", "-m", "i386:x86-64", f"--adjust-vma={start:#x}", dump],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return [(int(m[1], 16), m[2]) for m in map(INSN.match, out.splitlines()) if m]


def lane_loops(code, counts):
    """Samples in per-lane load loops, by the base pointer's offset.

    A loop is a backward jmp of under 400 bytes whose body holds an indexed
    load; its samples are counted once even where loops nest.
    """
    index = {a: i for i, (a, _) in enumerate(code)}
    seen = set()
    by_offset = collections.Counter()
    loops = collections.Counter()
    for i, (addr, text) in enumerate(code):
        m = JUMP.match(text)
        if not m:
            continue
        target = int(m[1], 16)
        if not (0 < addr - target < 400 and target in index):
            continue
        body = code[max(index[target] - 3, 0) : i + 1]
        if not any(INDEXED_LOAD.search(t) for _, t in body):
            continue
        offsets = sorted({b[1] for _, t in body if (b := BASE_POINTER.search(t))})
        key = " ".join(offsets) or "?"
        loops[key] += 1
        for a, _ in body:
            if a not in seen:
                seen.add(a)
                by_offset[key] += counts.get(a, 0)
    return by_offset, loops


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--warmup", type=float, default=15, help="seconds before sampling (shader compiles)")
    ap.add_argument("--seconds", type=float, default=8, help="seconds to sample")
    ap.add_argument("--asm", default="jit_hot.asm", help="where to write the hottest function")
    ap.add_argument("command", nargs=argparse.REMAINDER, help="-- the command to profile")
    args = ap.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        ap.error("give the command to profile after --")

    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    try:
        time.sleep(args.warmup)
        if proc.poll() is not None:
            sys.exit(f"{command[0]} exited before sampling: give it more work")
        with tempfile.TemporaryDirectory() as workdir:
            counts = sample(proc.pid, args.seconds, workdir)
            jit = [m for m in executable_maps(proc.pid) if any(m[0] <= ip < m[1] for ip in counts)]
            code = []
            for start, end in jit:
                code += disassemble(proc.pid, start, end, workdir)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait()

    total = sum(counts.values())
    in_code = {a: counts.get(a, 0) for a, _ in code}
    jit_total = sum(in_code.values())
    print(f"samples: {total}, in JIT code: {jit_total} ({jit_total / total:.0%})")
    mnemonics = collections.Counter()
    for addr, text in code:
        mnemonics[text.split()[0]] += in_code[addr]
    print("\nmost sampled mnemonics (share of JIT samples):")
    for name, n in mnemonics.most_common(12):
        print(f"  {name:12} {n / jit_total:6.1%}")
    by_offset, _ = lane_loops(code, in_code)
    looped = sum(by_offset.values())
    print(f"\nper-lane load loops: {looped / jit_total:.1%} of JIT samples")

    # The hottest function: the 64 KiB window with the most samples (one
    # shader: base pointer offsets mean different bindings in others).
    windows = collections.Counter()
    for addr, n in in_code.items():
        windows[addr >> 16] += n
    hot_window, hot_total = windows.most_common(1)[0]
    hot = [(a, t) for a, t in code if a >> 16 == hot_window]
    by_offset, loops = lane_loops(hot, in_code)
    print(f"\nhottest 64 KiB of code: {hot_total / jit_total:.1%} of JIT samples")
    print("  its load loops by base pointer offset, share of its samples:")
    for key, n in by_offset.most_common():
        print(f"  {key:20} {loops[key]:4} loops {n / hot_total:6.1%}")
    with open(args.asm, "w") as f:
        for addr, text in hot:
            f.write(f"{in_code[addr]:6} {addr:x} {text}\n")
    print(f"  annotated with samples per instruction: {args.asm}")

if __name__ == "__main__":
    main()
