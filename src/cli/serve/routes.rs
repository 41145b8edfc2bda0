//! The HTTP routes: `POST /api/remove` (rembg's), `POST /v1/remove`,
//! `GET /` (the page), `GET /healthz`, `GET /metrics`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Multipart, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde_json::json;
use u2cut::Error;
use u2cut::gpu::GpuContext;
use u2cut::io::Format;
use u2cut::remove::{Background, Options, Product};

use super::batcher::{Batcher, NotAccepted, Refusal, Wanted};
use super::metrics::Metrics;
use crate::cli::remove::{Refining, parse_color};

/// What every handler shares.
pub struct App {
    pub batcher: Batcher,
    pub metrics: Arc<Metrics>,
    /// The loaded model's name (what rembg's `model` field must say).
    pub model: String,
    pub gpu: Option<GpuContext>,
    pub timeout: Duration,
    pub max_body_bytes: usize,
}

/// An error answer: status, message, and when to retry.
pub struct Problem {
    status: StatusCode,
    message: String,
    retry_after: Option<u64>,
}

impl Problem {
    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            retry_after: None,
        }
    }

    fn bad(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// As `/v1` answers: `{"error": ...}`; `/api` as FastAPI (so rembg)
    /// does: `{"detail": ...}`.
    fn answer(self, key: &str) -> Response {
        let mut response = (self.status, Json(json!({ key: self.message }))).into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, seconds.into());
        }
        response
    }
}

impl App {
    /// Runs one image through the batcher.
    async fn remove(&self, bytes: Vec<u8>, wanted: Wanted) -> Result<Vec<u8>, Problem> {
        let answer = self.batcher.submit(bytes, wanted).map_err(|n| match n {
            NotAccepted::QueueFull(n) => Problem {
                retry_after: Some(1),
                ..Problem::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    format!("the queue is full ({n} images, --max-queue): retry later"),
                )
            },
            NotAccepted::Stopped(why) => Problem::new(StatusCode::SERVICE_UNAVAILABLE, why),
        })?;
        match tokio::time::timeout(self.timeout, answer).await {
            Err(_) => Err(Problem::new(
                StatusCode::GATEWAY_TIMEOUT,
                format!("not done within --timeout-s {}", self.timeout.as_secs()),
            )),
            Ok(Err(_)) => Err(Problem::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the request was dropped",
            )),
            Ok(Ok(Ok(bytes))) => Ok(bytes),
            Ok(Ok(Err(Refusal::BadInput(e)))) => {
                let status = match e {
                    Error::Limit(_) => StatusCode::PAYLOAD_TOO_LARGE,
                    _ => StatusCode::BAD_REQUEST,
                };
                Err(Problem::new(status, format!("the image: {e}")))
            }
            Ok(Ok(Err(Refusal::Failed(e)))) => Err(Problem::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                e.to_string(),
            )),
        }
    }

    fn body_problem(&self, status: StatusCode, what: impl std::fmt::Display) -> Problem {
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            Problem::new(
                status,
                format!(
                    "the body is over --max-body-bytes ({} bytes)",
                    self.max_body_bytes
                ),
            )
        } else {
            Problem::new(status, format!("reading the body: {what}"))
        }
    }

    fn answered(&self, route: &str, start: Instant, response: &Response) {
        self.metrics.answered(
            route,
            response.status().as_u16(),
            start.elapsed().as_secs_f64(),
        );
    }
}

fn image_response(bytes: Vec<u8>, format: Format) -> Response {
    let mime = match format {
        Format::Png => "image/png",
        Format::Webp => "image/webp",
        Format::Jpg => "image/jpeg",
    };
    ([(header::CONTENT_TYPE, mime)], bytes).into_response()
}

pub async fn page() -> Html<&'static str> {
    Html(include_str!("page.html"))
}

