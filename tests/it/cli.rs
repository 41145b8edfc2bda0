//! The `u2cut` binary run as a user would: `info` figures, `infer` on a
//! tensor (compared with the library's CPU reference) and on images, and
//! the error cases (exit code 2, the file named in the message).
//!
//! Runs on the GPU (the binary's default). Without an adapter the binary
//! falls back to the CPU with a warning; with `U2CUT_REQUIRE_GPU=1` (as CI
//! sets it) it fails instead, so these tests fail rather than silently
//! testing the CPU path.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;

use npyz::WriterBuilder as _;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tempfile::TempDir;
use u2cut::gpu::REQUIRE_GPU_ENV;
use u2cut::{Model, Network};

fn u2cut(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_u2cut"));
    cmd.args(args);
    cmd
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Runs and asserts success, printing stderr on failure.
fn run_ok(cmd: &mut Command) -> Output {
    let out = cmd.output().expect("the u2cut binary runs");
    assert!(
        out.status.success(),
        "{cmd:?} failed with {}:\n{}",
        out.status,
        stderr(&out)
    );
    out
}

/// Runs and asserts the exit code, returning stderr.
fn run_fails(cmd: &mut Command, code: i32) -> String {
    let out = cmd.output().expect("the u2cut binary runs");
    let err = stderr(&out);
    assert_eq!(
        out.status.code(),
        Some(code),
        "{cmd:?}: expected exit code {code}; stderr:\n{err}"
    );
    assert!(err.contains("u2cut: error: "), "{cmd:?}: {err}");
    err
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("temp paths are UTF-8")
}

fn write_npy<T: npyz::AutoSerialize + Copy>(
    path: &Path,
    shape: &[u64],
    data: &[T],
    order: npyz::Order,
) {
    let mut w = npyz::WriteOptions::new()
        .default_dtype()
        .order(order)
        .shape(shape)
        .writer(BufWriter::new(File::create(path).unwrap()))
        .begin_nd()
        .unwrap();
    w.extend(data.iter().copied()).unwrap();
    w.finish().unwrap();
}

/// (shape, values) of a float32 .npy.
fn read_npy(path: &Path) -> (Vec<u64>, Vec<f32>) {
    let file = File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let npy = npyz::NpyFile::new(std::io::BufReader::new(file)).unwrap();
    assert_eq!(npy.dtype().descr(), "'<f4'", "{}", path.display());
    assert_eq!(npy.order(), npyz::Order::C);
    let shape = npy.shape().to_vec();
    (shape, npy.into_vec().unwrap())
}

fn random_input(seed: u64, len: usize) -> Vec<f32> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..len).map(|_| rng.random_range(-2.0..2.0)).collect()
}

/// Checks DIR/d0..d6.npy: shape (n, 1, h, w), values in [0, 1]; returns the maps.
fn read_outputs(dir: &Path, n: u64, h: u64, w: u64) -> Vec<Vec<f32>> {
    (0..7)
        .map(|d| {
            let path = dir.join(format!("d{d}.npy"));
            let (shape, v) = read_npy(&path);
            assert_eq!(shape, [n, 1, h, w], "d{d}.npy shape");
            assert!(
                v.iter().all(|x| (0.0..=1.0).contains(x)),
                "d{d}.npy: values outside [0, 1]"
            );
            v
        })
        .collect()
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

/// Leftover files in an output directory (including hidden temporaries).
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = match std::fs::read_dir(dir) {
        Ok(rd) => rd
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect(),
        Err(_) => Vec::new(),
    };
    names.sort();
    names
}

#[test]
fn info_reports_u2netp_size_and_work() {
    let out = run_ok(&mut u2cut(&["info"]));
    let text = stdout(&out);
    for want in [
        "u2netp",
        "built-in",
        "RSU7",
        "RSU4F",
        "1.13 M",
        "19.8 GMAC",
        "39.5 GFLOP",
    ] {
        assert!(text.contains(want), "missing `{want}` in:\n{text}");
    }
    assert!(text.contains("without buffer sharing"), "{text}");
}

