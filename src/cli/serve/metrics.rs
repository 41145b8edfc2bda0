//! `GET /metrics`: Prometheus text format, kept by prometheus-client.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Answered {
    route: String,
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Route {
    route: String,
}

pub struct Metrics {
    registry: Registry,
    requests: Family<Answered, Counter>,
    latency: Family<Route, Histogram>,
    batch: Histogram,
    queue: Gauge,
    images: Counter,
}

fn latency_histogram() -> Histogram {
    // 5 ms to about 80 s.
    Histogram::new(exponential_buckets(0.005, 2.0, 15))
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("u2cut");
        let requests = Family::<Answered, Counter>::default();
        registry.register(
            "requests",
            "Requests answered, by route and status",
            requests.clone(),
        );
        let latency = Family::<Route, Histogram>::new_with_constructor(
            latency_histogram as fn() -> Histogram,
        );
        registry.register(
            "request_duration_seconds",
            "Time from a request's body received to its answer, by route",
            latency.clone(),
        );
        let batch = Histogram::new([1.0, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 16.0, 24.0, 32.0]);
        registry.register(
            "gpu_batch_images",
            "For each image processed, how many images its GPU pass held",
            batch.clone(),
        );
        let queue = Gauge::default();
        registry.register(
            "queue_depth",
            "Images accepted and not yet answered",
            queue.clone(),
        );
        let images = Counter::default();
        registry.register("images_processed", "Images processed", images.clone());
        Self {
            registry,
            requests,
            latency,
            batch,
            queue,
            images,
        }
    }

    pub fn answered(&self, route: &str, status: u16, seconds: f64) {
        let labels = Answered {
            route: route.to_owned(),
            status: status.to_string(),
        };
        self.requests.get_or_create(&labels).inc();
        let route = Route {
            route: route.to_owned(),
        };
        self.latency.get_or_create(&route).observe(seconds);
    }

    /// An image processed in a GPU pass of `batch` images.
    pub fn processed(&self, batch: usize) {
        self.images.inc();
        self.batch.observe(batch as f64);
    }

    /// The text to serve, with the queue's depth now.
    pub fn render(&self, queue_depth: usize) -> String {
        self.queue.set(queue_depth as i64);
        let mut text = String::new();
        encode(&mut text, &self.registry).expect("writing to a String");
        text
    }
}