pub async fn healthz(State(app): State<Arc<App>>) -> Response {
    let lost = app.gpu.as_ref().and_then(|ctx| {
        let _ = ctx.device.poll(wgpu::PollType::Poll);
        ctx.lost()
    });
    match app.batcher.stopped().or(lost) {
        Some(why) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "failing", "error": why })),
        )
            .into_response(),
        None => Json(json!({ "status": "ok", "model": app.model })).into_response(),
    }
}

pub async fn metrics(State(app): State<Arc<App>>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        app.metrics.render(app.batcher.queued()),
    )
        .into_response()
}

/// `POST /v1/remove`: the image as the body, options in the query.
pub async fn v1_remove(
    State(app): State<Arc<App>>,
    Query(params): Query<Vec<(String, String)>>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let start = Instant::now();
    let result = async {
        let wanted = v1_wanted(&params)?;
        let body = body.map_err(|e| app.body_problem(e.status(), e.body_text()))?;
        let format = wanted.format;
        Ok::<_, Problem>((app.remove(body.to_vec(), wanted).await?, format))
    }
    .await;
    let response = match result {
        Ok((bytes, format)) => image_response(bytes, format),
        Err(p) => p.answer("error"),
    };
    app.answered("/v1/remove", start, &response);
    response
}

/// `POST /api/remove`: rembg's form, the image in the field `file`.
pub async fn api_remove(
    State(app): State<Arc<App>>,
    form: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Response {
    let start = Instant::now();
    let result = async {
        let mut form = form.map_err(|e| Problem::bad(e.body_text()))?;
        let mut file = None;
        let mut fields = Vec::new();
        while let Some(field) = form
            .next_field()
            .await
            .map_err(|e| app.body_problem(e.status(), e.body_text()))?
        {
            let name = field.name().unwrap_or_default().to_owned();
            let bytes = field
                .bytes()
                .await
                .map_err(|e| app.body_problem(e.status(), e.body_text()))?;
            if name == "file" {
                file = Some(bytes);
            } else {
                fields.push((name, String::from_utf8_lossy(&bytes).into_owned()));
            }
        }
        let wanted = api_wanted(&fields, &app.model)?;
        let file =
            file.ok_or_else(|| Problem::bad("no image: send it as the form field `file`"))?;
        app.remove(file.to_vec(), wanted).await
    }
    .await;
    let response = match result {
        Ok(bytes) => image_response(bytes, Format::Png),
        Err(p) => p.answer("detail"),
    };
    app.answered("/api/remove", start, &response);
    response
}

/// rembg's `GET /api/remove?url=`: a server fetching what clients name
/// is a hole; refused, saying what to do instead.
pub async fn api_remove_get(State(app): State<Arc<App>>) -> Response {
    let start = Instant::now();
    let response =
        Problem::bad("this server does not fetch URLs: POST the image as the form field `file`")
            .answer("detail");
    app.answered("/api/remove", start, &response);
    response
}

/// A yes/no field: true/false, 1/0, yes/no, on/off.
fn flag(name: &str, value: &str) -> Result<bool, Problem> {
    match value.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" | "" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err(Problem::bad(format!("{name}={value}: give true or false"))),
    }
}

fn number<T: std::str::FromStr>(name: &str, value: &str, range: &str) -> Result<T, Problem> {
    value
        .trim()
        .parse()
        .map_err(|_| Problem::bad(format!("{name}={value}: give a number {range}")))
}

fn color(name: &str, value: &str) -> Result<Background, Problem> {
    parse_color(value)
        .map(Background::Color)
        .map_err(|e| Problem::bad(format!("{name}: {e}")))
}

