//! A TLS server on loopback whose self-signed certificate (for `localhost`) expires when the
//! test says.

use std::net::SocketAddr;
use std::sync::Arc;

use chrono::{DateTime, Datelike, Duration, Utc};
use tokio::io::AsyncReadExt;
use tokio::net::TcpListener;

/// Starts a TLS server on 127.0.0.1 whose certificate expires `days` days from today
/// (negative: expired that many days ago; rcgen dates have no time of day) and was issued 400
/// days ago. It completes handshakes, reads a few bytes and answers nothing.
pub async fn server(days: i64) -> SocketAddr {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let key = rcgen::KeyPair::generate().expect("key");
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_owned()]).expect("params");
    let ymd = |d: DateTime<Utc>| {
        rcgen::date_time_ymd(
            d.year(),
            u8::try_from(d.month()).expect("month"),
            u8::try_from(d.day()).expect("day"),
        )
    };
    params.not_before = ymd(Utc::now() - Duration::days(400));
    params.not_after = ymd(Utc::now() + Duration::days(days));
    let cert = params.self_signed(&key).expect("cert");
    let config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(
            vec![cert.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
        )
        .expect("server config");
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((s, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                if let Ok(mut tls) = acceptor.accept(s).await {
                    let mut buf = [0u8; 16];
                    let _ = tls.read(&mut buf).await;
                }
            });
        }
    });
    addr
}
