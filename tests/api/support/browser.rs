//! A real browser for the hosted pages: Debian's Chromium, headless,
//! driven through ChromeDriver's W3C WebDriver HTTP API (what Selenium
//! speaks), with a client small enough to read. `.ci/run` installs
//! `chromium` and `chromium-driver`; `ITHBAT_TEST_SKIP_BROWSER=1` skips
//! the browser tests on a machine without them (CI never sets it).
//! Screenshots go to `target/screenshots/`.

use std::path::PathBuf;
use std::time::Duration;

use base64::Engine;
use serde_json::{json, Value};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// True when the developer opted out of browser tests.
pub fn skip() -> bool {
    let skip = std::env::var("ITHBAT_TEST_SKIP_BROWSER").is_ok_and(|v| v == "1");
    if skip {
        eprintln!("skipping a browser test: ITHBAT_TEST_SKIP_BROWSER=1");
    }
    skip
}

fn binary(env: &str, default: &str) -> String {
    std::env::var(env).unwrap_or_else(|_| default.to_string())
}

pub struct Browser {
    driver: tokio::process::Child,
    http: reqwest::Client,
    base: String,
    session: String,
    profile: PathBuf,
}

impl Browser {
    /// Starts ChromeDriver on a free port and a headless Chromium with a
    /// phone-sized window and a fresh profile.
    pub async fn start() -> Browser {
        let driver_path = binary("ITHBAT_TEST_CHROMEDRIVER", "/usr/bin/chromedriver");
        let chromium = binary("ITHBAT_TEST_CHROMIUM", "/usr/bin/chromium");
        assert!(
            std::path::Path::new(&driver_path).exists() && std::path::Path::new(&chromium).exists(),
            "browser tests need {chromium} and {driver_path}: apt-get install -y chromium chromium-driver \
             (as .ci/run does), or set ITHBAT_TEST_SKIP_BROWSER=1 to skip them locally"
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = tokio::process::Command::new(&driver_path)
            .arg(format!("--port={port}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("chromedriver starts");
        let http = reqwest::Client::new();
        let base = format!("http://127.0.0.1:{port}");
        for _ in 0..100 {
            if let Ok(r) = http.get(format!("{base}/status")).send().await {
                if r.status().is_success() {
                    break;
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let profile =
            std::env::temp_dir().join(format!("ithbat-chrome-{}", uuid::Uuid::new_v4().simple()));
        let caps = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--disable-extensions",
                    "--window-size=412,915",
                    format!("--user-data-dir={}", profile.display()),
                ]
            }
        } } });
        let r: Value = http
            .post(format!("{base}/session"))
            .json(&caps)
            .send()
            .await
            .expect("new session")
            .json()
            .await
            .unwrap();
        let session = r["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {r}"))
            .to_string();
        Browser {
            driver,
            http,
            base,
            session,
            profile,
        }
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}/session/{}{path}", self.base, self.session);
        let mut rb = self.http.request(method, url);
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let r: Value = rb.send().await.unwrap().json().await.unwrap();
        if r["value"].get("error").is_some() {
            panic!("webdriver {path}: {}", r["value"]);
        }
        r["value"].clone()
    }

    pub async fn goto(&self, url: &str) {
        self.call(reqwest::Method::POST, "/url", Some(json!({ "url": url })))
            .await;
    }

    pub async fn url(&self) -> String {
        self.call(reqwest::Method::GET, "/url", None)
            .await
            .as_str()
            .unwrap()
            .to_string()
    }

    pub async fn source(&self) -> String {
        self.call(reqwest::Method::GET, "/source", None)
            .await
            .as_str()
            .unwrap()
            .to_string()
    }

    /// The element a CSS selector finds, waiting up to five seconds.
    pub async fn find(&self, css: &str) -> String {
        for _ in 0..100 {
            let url = format!("{}/session/{}/element", self.base, self.session);
            let r: Value = self
                .http
                .post(url)
                .json(&json!({ "using": "css selector", "value": css }))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            if let Some(id) = r["value"][ELEMENT].as_str() {
                return id.to_string();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("no element {css} on {}", self.source().await)
    }

    pub async fn type_into(&self, css: &str, text: &str) {
        let e = self.find(css).await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{e}/value"),
            Some(json!({ "text": text })),
        )
        .await;
    }

    pub async fn click(&self, css: &str) {
        let e = self.find(css).await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{e}/click"),
            Some(json!({})),
        )
        .await;
    }

    pub async fn text(&self, css: &str) -> String {
        let e = self.find(css).await;
        self.call(reqwest::Method::GET, &format!("/element/{e}/text"), None)
            .await
            .as_str()
            .unwrap_or("")
            .to_string()
    }

    /// Waits up to ten seconds for the URL to satisfy `pred`.
    pub async fn wait_for_url(&self, pred: impl Fn(&str) -> bool) -> String {
        for _ in 0..200 {
            let url = self.url().await;
            if pred(&url) {
                return url;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the URL never matched; at {}", self.url().await)
    }

    /// Saves a PNG screenshot as `target/screenshots/{name}.png` and returns
    /// its path.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let data = self.call(reqwest::Method::GET, "/screenshot", None).await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(data.as_str().unwrap())
            .unwrap();
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap();
        path
    }

    pub async fn quit(mut self) {
        let _ = self
            .http
            .delete(format!("{}/session/{}", self.base, self.session))
            .send()
            .await;
        let _ = self.driver.kill().await;
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}