/// `/v1`'s query: the flags of `u2cut remove`, by the same names.
fn v1_wanted(params: &[(String, String)]) -> Result<Wanted, Problem> {
    let mut wanted = Wanted {
        product: Product::Cutout,
        options: Options::default(),
        format: Format::Png,
        quality: 90,
    };
    let (mut crop, mut margin) = (false, 0);
    let mut refining = Refining::default();
    for (name, value) in params {
        let (name, value) = (name.as_str(), value.as_str());
        match name {
            "mask" => {
                if flag(name, value)? {
                    wanted.product = Product::Mask;
                }
            }
            "format" => {
                wanted.format = match value {
                    "png" => Format::Png,
                    "webp" => Format::Webp,
                    "jpeg" | "jpg" => Format::Jpg,
                    _ => {
                        return Err(Problem::bad(format!(
                            "format={value}: give png, webp or jpeg"
                        )));
                    }
                }
            }
            "quality" => {
                wanted.quality = number(name, value, "1-100")?;
                if !(1..=100).contains(&wanted.quality) {
                    return Err(Problem::bad(format!(
                        "quality={value}: give a number 1-100"
                    )));
                }
            }
            "bg_color" => wanted.options.background = color(name, value)?,
            "crop" => crop = flag(name, value)?,
            "crop_margin" => margin = number(name, value, "of pixels")?,
            "post_process" => wanted.options.post_process = flag(name, value)?,
            "alpha_matting" => refining.alpha_matting = flag(name, value)?,
            "matting_fg_threshold" => refining.fg_threshold = Some(number(name, value, "0-255")?),
            "matting_bg_threshold" => refining.bg_threshold = Some(number(name, value, "0-255")?),
            "matting_erode" => refining.erode = Some(number(name, value, "of pixels")?),
            "matting_max_iterations" => {
                refining.max_iterations = Some(number(name, value, "of iterations")?)
            }
            "refine" if value == "guided" => refining.guided = true,
            "refine" => {
                return Err(Problem::bad(format!(
                    "refine={value}: the one refiner is `guided`"
                )));
            }
            _ => {
                return Err(Problem::bad(format!(
                    "unknown parameter `{name}`: see GET / or `u2cut serve --help`"
                )));
            }
        }
    }
    wanted.options.crop = crop.then_some(margin);
    wanted.options.matting = refining.options();
    if wanted
        .options
        .background
        .fits(wanted.format, wanted.product)
        .is_err()
    {
        return Err(Problem::bad(
            "JPEG has no alpha channel: give an opaque bg_color for a jpeg cutout, or mask=true",
        ));
    }
    Ok(wanted)
}

/// rembg's form fields: `a` (alpha matting), `af`, `ab`, `ae` (its
/// thresholds and erosion), `om` (only the mask), `ppm` (post-process),
/// `bgc` (background color), `model` (must be the loaded one).
fn api_wanted(fields: &[(String, String)], model: &str) -> Result<Wanted, Problem> {
    let mut wanted = Wanted {
        product: Product::Cutout,
        options: Options::default(),
        format: Format::Png,
        quality: 90,
    };
    let mut refining = Refining::default();
    for (name, value) in fields {
        let (name, value) = (name.as_str(), value.as_str());
        match name {
            "a" => refining.alpha_matting = flag(name, value)?,
            "af" => refining.fg_threshold = Some(number(name, value, "0-255")?),
            "ab" => refining.bg_threshold = Some(number(name, value, "0-255")?),
            "ae" => refining.erode = Some(number(name, value, "of pixels")?),
            "om" => {
                if flag(name, value)? {
                    wanted.product = Product::Mask;
                }
            }
            "ppm" => wanted.options.post_process = flag(name, value)?,
            "bgc" if value.is_empty() => {}
            "bgc" => wanted.options.background = color(name, value)?,
            "model" if value.is_empty() || value == model => {}
            "model" => {
                return Err(Problem::bad(format!(
                    "model={value}: this server runs {model} (u2cut serve -m)"
                )));
            }
            // rembg's other fields (extras, sam prompts) have no meaning here.
            _ => return Err(Problem::bad(format!("unknown field `{name}`"))),
        }
    }
    wanted.options.matting = refining.options();
    Ok(wanted)
}
