//! `u2cut serve` started on an ephemeral port, as a user runs it, with
//! the tiny model: many clients at once over both routes, each answer
//! equal to `u2cut remove`'s output; bad inputs and limits answered with
//! their 4xx while the good ones succeed; a full queue; SIGTERM with
//! requests in flight.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use image::{DynamicImage, RgbaImage};
use ureq::Agent;

use crate::remove::{Scratch, expect_code, picture};

/// A running server; killed when dropped.
pub(crate) struct Server {
    child: Child,
    base: String,
    log: Arc<Mutex<String>>,
}

impl Server {
    pub(crate) fn start(s: &Scratch, flags: &[&str]) -> Self {
        let mut cmd = s.u2cut(&["serve", "--port", "0", "-m", &s.model()]);
        cmd.args(flags).stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let log = Arc::new(Mutex::new(String::new()));
        let base = loop {
            let line = lines
                .next()
                .unwrap_or_else(|| panic!("the server ended: {}", log.lock().unwrap()))
                .unwrap();
            log.lock().unwrap().push_str(&format!("{line}\n"));
            if let Some(addr) = line.strip_prefix("u2cut: listening on ") {
                break addr.to_owned();
            }
        };
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                sink.lock().unwrap().push_str(&format!("{line}\n"));
            }
        });
        Self { child, base, log }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub(crate) fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn agent() -> Agent {
    Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(600)))
        .build()
        .into()
}

/// (status, Retry-After, body) of a response.
type Reply = (u16, Option<String>, Vec<u8>);

fn reply(response: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Reply {
    let mut response = response.expect("an answer");
    let retry = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    (
        response.status().as_u16(),
        retry,
        response.body_mut().read_to_vec().unwrap(),
    )
}

fn post_v1(base: &str, query: &str, body: &[u8]) -> Reply {
    reply(
        agent()
            .post(format!("{base}/v1/remove{query}"))
            .header("Content-Type", "application/octet-stream")
            .send(body),
    )
}

/// rembg's form: the image as `file` (no file name, no type), then `fields`.
fn post_api(base: &str, image: &[u8], fields: &[(&str, &str)]) -> Reply {
    let boundary = "u2cut-test-boundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(image);
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}"
            )
            .as_bytes(),
        );
    }
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    reply(
        agent()
            .post(format!("{base}/api/remove"))
            .header(
                "Content-Type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .send(&body[..]),
    )
}

fn get(url: &str) -> Reply {
    reply(agent().get(url).call())
}

fn pixels(png: &[u8]) -> RgbaImage {
    image::load_from_memory(png).unwrap().to_rgba8()
}

fn error_of(body: &[u8], key: &str) -> String {
    let v: serde_json::Value = serde_json::from_slice(body)
        .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(body)));
    v[key].as_str().unwrap().to_owned()
}

