//! Reporting the outcome to a `backup`-flavour push monitor, its token kept out of the logs.

use anyhow::bail;

use crate::restoring::Verified;
use crate::Manifest;

/// The heartbeat a `backup`-flavour push monitor expects.
pub(crate) fn report_payload(
    made: &anyhow::Result<Manifest>,
    checked: Option<&anyhow::Result<Verified>>,
) -> serde_json::Value {
    match (made, checked) {
        (Ok(m), Some(Ok(v))) => serde_json::json!({
            "verified": v.matches(),
            "bytes": m.bytes,
            "sha256": m.sha256,
            "restored_in_s": (v.seconds * 10.0).round() / 10.0,
            "msg": if v.matches() { None } else { Some("row counts differ after restore") },
        }),
        (Ok(m), Some(Err(e))) => serde_json::json!({
            "verified": false,
            "bytes": m.bytes,
            "sha256": m.sha256,
            "msg": short(&format!("does not restore: {e:#}")),
        }),
        (Ok(m), None) => serde_json::json!({
            "verified": false, "bytes": m.bytes, "sha256": m.sha256, "msg": "not verified",
        }),
        (Err(e), _) => serde_json::json!({
            "verified": false,
            "msg": short(&format!("backup failed: {e:#}")),
        }),
    }
}

/// The push endpoint takes at most 1,000 bytes of message.
pub(crate) fn short(s: &str) -> String {
    let mut end = s.len().min(900);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_owned()
}

pub(crate) async fn send_report(url: &str, payload: &serde_json::Value) -> anyhow::Result<()> {
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .build()?;
    let response = client.post(url).json(payload).send().await?;
    let status = response.status();
    if !status.is_success() {
        let body = response.text().await.unwrap_or_default();
        bail!("{status}: {}", short(body.trim()));
    }
    Ok(())
}

/// A push URL holds its token in the path: logs show only the scheme and host.
pub(crate) fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(u) => format!("{}://{}/…", u.scheme(), u.host_str().unwrap_or("?")),
        Err(_) => "the given URL".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_url_token_is_not_shown() {
        assert_eq!(
            redact("https://status.example/api/v1/push/secret-token"),
            "https://status.example/…"
        );
    }
}
