//! The server's integration tests, in one binary: each module is one area (agents, feeds,
//! staff…). One binary links the server once instead of once per area (each link is ~400 MB
//! of test executable). `abuse` and `metrics` stay binaries of their own: they set
//! process-wide environment settings (connection limits, a scrape token) that would change
//! the servers of every other test in the same process.
//!
//! Run one area: `cargo test -p server --test it feeds::`.

#[macro_use]
#[path = "../common/mod.rs"]
mod common;

mod agent_runs;
mod agents;
mod alerts;
mod api_read;
mod backup;
mod cache;
mod cli;
mod cluster;
mod demo_estate;
mod demo_partition;
mod engine;
mod export;
mod feeds;
mod http;
mod netns;
mod notify;
mod public_pages;
mod push;
mod secrets;
mod service_page;
mod shutdown;
mod staff;
mod stale;
mod totp_at_rest;
mod webhooks;
mod xss_contexts;