/// 64 requests, 16 at a time, over both routes, cutouts and masks: each
/// answer is `u2cut remove`'s output for the same file, bad inputs get
/// 400 and the others are unaffected; the metrics count them all and
/// show GPU passes that held several clients' images.
#[test]
fn many_clients_get_what_remove_writes() {
    let s = Scratch::new();
    let good = ["a.png", "b.jpg", "c.png", "d.webp"];
    for (i, name) in good.iter().enumerate() {
        let img = DynamicImage::ImageRgb8(picture(36 + 9 * i as u32, 28 + 5 * i as u32));
        s.image(&format!("in/{name}"), &img);
    }
    expect_code(s.remove(&["in", "-o", "cutouts"]), 0);
    expect_code(s.remove(&["in", "-o", "masks", "--mask"]), 0);
    let stem = |n: &str| n.split('.').next().unwrap().to_owned();
    let inputs: Vec<Vec<u8>> = good
        .iter()
        .map(|n| std::fs::read(s.path(&format!("in/{n}"))).unwrap())
        .collect();
    let read_png = |dir: &str, n: &str| {
        pixels(&std::fs::read(s.path(&format!("{dir}/{}.png", stem(n)))).unwrap())
    };
    let cutouts: Vec<RgbaImage> = good.iter().map(|n| read_png("cutouts", n)).collect();
    let masks: Vec<RgbaImage> = good.iter().map(|n| read_png("masks", n)).collect();
    let bad = Arc::new([
        b"not an image at all".to_vec(),
        inputs[0][..inputs[0].len() / 2].to_vec(),
    ]);

    let server = Server::start(&s, &["--batch-size", "4", "--max-wait-ms", "30"]);
    let base = server.base.clone();
    let (inputs, cutouts, masks) = (Arc::new(inputs), Arc::new(cutouts), Arc::new(masks));
    let n = 64;
    for wave in 0..n / 16 {
        let clients: Vec<_> = (0..16)
            .map(|c| {
                let (base, inputs, cutouts, masks, bad) = (
                    base.clone(),
                    inputs.clone(),
                    cutouts.clone(),
                    masks.clone(),
                    bad.clone(),
                );
                std::thread::spawn(move || {
                    let i = wave * 16 + c;
                    let (api, mask) = (i % 2 == 0, i % 3 == 0);
                    if i % 8 == 7 {
                        // Both bodies on both routes.
                        let (api, body) = (i / 16 % 2 == 0, &bad[i / 8 % 2]);
                        let (status, _, reply) = if api {
                            post_api(&base, body, &[])
                        } else {
                            post_v1(&base, "", body)
                        };
                        assert_eq!(
                            status,
                            400,
                            "request {i}: {}",
                            String::from_utf8_lossy(&reply)
                        );
                        let message = error_of(&reply, if api { "detail" } else { "error" });
                        assert!(message.starts_with("the image: "), "request {i}: {message}");
                        return;
                    }
                    let k = i % 4;
                    let (status, _, reply) = match (api, mask) {
                        (true, true) => post_api(&base, &inputs[k], &[("om", "true")]),
                        (true, false) => post_api(&base, &inputs[k], &[("a", "false")]),
                        (false, true) => post_v1(&base, "?mask=true", &inputs[k]),
                        (false, false) => post_v1(&base, "", &inputs[k]),
                    };
                    assert_eq!(
                        status,
                        200,
                        "request {i}: {}",
                        String::from_utf8_lossy(&reply)
                    );
                    let want = if mask { &masks[k] } else { &cutouts[k] };
                    assert!(
                        pixels(&reply) == *want,
                        "request {i}: not what u2cut remove writes"
                    );
                })
            })
            .collect();
        for client in clients {
            client
                .join()
                .unwrap_or_else(|_| panic!("a client failed; the server said:\n{}", server.log()));
        }
    }

    let (status, _, health) = get(&server.url("/healthz"));
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&health));
    let (status, _, metrics) = get(&server.url("/metrics"));
    assert_eq!(status, 200);
    let metrics = String::from_utf8(metrics).unwrap();
    let value = |name: &str| -> f64 {
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(name)?.trim().parse().ok())
            .unwrap_or_else(|| panic!("no {name} in\n{metrics}"))
    };
    let count = |route: &str, status: u16| {
        value(&format!(
            "u2cut_requests_total{{route=\"{route}\",status=\"{status}\"}} "
        ))
    };
    assert_eq!(
        count("/v1/remove", 200) + count("/api/remove", 200),
        56.0,
        "{metrics}"
    );
    assert_eq!(
        count("/v1/remove", 400) + count("/api/remove", 400),
        8.0,
        "{metrics}"
    );
    assert_eq!(value("u2cut_images_processed_total "), 56.0, "{metrics}");
    let (sum, passes) = (
        value("u2cut_gpu_batch_images_sum "),
        value("u2cut_gpu_batch_images_count "),
    );
    assert!(
        sum > passes,
        "no GPU pass held two clients' images: {metrics}"
    );
}

