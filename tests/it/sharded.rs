//! `u2cut remove --shard`, `--files-from`, `--manifest`, `--dry-run` and
//! `u2cut manifest summary`, run as a user runs them, on temp folders.

use std::collections::BTreeSet;

use image::DynamicImage;
use serde_json::Value;

use crate::remove::{Scratch, expect_code, picture, piped, tree};

/// The inputs `--dry-run` lists (its stdout: INPUT<TAB>OUTPUT lines).
fn listed(stdout: &[u8]) -> Vec<(String, String)> {
    String::from_utf8(stdout.to_vec())
        .unwrap()
        .lines()
        .map(|l| {
            let (i, o) = l.split_once('\t').expect("INPUT<TAB>OUTPUT");
            (i.to_owned(), o.to_owned())
        })
        .collect()
}

/// Shares run by hand are disjoint, cover every input, are the same on
/// every run, and are the same for a folder and for the list of its files.
#[test]
fn shares_by_hand_partition_the_inputs() {
    let s = Scratch::new();
    let mut all = BTreeSet::new();
    for i in 0..60 {
        let rel = format!("d{}/f{i}.{}", i % 4, ["png", "jpg", "webp"][i % 3]);
        s.file(&format!("in/{rel}"), b"not read by a dry run");
        all.insert(rel);
    }
    let list: String = all.iter().map(|r| format!("{r}\n")).collect();
    s.file("list.txt", list.as_bytes());
    let n = 5;
    let mut seen = BTreeSet::new();
    for i in 0..n {
        let shard = format!("{i}/{n}");
        let args = ["in", "-o", "out", "--dry-run", "--shard", &shard];
        let (first, _) = expect_code(s.remove(&args), 0);
        let (again, _) = expect_code(s.remove(&args), 0);
        assert_eq!(first, again, "share {shard} differs between runs");
        let from_list = [
            "--files-from",
            "list.txt",
            "--input-root",
            "in",
            "-o",
            "out",
            "--dry-run",
            "--shard",
            &shard,
        ];
        let (streamed, _) = expect_code(s.remove(&from_list), 0);
        let share = listed(&first);
        assert!(!share.is_empty(), "share {shard} is empty");
        let outputs =
            |l: &[(String, String)]| l.iter().map(|p| p.1.clone()).collect::<BTreeSet<_>>();
        assert_eq!(
            outputs(&share),
            outputs(&listed(&streamed)),
            "share {shard}"
        );
        for (input, output) in share {
            let rel = input.strip_prefix("in/").unwrap().to_owned();
            let stem = rel.rsplit_once('.').unwrap().0;
            assert_eq!(output, format!("out/{stem}.png"));
            assert!(seen.insert(rel.clone()), "{rel} is in two shares");
        }
    }
    assert_eq!(seen, all, "the shares do not cover every input");
    assert!(!s.path("out").exists(), "a dry run wrote something");

    let (_, err) = expect_code(s.remove(&["in", "-o", "out", "--shard", "5/5"]), 2);
    assert!(err.contains("`5/5` is not a share"), "{err}");
}