#[test]
fn info_describes_u2net_without_weights() {
    let empty = TempDir::new().unwrap();
    let out = run_ok(u2cut(&["info", "--model", "u2net"]).env("U2CUT_MODEL_DIR", empty.path()));
    let text = stdout(&out);
    for want in ["u2net", "44.0 M", "58.6 GMAC", "not loaded"] {
        assert!(text.contains(want), "missing `{want}` in:\n{text}");
    }
    // The warning says how to get the weights.
    assert!(
        stderr(&out).contains("bash tools/fetch_model.sh u2net"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn info_json_has_the_same_facts() {
    let out = run_ok(&mut u2cut(&["info", "--json", "--size", "64x48"]));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("valid JSON");
    let model = Model::builtin();
    let graph = model.graph(48, 64);
    assert_eq!(v["model"], "u2netp");
    assert_eq!(v["weights_loaded"], true);
    assert_eq!(v["input"]["width"], 64);
    assert_eq!(v["input"]["height"], 48);
    assert_eq!(v["parameters"], model.parameters());
    assert_eq!(
        v["macs_per_image"],
        u2cut::graph::stats::macs(&graph, &model.layers)
    );
    assert_eq!(
        v["activation_bytes_per_image"],
        u2cut::graph::planner::plan(&graph).bytes_per_image()
    );
    assert_eq!(v["dispatches"], graph.ops.len());
    assert_eq!(v["stages"].as_array().unwrap().len(), 11);
    assert!(v.get("adapters").is_none());
}

/// `info --adapters --json` says which conv kernels and features each
/// adapter offers: every adapter runs the direct and GEMM kernels.
#[test]
fn info_lists_what_each_adapter_runs() {
    let out = run_ok(&mut u2cut(&["info", "--adapters", "--json"]));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("valid JSON");
    let adapters = v["adapters"].as_array().expect("an adapters list");
    if u2cut::gpu::gpu_required() {
        assert!(
            !adapters.is_empty(),
            "{REQUIRE_GPU_ENV}=1 but no adapter listed"
        );
    }
    for a in adapters {
        let kernels: Vec<&str> = a["conv_kernels"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k.as_str().unwrap())
            .collect();
        assert!(
            kernels.contains(&"direct") && kernels.contains(&"gemm64x32"),
            "{a}"
        );
        assert!(a["shader_f16"].is_boolean(), "{a}");
        let sizes = a["subgroup_sizes"].as_array().unwrap();
        // The subgroup kernel is listed only where subgroups have 8+ lanes.
        if kernels.contains(&"subgroup") {
            assert!(sizes[0].as_u64().unwrap() >= 8, "{a}");
        }
    }
}

#[test]
fn info_rejects_unknown_model_and_bad_size() {
    let err = run_fails(&mut u2cut(&["info", "--model", "no-such-model"]), 2);
    assert!(err.contains("no-such-model"), "{err}");
    let out = u2cut(&["info", "--size", "0"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--size"), "{}", stderr(&out));
}

#[test]
fn infer_tensor_matches_the_library_cpu_reference() {
    let dir = TempDir::new().unwrap();
    let (n, h, w) = (2u32, 24u32, 31u32);
    let input = random_input(7, (n * 3 * h * w) as usize);
    let x = dir.path().join("x.npy");
    write_npy(
        &x,
        &[n.into(), 3, h.into(), w.into()],
        &input,
        npyz::Order::C,
    );

    let out_all = dir.path().join("all");
    run_ok(&mut u2cut(&[
        "infer",
        "--input-tensor",
        path_str(&x),
        "--out-dir",
        path_str(&out_all),
    ]));
    let got = read_outputs(&out_all, n.into(), h.into(), w.into());
    assert_eq!(listing(&out_all).len(), 7, "{:?}", listing(&out_all));

    let want = Network::cpu(Arc::new(Model::builtin()))
        .infer(&input, n, h, w)
        .unwrap();
    for (d, (g, w)) in got.iter().zip(&want.maps).enumerate() {
        let diff = max_abs_diff(g, w);
        assert!(diff <= 1e-4, "d{d}: max |cli - cpu reference| = {diff:e}");
    }

    // One image per network call gives the same maps.
    let out_one = dir.path().join("one");
    run_ok(&mut u2cut(&[
        "-q",
        "infer",
        "--input-tensor",
        path_str(&x),
        "-o",
        path_str(&out_one),
        "--batch-size",
        "1",
    ]));
    let one = read_outputs(&out_one, n.into(), h.into(), w.into());
    for d in 0..7 {
        let diff = max_abs_diff(&one[d], &got[d]);
        assert!(diff <= 1e-5, "d{d}: batch 1 vs batch 2 differ by {diff:e}");
    }
}

fn write_test_png(path: &Path, width: u32, height: u32, seed: u32) {
    let img = image::RgbaImage::from_fn(width, height, |x, y| {
        let v = (x * 7 + y * 3 + seed * 50) % 256;
        image::Rgba([v as u8, (255 - v) as u8, ((x * y) % 256) as u8, 128])
    });
    img.save(path).unwrap();
}

#[test]
fn infer_images_writes_maps_and_the_list() {
    let dir = TempDir::new().unwrap();
    let a = dir.path().join("a.png");
    let b = dir.path().join("b.jpg");
    write_test_png(&a, 50, 37, 0);
    image::DynamicImage::ImageRgba8(image::RgbaImage::from_pixel(
        20,
        30,
        image::Rgba([200, 30, 90, 255]),
    ))
    .to_rgb8()
    .save(&b)
    .unwrap();
    let out = dir.path().join("out");
    run_ok(&mut u2cut(&[
        "infer",
        path_str(&a),
        path_str(&b),
        "--size",
        "64",
        "--out-dir",
        path_str(&out),
        "--save-input",
    ]));
    read_outputs(&out, 2, 64, 64);
    let list = std::fs::read_to_string(out.join("inputs.txt")).unwrap();
    assert_eq!(
        list.lines().collect::<Vec<_>>(),
        [path_str(&a), path_str(&b)]
    );
    let (shape, input) = read_npy(&out.join("input.npy"));
    assert_eq!(shape, [2, 3, 64, 64]);
    // Image b is flat: every value is (1 - mean) / std after dividing by its max.
    let plane = 64 * 64;
    let b_red = &input[3 * plane..4 * plane];
    let want = ((1.0 - 0.485) / 0.229) as f32;
    assert!(b_red.iter().all(|&v| (v - want).abs() < 1e-5));
    // No temporaries left behind.
    assert!(
        listing(&out).iter().all(|f| !f.starts_with('.')),
        "{:?}",
        listing(&out)
    );
}

/// A PNG whose eXIf chunk says "rotate 90° clockwise" (orientation 6).
fn write_rotated_png(path: &Path) {
    // 16 x 8: left half red, right half blue.
    let img = image::RgbImage::from_fn(16, 8, |x, _| {
        if x < 8 {
            image::Rgb([255, 0, 0])
        } else {
            image::Rgb([0, 0, 255])
        }
    });
    #[rustfmt::skip]
    let exif = vec![
        b'I', b'I', 42, 0, 8, 0, 0, 0, // little-endian TIFF header, IFD at 8
        1, 0, // one entry
        0x12, 0x01, 3, 0, 1, 0, 0, 0, 6, 0, 0, 0, // Orientation (SHORT) = 6
        0, 0, 0, 0, // no next IFD
    ];
    let mut enc = image::codecs::png::PngEncoder::new(File::create(path).unwrap());
    image::ImageEncoder::set_exif_metadata(&mut enc, exif).unwrap();
    image::ImageEncoder::write_image(enc, img.as_raw(), 16, 8, image::ExtendedColorType::Rgb8)
        .unwrap();
}

#[test]
fn infer_applies_exif_orientation() {
    let dir = TempDir::new().unwrap();
    let png = dir.path().join("rotated.png");
    write_rotated_png(&png);
    let out = dir.path().join("out");
    // Upright the image is 8 wide, 16 tall: red on top, blue below.
    run_ok(&mut u2cut(&[
        "-q",
        "infer",
        path_str(&png),
        "--size",
        "8x16",
        "-o",
        path_str(&out),
        "--save-input",
    ]));
    let (shape, input) = read_npy(&out.join("input.npy"));
    assert_eq!(shape, [1, 3, 16, 8]);
    let red = |row: usize, col: usize| input[row * 8 + col];
    let blue = |row: usize, col: usize| input[2 * 16 * 8 + row * 8 + col];
    for col in 0..8 {
        assert!(red(0, col) > 2.0 && blue(0, col) < 0.0, "top row is red");
        assert!(
            red(15, col) < 0.0 && blue(15, col) > 1.5,
            "bottom row is blue"
        );
    }
}

#[test]
fn missing_inputs_are_named() {
    let dir = TempDir::new().unwrap();
    let out = dir.path().join("out");
    let missing = dir.path().join("no-such-image.png");
    let err = run_fails(
        &mut u2cut(&["infer", path_str(&missing), "-o", path_str(&out)]),
        2,
    );
    assert!(err.contains("no-such-image.png"), "{err}");
    let missing = dir.path().join("no-such-tensor.npy");
    let err = run_fails(
        &mut u2cut(&[
            "infer",
            "--input-tensor",
            path_str(&missing),
            "-o",
            path_str(&out),
        ]),
        2,
    );
    assert!(err.contains("no-such-tensor.npy"), "{err}");
    assert!(listing(&out).is_empty(), "{:?}", listing(&out));
}

#[test]
fn non_image_file_is_named() {
    let dir = TempDir::new().unwrap();
    let good = dir.path().join("good.png");
    write_test_png(&good, 10, 10, 1);
    let bad = dir.path().join("notes.png");
    std::fs::write(&bad, "this is not a picture\n").unwrap();
    let out = dir.path().join("out");
    let err = run_fails(
        &mut u2cut(&[
            "infer",
            path_str(&good),
            path_str(&bad),
            "--size",
            "16",
            "-o",
            path_str(&out),
        ]),
        2,
    );
    assert!(err.contains("notes.png"), "{err}");
    assert!(!err.contains("good.png"), "{err}");
    assert!(listing(&out).is_empty(), "{:?}", listing(&out));
}

/// Each malformed .npy is rejected with exit code 2, naming the file and the problem.
#[test]
fn malformed_tensors_are_rejected() {
    let dir = TempDir::new().unwrap();
    let out = dir.path().join("out");
    let check = |name: &str, want: &str| {
        let path = dir.path().join(name);
        let err = run_fails(
            &mut u2cut(&[
                "infer",
                "--input-tensor",
                path_str(&path),
                "-o",
                path_str(&out),
            ]),
            2,
        );
        assert!(err.contains(name), "{name}: {err}");
        assert!(err.contains(want), "{name}: expected `{want}` in: {err}");
        assert!(listing(&out).is_empty(), "{:?}", listing(&out));
    };

    let four = dir.path().join("four_channels.npy");
    write_npy(&four, &[1, 4, 8, 8], &vec![0.0f32; 256], npyz::Order::C);
    check("four_channels.npy", "4 channels");

    let f64s = dir.path().join("float64.npy");
    write_npy(&f64s, &[1, 3, 4, 4], &[0.0f64; 48], npyz::Order::C);
    check("float64.npy", "dtype");

    let rank3 = dir.path().join("rank3.npy");
    write_npy(&rank3, &[3, 4, 4], &[0.0f32; 48], npyz::Order::C);
    check("rank3.npy", "rank 3");

    let fortran = dir.path().join("fortran.npy");
    write_npy(&fortran, &[1, 3, 4, 4], &[0.0f32; 48], npyz::Order::Fortran);
    check("fortran.npy", "Fortran");

    let truncated = dir.path().join("truncated.npy");
    write_npy(&truncated, &[1, 3, 4, 4], &[0.0f32; 48], npyz::Order::C);
    let bytes = std::fs::read(&truncated).unwrap();
    std::fs::write(&truncated, &bytes[..bytes.len() - 10]).unwrap();
    check("truncated.npy", "truncated");

    let text = dir.path().join("text.npy");
    std::fs::write(&text, "1 2 3\n").unwrap();
    check("text.npy", "not a valid .npy");
}

#[test]
fn unknown_adapter_is_a_usage_error() {
    let dir = TempDir::new().unwrap();
    let x = dir.path().join("x.npy");
    write_npy(&x, &[1, 3, 8, 8], &vec![0.0f32; 192], npyz::Order::C);
    let err = run_fails(
        &mut u2cut(&[
            "--adapter",
            "no-such-gpu-anywhere",
            "infer",
            "--input-tensor",
            path_str(&x),
            "-o",
            path_str(&dir.path().join("out")),
        ]),
        2,
    );
    assert!(err.contains("no-such-gpu-anywhere"), "{err}");
    assert!(err.contains("--adapter"), "{err}");
}

/// With no adapter at all (here: a backend this OS lacks), the CLI falls
/// back to the CPU with a warning, unless U2CUT_REQUIRE_GPU=1 forbids it.
#[cfg(not(any(target_os = "macos", target_os = "ios")))]
#[test]
fn no_adapter_falls_back_unless_required() {
    let dir = TempDir::new().unwrap();
    let x = dir.path().join("x.npy");
    write_npy(&x, &[1, 3, 8, 8], &random_input(3, 192), npyz::Order::C);
    let out: PathBuf = dir.path().join("out");
    let args = [
        "infer",
        "--input-tensor",
        path_str(&x),
        "-o",
        path_str(&out),
    ];

    let ok = run_ok(
        u2cut(&args)
            .env("WGPU_BACKEND", "metal")
            .env_remove("U2CUT_ADAPTER")
            .env_remove(REQUIRE_GPU_ENV),
    );
    let warning = stderr(&ok);
    assert!(
        warning.contains("apt-get install mesa-vulkan-drivers libvulkan1"),
        "{warning}"
    );
    assert_eq!(warning.matches("warning").count(), 1, "{warning}");
    read_outputs(&out, 1, 8, 8);

    let out2 = dir.path().join("out2");
    let err = run_fails(
        u2cut(&[
            "infer",
            "--input-tensor",
            path_str(&x),
            "-o",
            path_str(&out2),
        ])
        .env("WGPU_BACKEND", "metal")
        .env_remove("U2CUT_ADAPTER")
        .env(REQUIRE_GPU_ENV, "1"),
        1,
    );
    assert!(err.contains(REQUIRE_GPU_ENV), "{err}");
    assert!(listing(&out2).is_empty(), "{:?}", listing(&out2));

    // --cpu is an explicit request, allowed even then.
    run_ok(
        u2cut(&["--cpu", "-q"])
            .args(args)
            .env("WGPU_BACKEND", "metal")
            .env(REQUIRE_GPU_ENV, "1"),
    );
}

#[test]
fn help_documents_exit_codes_and_env() {
    let out = run_ok(&mut u2cut(&["--help"]));
    let text = stdout(&out);
    for want in ["Exit codes:", "2  usage or input error", REQUIRE_GPU_ENV] {
        assert!(text.contains(want), "missing `{want}` in:\n{text}");
    }
}

#[test]
fn out_dir_that_is_a_file_is_a_usage_error() {
    let dir = TempDir::new().unwrap();
    let img = dir.path().join("img.png");
    write_test_png(&img, 10, 10, 2);
    let blocker = dir.path().join("blocker");
    std::fs::write(&blocker, "").unwrap();
    let err = run_fails(
        &mut u2cut(&[
            "infer",
            path_str(&img),
            "--size",
            "16",
            "-o",
            path_str(&blocker.join("out")),
        ]),
        2,
    );
    assert!(err.contains("--out-dir"), "{err}");
}

/// The tuning cache only changes speed: a broken one is named in a warning
/// and the command goes on with the default kernels.
#[test]
fn a_broken_tuning_cache_is_warned_about_and_ignored() {
    let dir = TempDir::new().unwrap();
    let (h, w) = (16u32, 20u32);
    let x = dir.path().join("x.npy");
    write_npy(
        &x,
        &[1, 3, h.into(), w.into()],
        &random_input(3, (3 * h * w) as usize),
        npyz::Order::C,
    );
    let cache = dir.path().join("tune.json");
    std::fs::write(&cache, "{oops").unwrap();
    let out_dir = dir.path().join("out");
    let out = run_ok(
        u2cut(&[
            "infer",
            "--input-tensor",
            path_str(&x),
            "-o",
            path_str(&out_dir),
        ])
        .env("U2CUT_TUNE_CACHE", &cache),
    );
    assert_warned(&stderr(&out), &cache, "not a u2cut tuning cache");
    assert_eq!(listing(&out_dir).len(), 7);
    assert_eq!(
        std::fs::read_to_string(&cache).unwrap(),
        "{oops",
        "the broken cache is left as it was"
    );
}

/// A cache file that could not be used was named in a warning, with why.
fn assert_warned(err: &str, file: &Path, why: &str) {
    assert!(
        err.contains("warning") && err.contains(path_str(file)) && err.contains(why),
        "{err}"
    );
}

/// `--precision` is about GPU storage: the CPU reference says it ignores it.
#[test]
fn precision_on_the_cpu_is_warned_about() {
    let dir = TempDir::new().unwrap();
    let x = dir.path().join("x.npy");
    write_npy(&x, &[1, 3, 8, 8], &random_input(4, 3 * 64), npyz::Order::C);
    let out = run_ok(&mut u2cut(&[
        "--cpu",
        "--precision",
        "f16",
        "infer",
        "--input-tensor",
        path_str(&x),
        "-o",
        path_str(&dir.path().join("out")),
    ]));
    assert!(
        stderr(&out).contains("--precision applies to the GPU"),
        "{}",
        stderr(&out)
    );
}

/// The one file in `dir`/pipelines, where u2cut keeps the driver's cache.
fn pipeline_cache_file(dir: &Path) -> PathBuf {
    let files = listing(&dir.join("pipelines"));
    assert_eq!(files.len(), 1, "{files:?}");
    dir.join("pipelines").join(&files[0])
}

/// `warmup` leaves the driver's pipeline cache in the cache folder; a
/// damaged file there is named in a warning, costs nothing else, and is
/// replaced. Mesa's device-select layer, which prints XDG_RUNTIME_DIR
/// errors without a desktop session, stays quiet: every line is ours.
#[test]
fn warmup_fills_the_pipeline_cache_and_a_damaged_one_is_replaced() {
    if crate::common::gpu().is_none() {
        return;
    }
    let dir = TempDir::new().unwrap();
    let cache = dir.path().join("cache");
    let sessionless = |cmd: &mut Command| {
        cmd.env("U2CUT_CACHE_DIR", &cache)
            .env("U2CUT_TUNE_CACHE", dir.path().join("tune.json"))
            .env_remove("XDG_RUNTIME_DIR")
            .env_remove("NODEVICE_SELECT");
    };
    let mut warmup = u2cut(&["warmup", "--size", "32"]);
    sessionless(&mut warmup);
    let err = stderr(&run_ok(&mut warmup));
    assert!(err.contains("warmed up in"), "{err}");
    assert!(err.lines().all(|l| l.starts_with("u2cut: ")), "{err}");
    let file = pipeline_cache_file(&cache);
    assert!(std::fs::read(&file).unwrap().starts_with(b"u2cutpc1"));

    std::fs::write(&file, b"not a cache").unwrap();
    let x = dir.path().join("x.npy");
    write_npy(
        &x,
        &[1, 3, 16, 20],
        &random_input(5, 3 * 16 * 20),
        npyz::Order::C,
    );
    let out_dir = dir.path().join("out");
    let mut infer = u2cut(&[
        "infer",
        "--input-tensor",
        path_str(&x),
        "-o",
        path_str(&out_dir),
    ]);
    sessionless(&mut infer);
    assert_warned(
        &stderr(&run_ok(&mut infer)),
        &file,
        "not a u2cut pipeline cache",
    );
    assert_eq!(listing(&out_dir).len(), 7);
    assert!(
        std::fs::read(&file).unwrap().starts_with(b"u2cutpc1"),
        "replaced"
    );
}
