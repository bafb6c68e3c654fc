//! Telling people things: email to requesters and members. Sending never blocks the action that
//! caused it: callers spawn it, and failures are logged and recorded as events.

pub mod email;
