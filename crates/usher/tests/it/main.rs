//! The one integration-test binary: a harness that runs usher on port 0 with a temp data dir and
//! a manual clock, and a file per feature.

mod binary;
mod helpers;

mod access;
mod admins;
mod api;
mod audiobookshelf;
mod backup;
mod branding;
mod cli;
mod dead_ends;
mod events;
mod faults;
mod floors;
mod foundation;
mod invites;
mod kavita;
mod kept_pages;
mod komga;
mod links;
mod members;
mod navidrome;
mod notify;
mod onboarding;
mod parity;
mod passkeys;
mod profiles;
mod requests;
mod romm;
mod security;
mod servers;
mod welcome;