/// Each limit answered with its status and a message naming it; rembg's
/// URL fetching refused; a full queue answers 503 with Retry-After while
/// the requests it took still succeed.
#[test]
fn limits_are_answered_and_named() {
    let s = Scratch::new();
    let small = s.image("small.png", &DynamicImage::ImageRgb8(picture(40, 30)));
    let small = std::fs::read(small).unwrap();
    let wide = s.image(
        "wide.png",
        &DynamicImage::ImageRgb8(image::RgbImage::new(700, 700)),
    );
    let wide = std::fs::read(wide).unwrap();
    let server = Server::start(
        &s,
        &[
            "--max-body-bytes",
            "100000",
            "--max-pixels",
            "250000",
            "--max-queue",
            "1",
        ],
    );
    let base = &server.base;

    let big = vec![0u8; 150_000];
    let cases: [(&str, &[u8], u16, &str); 6] = [
        ("", &big, 413, "--max-body-bytes"),
        ("", &wide, 413, "--max-pixels"),
        ("?format=gif", &small, 400, "format=gif"),
        ("?shadows=true", &small, 400, "unknown parameter `shadows`"),
        ("?format=jpg", &small, 400, "opaque bg_color"),
        (
            "?format=jpg&bg_color=9,9,9,128",
            &small,
            400,
            "opaque bg_color",
        ),
    ];
    for (query, body, want, needle) in cases {
        let (status, _, reply) = post_v1(base, query, body);
        let message = error_of(&reply, "error");
        assert_eq!(status, want, "{query}: {message}");
        assert!(message.contains(needle), "{query}: {message}");
    }
    let (status, _, body) = post_api(base, &small, &[("model", "isnet-anime")]);
    assert_eq!(status, 400);
    assert!(error_of(&body, "detail").contains("model=isnet-anime"));
    let (status, _, body) = get(&format!("{base}/api/remove?url=http://example.com/a.png"));
    assert_eq!(status, 400);
    assert!(error_of(&body, "detail").contains("does not fetch URLs"));

    // A queue of one: of 8 clients at once, some are turned away.
    let answers: Vec<Reply> = (0..8)
        .map(|_| {
            let (base, small) = (base.clone(), small.clone());
            std::thread::spawn(move || post_v1(&base, "", &small))
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|t| t.join().unwrap())
        .collect();
    let full: Vec<&Reply> = answers.iter().filter(|a| a.0 == 503).collect();
    assert!(
        answers.iter().any(|a| a.0 == 200),
        "none accepted: {}",
        server.log()
    );
    assert!(!full.is_empty(), "the queue of one never filled");
    assert!(answers.iter().all(|a| a.0 == 200 || a.0 == 503));
    for (_, retry, body) in full {
        assert_eq!(retry.as_deref(), Some("1"));
        assert!(error_of(body, "error").contains("--max-queue"));
    }
}

/// A request not answered within --timeout-s gets 504 naming it, and the
/// server goes on answering.
#[test]
fn a_request_past_its_timeout_gets_504() {
    let s = Scratch::new();
    let small = s.image("small.png", &DynamicImage::ImageRgb8(picture(40, 30)));
    let small = std::fs::read(small).unwrap();
    let server = Server::start(&s, &["--timeout-s", "0"]);
    let (status, _, body) = post_v1(&server.base, "", &small);
    assert_eq!(status, 504, "{}", server.log());
    assert!(error_of(&body, "error").contains("--timeout-s 0"));
    let (status, _, body) = post_api(&server.base, &small, &[]);
    assert_eq!(status, 504);
    assert!(error_of(&body, "detail").contains("--timeout-s 0"));
    assert_eq!(get(&server.url("/healthz")).0, 200);
}

/// SIGTERM with requests in flight: each is answered, then the server
/// exits 0 and takes no more.
#[test]
fn sigterm_finishes_what_was_accepted() {
    let s = Scratch::new();
    let img = s.image("p.png", &DynamicImage::ImageRgb8(picture(64, 48)));
    let img = std::fs::read(img).unwrap();
    let mut server = Server::start(&s, &[]);
    let base = server.base.clone();
    let clients: Vec<_> = (0..6)
        .map(|_| {
            let (base, img) = (base.clone(), img.clone());
            std::thread::spawn(move || post_v1(&base, "", &img))
        })
        .collect();
    // Until the server has them all (its queue, or answered).
    for _ in 0..200 {
        let (_, _, m) = get(&server.url("/metrics"));
        let m = String::from_utf8(m).unwrap();
        let taken = |name: &str| -> f64 {
            m.lines()
                .find_map(|l| l.strip_prefix(name)?.trim().parse().ok())
                .unwrap_or(0.0)
        };
        if taken("u2cut_queue_depth ") + taken("u2cut_images_processed_total ") >= 6.0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    let pid = server.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    for client in clients {
        let (status, _, body) = client.join().unwrap();
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    }
    let status = server.child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "{}", server.log());
    assert!(server.log().contains("u2cut: stopped"), "{}", server.log());
    assert!(
        agent()
            .post(format!("{base}/v1/remove"))
            .send(&img[..])
            .is_err()
    );
}
