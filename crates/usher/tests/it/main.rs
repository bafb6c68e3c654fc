//! The one integration-test binary: a harness that runs usher on port 0 with a temp data dir and
//! a manual clock, and a file per feature.

mod helpers;

mod cli;
mod events;
mod foundation;
mod invites;
mod members;
mod notify;
mod requests;
mod servers;
