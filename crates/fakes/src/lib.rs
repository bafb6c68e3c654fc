//! Faithful in-process fakes of the services usher talks to, and of the receivers it notifies
//! (Discord webhooks, a generic signed webhook).
//!
//! Each fake listens on 127.0.0.1 port 0, keeps state, validates what the real service validates,
//! records every request, and can be told to fail the next call on a path or to add latency.
//! Tests and `usher demo` use them; nothing here is reachable from outside loopback.

pub mod audiobookshelf;
pub mod control;
pub mod discord;
pub mod jellyfin;
pub mod kavita;
pub mod komga;
pub mod navidrome;
pub mod plex;
pub mod romm;
pub mod smtp;
pub mod telegram;
pub mod webhook;

pub use control::{Control, Recorded, Running};
