//! Outgoing mail, sent off the request path: a use case queues a message
//! and returns; a background task delivers it over SMTP, retrying
//! temporary failures. Mail carries single-use tokens, so neither its body
//! nor its links are ever logged; without ITHBAT_SMTP_URL a mail is logged
//! by recipient and subject only, and not sent.

use std::sync::Arc;
use std::time::Duration;

use lettre::message::{header::ContentType, Mailbox, MultiPart, SinglePart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use tokio::sync::Semaphore;

use crate::config::Config;

/// One message: a plain-text and an HTML rendering of the same content.
#[derive(Debug, Clone)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

#[derive(Clone)]
pub struct Mailer {
    inner: Arc<Inner>,
}

struct Inner {
    transport: Option<AsyncSmtpTransport<Tokio1Executor>>,
    from: Mailbox,
    /// SMTP sessions open at once.
    permits: Semaphore,
}

/// Waits before each retry of a temporary failure.
const RETRY_DELAYS: [Duration; 4] = [
    Duration::from_secs(1),
    Duration::from_secs(5),
    Duration::from_secs(30),
    Duration::from_secs(120),
];

impl Mailer {
    pub fn new(config: &Config) -> Result<Mailer, String> {
        let from: Mailbox = config
            .mail_from
            .parse()
            .map_err(|e| format!("ITHBAT_MAIL_FROM: {e}"))?;
        let transport = match &config.smtp_url {
            Some(url) => Some(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|e| format!("ITHBAT_SMTP_URL: {e}"))?
                    .timeout(Some(Duration::from_secs(20)))
                    .build(),
            ),
            None => None,
        };
        Ok(Mailer {
            inner: Arc::new(Inner {
                transport,
                from,
                permits: Semaphore::new(4),
            }),
        })
    }

    /// Queues `mail` for delivery and returns at once.
    pub fn send(&self, mail: Mail) {
        let inner = self.inner.clone();
        tokio::spawn(async move { inner.deliver(mail).await });
    }
}

/// The recipient's domain: enough to tell deliveries apart in logs
/// without keeping addresses there.
fn domain_of(address: &str) -> &str {
    address.rsplit_once('@').map(|(_, d)| d).unwrap_or("?")
}

impl Inner {
    async fn deliver(&self, mail: Mail) {
        let Some(transport) = &self.transport else {
            log::info!(
                "mail not sent (ITHBAT_SMTP_URL is unset): {:?} to an address at {}",
                mail.subject,
                domain_of(&mail.to)
            );
            return;
        };
        let message = match self.message(&mail) {
            Ok(m) => m,
            Err(e) => {
                log::error!("mail {:?} could not be composed: {e}", mail.subject);
                return;
            }
        };
        let _permit = self.permits.acquire().await;
        let mut delays = RETRY_DELAYS.iter();
        loop {
            match transport.send(message.clone()).await {
                Ok(_) => {
                    log::info!(
                        "mail {:?} delivered to the relay for {}",
                        mail.subject,
                        domain_of(&mail.to)
                    );
                    return;
                }
                Err(e) if e.is_permanent() => {
                    log::error!(
                        "mail {:?} for {} refused: {e}",
                        mail.subject,
                        domain_of(&mail.to)
                    );
                    return;
                }
                Err(e) => match delays.next() {
                    Some(delay) => {
                        log::warn!("mail {:?}: {e}; retrying in {delay:?}", mail.subject);
                        tokio::time::sleep(*delay).await;
                    }
                    None => {
                        log::error!(
                            "mail {:?} for {} not delivered after {} attempts: {e}",
                            mail.subject,
                            domain_of(&mail.to),
                            RETRY_DELAYS.len() + 1
                        );
                        return;
                    }
                },
            }
        }
    }

    fn message(&self, mail: &Mail) -> Result<Message, String> {
        let to: Mailbox = mail.to.parse().map_err(|e| format!("recipient: {e}"))?;
        Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(&mail.subject)
            .multipart(
                MultiPart::alternative()
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_PLAIN)
                            .body(mail.text.clone()),
                    )
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_HTML)
                            .body(mail.html.clone()),
                    ),
            )
            .map_err(|e| e.to_string())
    }
}

/// What a mail asks its reader to do, and the link that does it.
pub struct Action<'a> {
    pub to: &'a str,
    pub subject: String,
    /// Paragraphs before the link.
    pub lines: Vec<String>,
    pub button: &'a str,
    pub link: &'a str,
    /// A closing paragraph (expiry, what to do if it was not you).
    pub footer: String,
}

impl Action<'_> {
    /// The text and HTML renderings. Values are escaped in the HTML: a
    /// tenant's name is chosen by its administrators, not by us.
    pub fn compose(self) -> Mail {
        let mut text = String::new();
        for line in &self.lines {
            text.push_str(line);
            text.push_str("\n\n");
        }
        text.push_str(&format!(
            "{}:\n{}\n\n{}\n",
            self.button, self.link, self.footer
        ));
        let paragraphs: String = self
            .lines
            .iter()
            .map(|l| format!("<p>{}</p>", escape(l)))
            .collect();
        let html = format!(
            "<!DOCTYPE html><html><body style=\"font-family:-apple-system,Segoe UI,Roboto,sans-serif;\
             color:#1f2933;max-width:560px;margin:0 auto;padding:24px\">{paragraphs}\
             <p><a href=\"{link}\" style=\"display:inline-block;background:#0b7285;color:#fff;\
             padding:10px 18px;border-radius:6px;text-decoration:none\">{button}</a></p>\
             <p style=\"font-size:13px;color:#52606d\">{footer}</p>\
             <p style=\"font-size:12px;color:#7b8794\">If the button does not work, open this link: {link}</p>\
             </body></html>",
            link = escape(self.link),
            button = escape(self.button),
            footer = escape(&self.footer),
        );
        Mail {
            to: self.to.to_string(),
            subject: self.subject,
            text,
            html,
        }
    }
}

/// HTML-escapes text for element content and quoted attributes.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_is_escaped_and_text_is_not() {
        let mail = Action {
            to: "a@b.example",
            subject: "Join <Acme>".into(),
            lines: vec!["You are invited to <b>Acme</b> & co".into()],
            button: "Accept",
            link: "https://x.example/join?token=a&b=\"c\"",
            footer: "Expires soon".into(),
        }
        .compose();
        assert!(mail.text.contains("<b>Acme</b> & co"));
        assert!(mail.text.contains("https://x.example/join?token=a&b=\"c\""));
        assert!(mail.html.contains("&lt;b&gt;Acme&lt;/b&gt; &amp; co"));
        assert!(mail
            .html
            .contains("href=\"https://x.example/join?token=a&amp;b=&quot;c&quot;\""));
        assert!(!mail.html.contains("<b>"));
    }
}
