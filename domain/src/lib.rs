//! Vigie's pure core: the words a status page speaks (statuses, indicators), the catalog
//! configuration and its validation, locale negotiation and the DTOs the browser receives,
//! and the probe engine's rules (confirmation, quorum, topology rollup, uptime maths).
//!
//! Invariant: nothing here does I/O or reads the clock; `now` is always passed in. The crate
//! compiles for wasm32 so the hydrated page shares these types with the server.

pub mod agent;
pub mod availability;
pub mod banner;
pub mod chart;
pub mod config;
pub mod dates;
pub mod incident;
pub mod late;
pub mod limits;
pub mod locale;
pub mod monitor_state;
pub mod page;
pub mod quorum;
pub mod reason;
pub mod staff;
pub mod status;
pub mod statuspage;
pub mod topology;
pub mod uptime;
