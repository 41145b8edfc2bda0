//! Requests from every client through one library pipeline
//! ([`u2cut::pipeline`]) on a thread of its own: decoded on its CPU
//! threads, batched on the GPU across clients (waiting at most
//! `--max-wait-ms` for a batch to fill), each finished with its own
//! options and encoded on the CPU threads, answered through its channel.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use image::{DynamicImage, RgbaImage};
use tokio::sync::oneshot;
use u2cut::io::{DecodeOptions, Format, Header, open_bytes};
use u2cut::pipeline::{self, Outcome, Steps};
use u2cut::remove::{Options, Product, Removed};
use u2cut::{Error, Remover, Result};

use super::metrics::Metrics;

/// What one request asks for.
#[derive(Clone, Debug)]
pub struct Wanted {
    pub product: Product,
    /// Background, post-processing, cropping and matting.
    pub options: Options,
    pub format: Format,
    pub quality: u8,
}

/// Why a request got no image.
#[derive(Debug)]
pub enum Refusal {
    /// Not an image, empty, truncated, over a limit: the client's.
    BadInput(Error),
    /// The GPU pass or the encoding failed.
    Failed(Error),
}

pub type Answer = std::result::Result<Vec<u8>, Refusal>;

struct Request {
    bytes: Vec<u8>,
    wanted: Wanted,
    answer: oneshot::Sender<Answer>,
}

/// Opens, finishes and encodes requests for the pipeline.
struct Handling {
    remover: Arc<Remover>,
    decode: DecodeOptions,
}

impl Steps for Handling {
    type Item = Request;
    type Opened = Header;
    type Output = Vec<u8>;

    fn open(&self, request: &mut Request) -> Result<Header> {
        open_bytes(std::mem::take(&mut request.bytes), &self.decode)
    }

    fn encode(&self, request: &Request, input: RgbaImage, removed: Removed) -> Result<Vec<u8>> {
        let wanted = &request.wanted;
        let finished =
            self.remover
                .finish_with(&input, removed.mask, &wanted.options, wanted.product)?;
        let image = match finished.image {
            Some(cutout) => DynamicImage::ImageRgba8(cutout),
            None => DynamicImage::ImageLuma8(finished.mask),
        };
        let mut bytes = Vec::new();
        u2cut::io::encode::encode(&mut bytes, &image, wanted.format, wanted.quality)?;
        Ok(bytes)
    }
}

/// The queue in front of the pipeline, and its thread.
pub struct Batcher {
    requests: Mutex<Option<mpsc::Sender<Request>>>,
    /// Requests accepted and not yet answered.
    queued: Arc<AtomicUsize>,
    max_queue: usize,
    /// Why the pipeline stopped, if it did (the GPU failed for good).
    stopped: Arc<Mutex<Option<String>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

/// Why a request was not accepted.
pub enum NotAccepted {
    QueueFull(usize),
    Stopped(String),
}

impl Batcher {
    /// Starts the pipeline on `remover` (its options plain: each request
    /// brings its own), `threads` decoders and as many encoders.
    pub fn start(
        remover: Remover,
        decode: DecodeOptions,
        run: pipeline::Options,
        max_queue: usize,
        metrics: Arc<Metrics>,
    ) -> Self {
        let (tx, rx) = mpsc::channel::<Request>();
        let queued = Arc::new(AtomicUsize::new(0));
        let stopped = Arc::new(Mutex::new(None));
        let thread = {
            let (queued, stopped) = (queued.clone(), stopped.clone());
            std::thread::spawn(move || {
                let remover = Arc::new(remover);
                let steps = Handling {
                    remover: remover.clone(),
                    decode,
                };
                let summary = pipeline::run(&remover, &run, rx.into_iter(), &steps, |event| {
                    queued.fetch_sub(1, Ordering::SeqCst);
                    let answer = match event.outcome {
                        Outcome::Done { output, .. } => {
                            metrics.processed(event.batch);
                            Ok(output)
                        }
                        Outcome::BadInput(e) => Err(Refusal::BadInput(e)),
                        Outcome::Failed(e) => Err(Refusal::Failed(e)),
                    };
                    // A client that gave up (timed out) is not waiting.
                    let _ = event.item.answer.send(answer);
                });
                if let Some(e) = summary.stopped {
                    eprintln!("u2cut: error: the GPU pipeline stopped: {e}");
                    *stopped.lock().unwrap() = Some(e.to_string());
                }
            })
        };
        Self {
            requests: Mutex::new(Some(tx)),
            queued,
            max_queue,
            stopped,
            thread: Mutex::new(Some(thread)),
        }
    }

    /// Queues an image; its answer comes on the receiver.
    pub fn submit(
        &self,
        bytes: Vec<u8>,
        wanted: Wanted,
    ) -> std::result::Result<oneshot::Receiver<Answer>, NotAccepted> {
        if let Some(why) = self.stopped() {
            return Err(NotAccepted::Stopped(why));
        }
        // Reserve a place, or give it back.
        if self.queued.fetch_add(1, Ordering::SeqCst) >= self.max_queue {
            self.queued.fetch_sub(1, Ordering::SeqCst);
            return Err(NotAccepted::QueueFull(self.max_queue));
        }
        let (answer, receiver) = oneshot::channel();
        let request = Request {
            bytes,
            wanted,
            answer,
        };
        let sent = match &*self.requests.lock().unwrap() {
            Some(tx) => tx.send(request).is_ok(),
            None => false,
        };
        if !sent {
            self.queued.fetch_sub(1, Ordering::SeqCst);
            let why = self
                .stopped()
                .unwrap_or_else(|| "the server is stopping".into());
            return Err(NotAccepted::Stopped(why));
        }
        Ok(receiver)
    }

    pub fn queued(&self) -> usize {
        self.queued.load(Ordering::SeqCst)
    }

    pub fn stopped(&self) -> Option<String> {
        self.stopped.lock().unwrap().clone()
    }

    /// Takes no more requests, finishes those accepted, and waits for the
    /// pipeline to end.
    pub fn finish(&self) {
        self.requests.lock().unwrap().take();
        if let Some(thread) = self.thread.lock().unwrap().take() {
            let _ = thread.join();
        }
    }
}
