//! The `vigie` server: command line, configuration loading, HTTP router and embedded assets.
//! `main.rs` only parses arguments and calls [`cli::run`].

pub mod admin;
pub mod api;
pub mod assets;
pub mod auth;
pub mod badge;
pub mod cache;
pub mod changes;
pub mod cli;
pub mod cluster;
pub mod conditional;
pub mod config;
pub mod demo_command;
pub mod export;
pub mod feeds;
pub mod headers;
pub mod health;
pub mod ical;
pub mod instance_key;
pub mod key_command;
pub mod limits;
pub mod live;
pub mod markdown;
pub mod metrics;
pub mod page_html;
pub mod probing;
pub mod push_token_command;
pub mod stale;
pub mod startup;
pub mod state;
pub mod subscribe;
pub mod telemetry;
pub mod token_command;
pub mod vary;
