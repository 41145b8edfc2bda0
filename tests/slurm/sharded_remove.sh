#!/usr/bin/env bash
# A sharded run under a real Slurm (tools/test.sh runs it, after
# tools/slurm_up.sh): deploy/slurm/remove.sbatch as a 4-task array job
# over a folder of 40 images, 6 of them broken, submitted from another
# folder. Checks that every good input has exactly one output and no
# other file is left, every input is in exactly one shard's manifest,
# every broken one reported there once, and the manifests' summary adds
# up; then deletes some outputs, resubmits, and checks that exactly those
# were redone.
#
#   bash tests/slurm/sharded_remove.sh [path/to/u2cut]
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
u2cut=$(realpath "${1:-$repo/target/release/u2cut}")
sbatch_script=$repo/deploy/slurm/remove.sbatch
work=$(mktemp -d /tmp/u2cut-slurm.XXXXXX)
trap 'rm -rf "$work"' EXIT

fail() {
    echo "tests/slurm/sharded_remove.sh: FAILED: $*" >&2
    for f in "$work"/jobs/u2cut-remove-*.out; do
        [ -e "$f" ] && { echo "--- $f" >&2; tail -n 15 "$f" >&2; }
    done
    exit 1
}

# 40 inputs: the 11 JPEGs of tests/data/jpeg (every coding, EXIF
# orientation, CMYK), 23 small generated PPMs in subfolders, and 6 broken
# files: the 4 damaged JPEGs, a file of junk and an empty one.
in=$work/in
mkdir -p "$in/jpeg" "$in/gen/a" "$in/gen/b" "$in/broken"
cp "$repo"/tests/data/jpeg/*.jpg "$in/jpeg/"
for i in $(seq 0 22); do
    awk -v i="$i" 'BEGIN {
        w = 40 + i; h = 30; print "P3"; print w, h; print 255;
        for (y = 0; y < h; y++) for (x = 0; x < w; x++) {
            inside = (x - w / 2) ^ 2 + (y - h / 2) ^ 2 < 100;
            print (inside ? 230 : (x * 5 + i * 11) % 256), (y * 8) % 256, (inside ? 40 : 200)
        }
    }' > "$in/gen/$([ $((i % 2)) = 0 ] && echo a || echo b)/p$i.ppm"
done
cp "$repo"/tests/data/jpeg/damaged/*.jpg "$in/broken/"
head -c 300 /dev/urandom > "$in/broken/junk.png"
: > "$in/broken/empty.jpg"
(cd "$in" && find . -type f | sed 's|^\./||' | sort) > "$work/all"
grep '^broken/' "$work/all" > "$work/broken" || true
grep -v '^broken/' "$work/all" > "$work/good" || true
[ "$(wc -l < "$work/all")" = 40 ] || fail "expected 40 inputs, made $(wc -l < "$work/all")"
[ "$(wc -l < "$work/broken")" = 6 ] || fail "expected 6 broken inputs"

# The outputs the good inputs should have, relative to the output folder.
sed 's/\.[^.\/]*$/.png/' "$work/good" | sort > "$work/want"

mkdir -p "$work/jobs"
submit() {
    # From a folder of its own, with paths relative to it, as users do.
    (cd "$work/jobs" && U2CUT="$u2cut" sbatch --wait --quiet --array=0-3 \
        "$sbatch_script" ../in ../out -q) || true
}

submit
out=$work/out
manifests=$work/out.manifests
(cd "$out" && find . -type f | sed 's|^\./||' | sort) > "$work/got"
diff -u "$work/want" "$work/got" >&2 || fail "the outputs are not one per good input (diff above)"
[ "$(ls "$manifests")" = "$(printf 'shard-%s.jsonl\n' 0 1 2 3)" ] || fail "manifests: $(ls "$manifests")"

inputs_of() { grep -ho '"input":"[^"]*"' "$@" | sed 's/"input":"\.\.\/in\///; s/"$//'; }
inputs_of "$manifests"/*.jsonl | sort > "$work/listed"
diff -u "$work/all" "$work/listed" >&2 || fail "not every input is in exactly one manifest line (diff above)"
for m in "$manifests"/*.jsonl; do
    [ -s "$m" ] || fail "$m is empty: a shard took no inputs"
done
grep -h '"status":"error"' "$manifests"/*.jsonl | inputs_of /dev/stdin | sort > "$work/errors"
diff -u "$work/broken" "$work/errors" >&2 || fail "the broken inputs are not the errors, once each (diff above)"

# The summary names inputs as the job did: from its folder.
summarize() { (cd "$work/jobs" && "$u2cut" manifest summary ../out.manifests/*.jsonl --inputs ../in --json); }
summary=$(summarize) || fail "manifest summary: $summary"
for want in '"inputs":40' '"ok":34' '"skipped":0' '"error":6' '"missing":[]' '"in_several":{}'; do
    case $summary in *"$want"*) ;; *) fail "summary lacks $want: $summary" ;; esac
done

# Resume: delete three outputs; the resubmitted job redoes exactly those.
redo=$(sed -n '1p;15p;30p' "$work/want")
for f in $redo; do rm "$out/$f"; done
before=$(cat "$manifests"/*.jsonl | wc -l)
touch "$work/mark"
sleep 1
submit
(cd "$out" && find . -type f | sed 's|^\./||' | sort) > "$work/got"
diff -u "$work/want" "$work/got" >&2 || fail "after the resubmit, the outputs are not one per good input"
(cd "$out" && find . -type f -newer "$work/mark" | sed 's|^\./||' | sort) > "$work/rewritten"
[ "$(echo "$redo" | sort)" = "$(cat "$work/rewritten")" ] \
    || fail "rewritten: $(cat "$work/rewritten"), want: $redo"
after=$(cat "$manifests"/*.jsonl | wc -l)
[ $((after - before)) = 40 ] || fail "the resubmit wrote $((after - before)) manifest lines, want 40"
summary=$(summarize) || fail "manifest summary after the resubmit: $summary"
for want in '"inputs":40' '"ok":34' '"error":6' '"missing":[]'; do
    case $summary in *"$want"*) ;; *) fail "summary after the resubmit lacks $want: $summary" ;; esac
done
echo "tests/slurm/sharded_remove.sh: ok (40 inputs, 4 shards, 3 redone on resubmit)"
