//! What the test suites of several crates share, so that each helper is written once: a TLS
//! server on loopback with a certificate of chosen expiry ([`tls`], for the probe's TLS checks
//! and the server's `/metrics`), and fresh PostgreSQL test databases ([`postgres`], for the
//! store's and the server's tests on both databases).
//!
//! A dev-dependency only (`publish = false`): no crate that ships may depend on it, which
//! `scripts/check-deps.sh` (run by `make lint`) checks.

pub mod postgres;
pub mod tls;
