//! Load on a running `u2cut serve`: C clients at once, each posting the
//! images of a folder to `/v1/remove` in turn until R requests are done;
//! images/s and the latency's p50 and p99, one line per C.
//! tools/serve_bench.sh starts the server and runs this.
//!
//!     cargo run --release --example serve_load -- http://127.0.0.1:7000 photos/ 200 1 4 16

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use ureq::Agent;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [base, folder, requests, clients @ ..] = &args[..] else {
        eprintln!("usage: serve_load URL FOLDER REQUESTS CLIENTS...");
        std::process::exit(2);
    };
    let requests: usize = requests.parse().expect("REQUESTS: a number");
    let mut images: Vec<Vec<u8>> = std::fs::read_dir(folder)
        .expect("FOLDER")
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| std::fs::read(p).unwrap())
        .collect();
    images.sort();
    assert!(!images.is_empty(), "no files in {folder}");
    let images = Arc::new(images);
    for c in clients {
        let c: usize = c.parse().expect("CLIENTS: numbers");
        let next = Arc::new(AtomicUsize::new(0));
        let start = Instant::now();
        let workers: Vec<_> = (0..c)
            .map(|_| {
                let (base, images, next) = (base.clone(), images.clone(), next.clone());
                std::thread::spawn(move || {
                    let agent: Agent = Agent::config_builder()
                        .timeout_global(Some(Duration::from_secs(600)))
                        .build()
                        .into();
                    let mut latencies = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::SeqCst);
                        if i >= requests {
                            return latencies;
                        }
                        let t = Instant::now();
                        let mut response = agent
                            .post(format!("{base}/v1/remove"))
                            .send(&images[i % images.len()][..])
                            .expect("a 200 answer");
                        response.body_mut().read_to_vec().unwrap();
                        latencies.push(t.elapsed().as_secs_f64());
                    }
                })
            })
            .collect();
        let mut latencies: Vec<f64> = workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect();
        let wall = start.elapsed().as_secs_f64();
        latencies.sort_by(f64::total_cmp);
        let at = |q: f64| latencies[((latencies.len() - 1) as f64 * q).round() as usize];
        println!(
            "clients {c:>3}: {requests} requests in {wall:.1} s, {:.2} images/s, latency p50 {:.0} ms, p99 {:.0} ms",
            requests as f64 / wall,
            at(0.5) * 1e3,
            at(0.99) * 1e3
        );
    }
}
