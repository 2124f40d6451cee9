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
/// Every wait polls this often, up to ten seconds in all.
const POLL: Duration = Duration::from_millis(50);
const RETRIES: usize = 200;

/// Errors that mean the page changed under the command (W3C WebDriver
/// error codes): find the element again on the page that replaced it.
fn replaced(code: &str) -> bool {
    matches!(
        code,
        "stale element reference" | "no such element" | "detached shadow root"
    )
}

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

    /// One WebDriver command; `Err` carries the W3C error code (e.g.
    /// "stale element reference") and message.
    async fn try_call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, (String, String)> {
        let url = format!("{}/session/{}{path}", self.base, self.session);
        let mut rb = self.http.request(method, url);
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let r: Value = rb.send().await.unwrap().json().await.unwrap();
        match r["value"].get("error") {
            Some(e) => Err((
                e.as_str().unwrap_or("").to_string(),
                r["value"]["message"].as_str().unwrap_or("").to_string(),
            )),
            None => Ok(r["value"].clone()),
        }
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        match self.try_call(method, path, body).await {
            Ok(v) => v,
            Err((code, message)) => panic!("webdriver {path}: {code}: {message}"),
        }
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
        // The page may be replaced while it is read; ask again.
        for _ in 0..RETRIES {
            if let Ok(v) = self.try_call(reqwest::Method::GET, "/source", None).await {
                return v.as_str().unwrap_or("").to_string();
            }
            tokio::time::sleep(POLL).await;
        }
        String::new()
    }

    /// The element a CSS selector finds now, if any.
    async fn try_find(&self, css: &str) -> Option<String> {
        let found = self
            .try_call(
                reqwest::Method::POST,
                "/element",
                Some(json!({ "using": "css selector", "value": css })),
            )
            .await
            .ok()?;
        found[ELEMENT].as_str().map(str::to_string)
    }

    /// Runs `act` on the element `css` finds, finding it again whenever
    /// the page replaced it in between (a navigation that had not
    /// finished), for up to ten seconds.
    async fn on_element(
        &self,
        css: &str,
        method: reqwest::Method,
        suffix: &str,
        body: Option<Value>,
    ) -> Value {
        let mut last = (String::from("no such element"), String::new());
        for _ in 0..RETRIES {
            if let Some(e) = self.try_find(css).await {
                match self
                    .try_call(
                        method.clone(),
                        &format!("/element/{e}{suffix}"),
                        body.clone(),
                    )
                    .await
                {
                    Ok(v) => return v,
                    Err(err) if replaced(&err.0) => last = err,
                    Err((code, message)) => panic!("webdriver {css}{suffix}: {code}: {message}"),
                }
            }
            tokio::time::sleep(POLL).await;
        }
        panic!(
            "{css}{suffix}: {}: {} on {}",
            last.0,
            last.1,
            self.source().await
        )
    }

    pub async fn type_into(&self, css: &str, text: &str) {
        self.on_element(
            css,
            reqwest::Method::POST,
            "/value",
            Some(json!({ "text": text })),
        )
        .await;
    }

    /// Clicks a button or link that leaves the page, and returns once the
    /// browser has replaced the page (the old document's element is
    /// stale), so that what is read next belongs to the page that came.
    pub async fn click(&self, css: &str) {
        let old = self.document().await;
        self.on_element(css, reqwest::Method::POST, "/click", Some(json!({})))
            .await;
        for _ in 0..RETRIES {
            let still = self
                .try_call(reqwest::Method::GET, &format!("/element/{old}/name"), None)
                .await;
            if matches!(&still, Err((code, _)) if replaced(code)) {
                return;
            }
            tokio::time::sleep(POLL).await;
        }
        panic!("clicking {css} did not leave {}", self.url().await)
    }

    /// The current document's root element.
    async fn document(&self) -> String {
        for _ in 0..RETRIES {
            if let Some(e) = self.try_find("html").await {
                return e;
            }
            tokio::time::sleep(POLL).await;
        }
        panic!("no document at {}", self.url().await)
    }

    /// The text of the element `css` finds, once it contains `needle`
    /// (waiting up to ten seconds, through navigations still under way).
    pub async fn text_containing(&self, css: &str, needle: &str) -> String {
        let mut text = String::new();
        for _ in 0..RETRIES {
            text = self
                .on_element(css, reqwest::Method::GET, "/text", None)
                .await
                .as_str()
                .unwrap_or("")
                .to_string();
            if text.contains(needle) {
                return text;
            }
            tokio::time::sleep(POLL).await;
        }
        panic!(
            "{css} never contained {needle:?}; last read {text:?} at {}",
            self.url().await
        )
    }

    /// Waits up to ten seconds for the URL to satisfy `pred`.
    pub async fn wait_for_url(&self, pred: impl Fn(&str) -> bool) -> String {
        for _ in 0..RETRIES {
            let url = self.url().await;
            if pred(&url) {
                return url;
            }
            tokio::time::sleep(POLL).await;
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
