//! What each command of the command line does, from its input to its output: a decode
//! driven by [`crate::pipeline::drive`] into the exporters. `main.rs` parses the command
//! line, opens the input and reports errors; the work is here.

pub mod explain;
#[cfg(feature = "live")]
pub mod live;
pub mod scripted;