/// One manifest line per input, as it is finished: the written ones with
/// their size and time, the broken one with its error; a resumed run
/// appends, redoing only the missing output; the summary of both shards
/// adds up, and one shard alone is missing the other's inputs.
#[test]
fn sharded_runs_keep_manifests_that_add_up() {
    let s = Scratch::new();
    for i in 0..6u32 {
        let img = DynamicImage::ImageRgb8(picture(30 + i, 20 + i));
        s.image(&format!("in/{}/p{i}.png", i % 2), &img);
    }
    s.file("in/broken.jpg", b"\xff\xd8\xff\xe0 not a JPEG");
    for i in 0..2 {
        run_share(&s, i, &[]);
    }
    let want: Vec<String> = (0..6).map(|i| format!("{}/p{i}.png", i % 2)).collect();
    let mut sorted = want.clone();
    sorted.sort();
    assert_eq!(tree(&s.path("out")), sorted);

    let records: Vec<Value> = (0..2).flat_map(|i| lines(&s, i)).collect();
    assert_eq!(records.len(), 7);
    for r in &records {
        let input = r["input"].as_str().unwrap();
        if input == "in/broken.jpg" {
            assert_eq!(r["status"], "error", "{r}");
            assert!(r["error"].as_str().unwrap().contains("JPEG"), "{r}");
            continue;
        }
        let i: u32 = input
            .rsplit_once("/p")
            .unwrap()
            .1
            .trim_end_matches(".png")
            .parse()
            .unwrap();
        assert_eq!(r["status"], "ok", "{r}");
        assert_eq!(
            (r["width"].as_u64(), r["height"].as_u64()),
            (Some(30 + i as u64), Some(20 + i as u64))
        );
        assert!(r["ms"].as_f64().unwrap() > 0.0, "{r}");
        assert!(r["error"].is_null(), "{r}");
        assert_eq!(
            r["output"].as_str().unwrap(),
            format!("out/{}/p{i}.png", i % 2)
        );
    }

    // Resume: one output deleted; its shard redoes it and skips the rest.
    std::fs::remove_file(s.path("out/1/p3.png")).unwrap();
    let owner = (0..2)
        .find(|&i| lines(&s, i).iter().any(|r| r["input"] == "in/1/p3.png"))
        .unwrap();
    let before = lines(&s, owner).len();
    run_share(&s, owner, &["--skip-existing"]);
    let after = lines(&s, owner);
    let new = &after[before..];
    assert_eq!(new.len(), before, "the resumed run's lines: {new:?}");
    for r in new {
        let want = match r["input"].as_str().unwrap() {
            "in/1/p3.png" => "ok",
            "in/broken.jpg" => "error",
            _ => "skipped",
        };
        assert_eq!(r["status"], want, "{r}");
    }
    assert_eq!(tree(&s.path("out")), sorted);

    let summary = |manifests: &[&str], code| {
        let mut args = vec!["manifest", "summary"];
        args.extend(manifests);
        args.extend(["--inputs", "in", "--json"]);
        let (out, _) = expect_code(s.u2cut(&args), code);
        serde_json::from_slice::<Value>(&out).unwrap()
    };
    let both = summary(&["m0.jsonl", "m1.jsonl"], 0);
    assert_eq!(both["inputs"], 7, "{both}");
    assert_eq!(
        (both["ok"].as_u64(), both["error"].as_u64()),
        (Some(6), Some(1)),
        "{both}"
    );
    assert_eq!(both["missing"], Value::Array(vec![]), "{both}");
    let one = summary(&["m0.jsonl"], 1);
    let missing = one["missing"].as_array().unwrap().len() as u64;
    assert_eq!(missing + one["inputs"].as_u64().unwrap(), 7, "{one}");
    assert!(missing > 0, "{one}");
}

/// `u2cut remove in -o out --mask` as share `i` of 2 with its manifest
/// `m{i}.jsonl`, and `extra`: exit 2 if the share has the broken input.
fn run_share(s: &Scratch, i: usize, extra: &[&str]) {
    let (shard, manifest) = (format!("{i}/2"), format!("m{i}.jsonl"));
    let mut args = vec![
        "in",
        "-o",
        "out",
        "--shard",
        &shard,
        "--manifest",
        &manifest,
        "--mask",
    ];
    args.extend(extra);
    let code = if runs_broken(s, &shard) { 2 } else { 0 };
    expect_code(s.remove(&args), code);
}

/// The records of shard `i`'s manifest (none if it has none yet).
fn lines(s: &Scratch, i: usize) -> Vec<Value> {
    std::fs::read_to_string(s.path(&format!("m{i}.jsonl")))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Whether `shard` takes in/broken.jpg (its dry run lists it).
fn runs_broken(s: &Scratch, shard: &str) -> bool {
    let (out, _) = expect_code(
        s.remove(&["in", "-o", "out", "--dry-run", "--shard", shard]),
        0,
    );
    listed(&out).iter().any(|(i, _)| i == "in/broken.jpg")
}

/// `--files-from -`: the list streamed from stdin, relative to
/// --input-root; a path out of the root is refused, the others done.
#[test]
fn files_from_stdin_with_an_input_root() {
    let s = Scratch::new();
    s.image("root/a/x.png", &DynamicImage::ImageRgb8(picture(24, 18)));
    s.image("root/y.png", &DynamicImage::ImageRgb8(picture(20, 20)));
    s.image("outside.png", &DynamicImage::ImageRgb8(picture(20, 20)));
    let mut cmd = s.remove(&[
        "--files-from",
        "-",
        "--input-root",
        "root",
        "-o",
        "out",
        "--mask",
    ]);
    let out = piped(&mut cmd, b"a/x.png\n\n../outside.png\ny.png\n");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains(
            "root/../outside.png: line 3 of <stdin>: give paths relative to the input root"
        ),
        "{err}"
    );
    assert_eq!(tree(&s.path("out")), ["a/x.png", "y.png"], "{err}");

    let (_, err) = expect_code(s.remove(&["--files-from", "list.txt", "-o", "out"]), 2);
    assert!(err.contains("--files-from list.txt"), "{err}");
    let (_, err) = expect_code(s.remove(&["--files-from", "-", "-o", "-"]), 2);
    assert!(err.contains("give -o DIR"), "{err}");
}
