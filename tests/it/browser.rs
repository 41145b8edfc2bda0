//! `u2cut serve`'s page in a real browser: headless Chromium, driven over
//! WebDriver (Debian's chromium-driver) with fantoccini, chooses images in
//! the page's file input and waits for their results. Needs Chromium, so
//! it is ignored by plain `cargo test`; tools/test.sh installs it and runs
//! it (`U2CUT_CHROMEDRIVER` names the driver, default `chromedriver`).

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use image::DynamicImage;
use serde_json::json;

use crate::remove::{Scratch, picture};
use crate::serve::Server;

/// chromedriver on a free port; killed when dropped.
struct Driver(Child, u16);

impl Driver {
    fn start() -> Self {
        let program = std::env::var("U2CUT_CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into());
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(&program)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start {program} ({e}): apt-get install chromium chromium-driver")
            });
        Self(child, port)
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn browser(port: u16) -> Client {
    let mut args = vec!["--headless=new", "--no-sandbox", "--disable-dev-shm-usage"];
    args.push("--window-size=1200,900");
    let mut caps = serde_json::Map::new();
    caps.insert("goog:chromeOptions".into(), json!({ "args": args }));
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let connected = ClientBuilder::new(HttpConnector::new())
            .capabilities(caps.clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await;
        match connected {
            Ok(client) => return client,
            // The driver may not be listening yet.
            Err(e) if Instant::now() < deadline => {
                let _ = e;
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => panic!("no WebDriver session: {e}"),
        }
    }
}

/// The results with `data-result` (final) so far: (value, width, height, the text next to it).
async fn results(client: &Client) -> Vec<(String, u64, u64, String)> {
    let found = client
        .execute(
            "return Array.from(document.querySelectorAll('[data-result]')).map(e => \
             [e.dataset.result, e.naturalWidth, e.naturalHeight, e.tagName, \
              e.parentElement.querySelector('figcaption').textContent])",
            vec![],
        )
        .await
        .unwrap();
    found
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            assert_eq!(r[3], "IMG", "only result images carry data-result: {r}");
            (
                r[0].as_str().unwrap().to_owned(),
                r[1].as_u64().unwrap(),
                r[2].as_u64().unwrap(),
                r[4].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

async fn wait_for(client: &Client, n: usize) -> Vec<(String, u64, u64, String)> {
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let got = results(client).await;
        if got.len() >= n || Instant::now() > deadline {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[test]
#[ignore = "needs Chromium and chromium-driver: tools/test.sh runs it"]
fn the_page_removes_a_chosen_images_background() {
    let s = Scratch::new();
    let photo = s.image("photo.png", &DynamicImage::ImageRgb8(picture(72, 48)));
    let junk = s.file("junk.png", b"this is not an image");
    let server = Server::start(&s, &[]);
    let driver = Driver::start();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let client = browser(driver.1).await;
        client.goto(&server.url("/")).await.unwrap();
        let input = client.find(Locator::Css("input[type=file]")).await.unwrap();

        input.send_keys(&photo.display().to_string()).await.unwrap();
        let got = wait_for(&client, 1).await;
        assert_eq!(got.len(), 1, "{got:?}\n{}", server.log());
        assert_eq!(got[0].0, "ok", "{got:?}");
        assert_eq!((got[0].1, got[0].2), (72, 48), "the cutout's size");

        // Again, and a broken file: results are added, nothing breaks.
        input.send_keys(&photo.display().to_string()).await.unwrap();
        input.send_keys(&junk.display().to_string()).await.unwrap();
        let got = wait_for(&client, 3).await;
        assert_eq!(got.len(), 3, "{got:?}");
        let errors: Vec<_> = got.iter().filter(|r| r.0 == "error").collect();
        assert_eq!(errors.len(), 1, "{got:?}");
        assert!(errors[0].3.contains("not an image"), "{got:?}");
        assert_eq!(
            got.iter()
                .filter(|r| r.0 == "ok" && (r.1, r.2) == (72, 48))
                .count(),
            2
        );
        client.close().await.unwrap();
    });
}
