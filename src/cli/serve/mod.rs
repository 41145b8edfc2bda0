//! `u2cut serve`: an HTTP service (axum on tokio) that batches the images
//! of all its clients on the GPU through the library pipeline, its
//! pipelines compiled once for the life of the process. Routes in
//! [`routes`], the queue and the pipeline in [`batcher`].

mod batcher;
mod metrics;
mod routes;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, Result};
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use clap::Args;
use u2cut::Remover;
use u2cut::io::{DEFAULT_MAX_PIXELS, DecodeOptions};
use u2cut::pipeline;
use u2cut::remove::{DEFAULT_BATCH, Options, Product};

use super::{GlobalArgs, load_model, open_network};
use batcher::Batcher;
use metrics::Metrics;
use routes::App;

#[derive(Debug, Args)]
#[command(after_help = "\
Routes:
  POST /api/remove  rembg's: multipart field `file`, fields a, af, ab, ae, om, ppm, bgc, model;
                    answers image/png
  POST /v1/remove   the image as the body; query: mask, format (png|webp|jpeg), quality,
                    bg_color, crop, crop_margin, post_process, alpha_matting,
                    matting_fg_threshold, matting_bg_threshold, matting_erode, refine=guided
  GET  /            a page to try it in a browser
  GET  /healthz     200 while the model is loaded and the GPU answers
  GET  /metrics     Prometheus text format
Errors: 400 not an image, 413 over --max-body-bytes or --max-pixels, 503 queue full
(Retry-After), 504 past --timeout-s; JSON {\"error\": ...} on /v1, {\"detail\": ...} on /api.
SIGTERM or Ctrl-C: stop accepting, answer what was accepted, exit 0.")]
pub struct ServeArgs {
    /// Address to listen on (0.0.0.0 in a container)
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Port (0: any free one; the one chosen is printed)
    #[arg(long, default_value_t = 7000)]
    port: u16,
    /// Model: u2netp (built in), u2net (the model folder: tools/fetch_model.sh), or a .safetensors file
    #[arg(
        short,
        long,
        default_value = "u2netp",
        value_name = "u2netp|u2net|PATH"
    )]
    model: String,
    /// Images per GPU pass, from any clients
    #[arg(short, long, default_value_t = DEFAULT_BATCH, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..))]
    batch_size: u32,
    /// How long a GPU batch waits for more images once no more are coming
    #[arg(long, default_value_t = 5, value_name = "MS")]
    max_wait_ms: u64,
    /// Images accepted and not yet answered, at most; past it, 503
    #[arg(long, default_value_t = 64, value_name = "N",
          value_parser = clap::value_parser!(u64).range(1..))]
    max_queue: u64,
    /// Largest request body; past it, 413
    #[arg(long, default_value_t = 50 << 20, value_name = "B")]
    max_body_bytes: usize,
    /// Largest image, checked from its header before decoding; past it, 413
    #[arg(long, default_value_t = DEFAULT_MAX_PIXELS, value_name = "P")]
    max_pixels: u64,
    /// Longest a request waits for its image; past it, 504
    #[arg(long, default_value_t = 300, value_name = "S")]
    timeout_s: u64,
    /// Decoding and encoding threads each [default: the number of CPUs]
    #[arg(short, long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    jobs: Option<u32>,
}

pub fn run(global: &GlobalArgs, args: &ServeArgs) -> Result<()> {
    let model = Arc::new(load_model(&args.model)?);
    let net = open_network(global, model)?;
    let gpu = net.context().cloned();
    // Plain options: each request's are applied when it is finished.
    let remover = Remover::new(
        net,
        Options {
            batch_size: args.batch_size,
            ..Options::default()
        },
    );
    let defaults = pipeline::Options::default();
    let run = pipeline::Options {
        product: Product::Mask,
        threads: args.jobs.map_or(defaults.threads, |j| j as usize),
        batch_wait: Duration::from_millis(args.max_wait_ms),
        ..defaults
    };
    let decode = DecodeOptions {
        max_pixels: args.max_pixels,
        allow_truncated: global.allow_truncated,
    };
    let metrics = Arc::new(Metrics::new());
    let app = Arc::new(App {
        batcher: Batcher::start(
            remover,
            decode,
            run,
            args.max_queue as usize,
            metrics.clone(),
        ),
        metrics,
        model: model_name(&args.model),
        gpu,
        timeout: Duration::from_secs(args.timeout_s),
        max_body_bytes: args.max_body_bytes,
    });
    let router = Router::new()
        .route("/", get(routes::page))
        .route("/healthz", get(routes::healthz))
        .route("/metrics", get(routes::metrics))
        .route("/v1/remove", post(routes::v1_remove))
        .route(
            "/api/remove",
            post(routes::api_remove).get(routes::api_remove_get),
        )
        .layer(DefaultBodyLimit::max(args.max_body_bytes))
        .with_state(app.clone());

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the HTTP runtime")?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind((args.host.as_str(), args.port))
            .await
            .with_context(|| format!("listening on {}:{}", args.host, args.port))?;
        let addr: SocketAddr = listener.local_addr()?;
        eprintln!("u2cut: listening on http://{addr}");
        axum::serve(listener, router)
            .with_graceful_shutdown(stop_signal())
            .await
            .context("serving")
    })?;
    // Every accepted request was answered; the pipeline can end.
    app.batcher.finish();
    if !global.quiet {
        eprintln!("u2cut: stopped");
    }
    Ok(())
}

/// The model's name as clients name it: the flag, or a file's stem.
fn model_name(flag: &str) -> String {
    std::path::Path::new(flag)
        .file_stem()
        .map_or_else(|| flag.to_owned(), |s| s.to_string_lossy().into_owned())
}

/// Ctrl-C or SIGTERM.
async fn stop_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("a SIGTERM handler");
        tokio::select! {
            _ = interrupt => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
    eprintln!("u2cut: stopping: answering the requests accepted, taking no more");
}
