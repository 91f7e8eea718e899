//! Checks of the code's shape that neither rustc nor clippy make, run as tests
//! (`cargo test -p lints`, part of `make lint`).
//!
//! [`imports`]: no two modules of a crate import each other, directly or around a loop. A
//! module is a top-level module of a crate: a file `src/x.rs` or a folder `src/x/`. Files
//! inside one folder may share helpers freely; between modules, dependencies go one way, so
//! each module can be read, tested and moved on its own.
//!
//! The check reads the source text rather than the compiler's view: rustc accepts loops, and
//! no maintained crate reports module dependencies without a nightly compiler. A `crate::x`
//! path outside comments and string literals is a reference to module `x`, whether in a `use`
//! line or inline.

//!
//! [`purity`]: `domain` does no I/O and never reads the clock.
//!
//! [`length`]: no source file holds more than 600 lines of code before its tests, unless its
//! first doc comment says why ("Long because …").
//!
//! [`escaping`]: no HTML or XML escaped by hand, outside a short list of reasons.

pub mod escaping;
pub mod imports;
pub mod length;
pub mod purity;
