//! The probe crate's integration tests, in one binary (each test binary links the whole
//! crate graph): every monitor kind against real loopback servers (`kinds`), and the
//! store-free scheduler an agent uses (`checks`). The engine with its database is tested in
//! the server's tests (server/tests/it/engine.rs), next to the heartbeat route it serves.
//!
//! Run one area: `cargo test -p probe --test it kinds::`.

mod checks;
mod kinds;
