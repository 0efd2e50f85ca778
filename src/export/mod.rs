//! Text and JSON-lines views of a decoded [`Capture`](crate::Capture).

pub mod frames;
pub mod jsonl;
pub mod ordered;
pub mod stream;
pub mod summary;
