//! A real SMTP server on 127.0.0.1 for the tests: `tests/support/smtp_sink.py` (aiosmtpd),
//! started per test, and readers for what it received.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A running sink; stopped when dropped.
pub struct Sink {
    pub port: u16,
    dir: tempfile::TempDir,
    child: Child,
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One received mail.
#[derive(Clone, Debug)]
pub struct Mail {
    pub raw: String,
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

impl Mail {
    /// A header's value as written.
    pub fn header(&self, name: &str) -> Option<String> {
        let parsed = mail_parser::MessageParser::default().parse(self.raw.as_bytes())?;
        parsed
            .header_raw(name)
            .map(|v| v.trim().replace(['\r', '\n'], ""))
    }

    /// The first address in the text part that starts with `prefix`.
    pub fn link(&self, prefix: &str) -> Option<String> {
        let start = self.text.find(prefix)?;
        let rest = &self.text[start..];
        let end = rest
            .find(|c: char| c.is_whitespace() || c == '>' || c == '"')
            .unwrap_or(rest.len());
        Some(rest[..end].to_owned())
    }
}

impl Sink {
    /// Starts the sink with extra arguments (`--fail-first N`, `--delay S`).
    pub fn start(args: &[&str]) -> Sink {
        let dir = tempfile::tempdir().expect("temp dir");
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/support/smtp_sink.py");
        let mut child = Command::new("python3")
            .arg(script)
            .arg("--dir")
            .arg(dir.path())
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 runs (make setup installs aiosmtpd)");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("the sink prints its port");
        let port = line.trim().parse().unwrap_or_else(|_| {
            panic!("the sink did not start (is aiosmtpd installed?): {line:?}")
        });
        Sink { port, dir, child }
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Every mail received so far, oldest first.
    pub fn mails(&self) -> Vec<Mail> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(self.dir.path())
            .expect("sink dir")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .collect();
        names.sort();
        names
            .into_iter()
            .map(|p| {
                let raw = std::fs::read_to_string(&p).expect("mail");
                let parsed = mail_parser::MessageParser::default()
                    .parse(raw.as_bytes())
                    .expect("a parsable mail");
                Mail {
                    to: raw
                        .lines()
                        .next()
                        .and_then(|l| l.strip_prefix("X-Rcpt-To: "))
                        .unwrap_or("")
                        .to_owned(),
                    subject: parsed.subject().unwrap_or("").to_owned(),
                    text: parsed
                        .body_text(0)
                        .map(|t| t.into_owned())
                        .unwrap_or_default(),
                    html: parsed
                        .body_html(0)
                        .map(|t| t.into_owned())
                        .unwrap_or_default(),
                    raw,
                }
            })
            .collect()
    }

    /// Waits until at least `n` mails arrived (30 s at most), and returns them all.
    pub async fn wait_for(&self, n: usize) -> Vec<Mail> {
        for _ in 0..300 {
            let mails = self.mails();
            if mails.len() >= n {
                return mails;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{n} mails expected, {} arrived", self.mails().len());
    }
}
