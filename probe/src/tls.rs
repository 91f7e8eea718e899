//! TLS certificate probes: handshake (verifying the chain unless `tls_verify = false`), then
//! days to expiry of the leaf certificate: degraded below `days_degraded` (default 21), down
//! below `days_down` (default 7), when expired, or when the chain is invalid.

use std::net::IpAddr;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use chrono::{DateTime, Utc};
use domain::config::{Monitor, TlsSettings};
use domain::status::CheckOutcome;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio_rustls::TlsConnector;

use crate::{split_host_port, tcp, ProbeResult};

const DEFAULT_DAYS_DEGRADED: u32 = 21;
const DEFAULT_DAYS_DOWN: u32 = 7;

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn config(verify: bool) -> Option<Arc<ClientConfig>> {
    static VERIFYING: OnceLock<Option<Arc<ClientConfig>>> = OnceLock::new();
    static TRUSTING: OnceLock<Option<Arc<ClientConfig>>> = OnceLock::new();
    let cell = if verify { &VERIFYING } else { &TRUSTING };
    cell.get_or_init(|| {
        let builder = ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .ok()?;
        let cfg = if verify {
            let roots = RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            };
            builder.with_root_certificates(roots).with_no_client_auth()
        } else {
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(AcceptAny))
                .with_no_client_auth()
        };
        Some(Arc::new(cfg))
    })
    .clone()
}

/// Runs one TLS check at `now` (the caller applies the timeout).
pub async fn check(
    monitor: &Monitor,
    s: &TlsSettings,
    source: Option<IpAddr>,
    now: DateTime<Utc>,
) -> ProbeResult {
    let started = Instant::now();
    let Some((host, _)) = split_host_port(&monitor.target, 443) else {
        return ProbeResult::down(format!("invalid target {:?}", monitor.target));
    };
    let Ok(name) = ServerName::try_from(host.clone()) else {
        return ProbeResult::down(format!("invalid server name {host:?}"));
    };
    let Some(cfg) = config(s.tls_verify.unwrap_or(true)) else {
        return ProbeResult::down("TLS is not available");
    };
    let stream = match tcp::connect(&monitor.target, 443, source).await {
        Ok(s) => s,
        Err(reason) => return ProbeResult::down(reason).with_latency(started.elapsed()),
    };
    let tls = match TlsConnector::from(cfg).connect(name, stream).await {
        Ok(t) => t,
        Err(e) => {
            return ProbeResult::down(format!("TLS handshake failed: {e}"))
                .with_latency(started.elapsed())
        }
    };
    let latency = started.elapsed();
    let Some(leaf) = tls.get_ref().1.peer_certificates().and_then(|c| c.first()) else {
        return ProbeResult::down("no certificate presented").with_latency(latency);
    };
    let not_after = match x509_parser::parse_x509_certificate(leaf.as_ref()) {
        Ok((_, cert)) => cert.validity().not_after.timestamp(),
        Err(e) => return ProbeResult::down(format!("unreadable certificate: {e}")),
    };
    let Some(expires) = DateTime::<Utc>::from_timestamp(not_after, 0) else {
        return ProbeResult::down("certificate expiry out of range");
    };
    let days = (expires - now).num_days();
    let day = expires.format("%Y-%m-%d");
    let down_below = i64::from(s.days_down.unwrap_or(DEFAULT_DAYS_DOWN));
    let degraded_below = i64::from(s.days_degraded.unwrap_or(DEFAULT_DAYS_DEGRADED));
    let (outcome, reason) = if expires <= now {
        (CheckOutcome::Down, format!("certificate expired on {day}"))
    } else if days < down_below {
        (
            CheckOutcome::Down,
            format!("certificate expires in {days} days ({day})"),
        )
    } else if days < degraded_below {
        (
            CheckOutcome::Degraded,
            format!("certificate expires in {days} days ({day})"),
        )
    } else {
        (
            CheckOutcome::Up,
            format!("certificate valid for {days} days ({day})"),
        )
    };
    ProbeResult {
        outcome,
        latency: Some(latency),
        status_code: None,
        reason: Some(reason),
        certificate_expires: Some(expires),
    }
}

/// `tls_verify = false`: accept any chain, still read its dates.
#[derive(Debug)]
struct AcceptAny;

impl ServerCertVerifier for AcceptAny {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }

    fn verify_tls13_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        provider()
            .signature_verification_algorithms
            .supported_schemes()
    }
}
