//! Telegram messages and buttons, without I/O. Callback data carries only an action and ids,
//! always within Telegram's 64 bytes; what is selected lives in the database.

use crate::domain::ids::*;
use serde_json::{Value, json};

/// What a button press asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Callback {
    Approve(RequestId),
    Decline(RequestId),
    /// Toggle one library (by its row id) in the request's picker.
    Toggle(RequestId, i64),
    Send(RequestId),
    Cancel(RequestId),
    Retry(RequestId),
    /// Approve with a profile (by its id).
    Profile(RequestId, ProfileId),
}

impl Callback {
    pub fn encode(self) -> String {
        match self {
            Callback::Approve(r) => format!("a:{r}"),
            Callback::Decline(r) => format!("d:{r}"),
            Callback::Toggle(r, l) => format!("t:{r}:{l}"),
            Callback::Send(r) => format!("s:{r}"),
            Callback::Cancel(r) => format!("c:{r}"),
            Callback::Retry(r) => format!("r:{r}"),
            Callback::Profile(r, p) => format!("p:{r}:{p}"),
        }
    }

    /// Parses callback data; anything else (old formats, forged data) is `None`.
    pub fn parse(data: &str) -> Option<Callback> {
        if data.len() > 64 {
            return None;
        }
        let mut parts = data.split(':');
        let kind = parts.next()?;
        let id = RequestId(parts.next()?.parse().ok().filter(|n: &i64| *n > 0)?);
        let extra = parts.next();
        if parts.next().is_some() {
            return None;
        }
        let cb = match (kind, extra) {
            ("a", None) => Callback::Approve(id),
            ("d", None) => Callback::Decline(id),
            ("s", None) => Callback::Send(id),
            ("c", None) => Callback::Cancel(id),
            ("r", None) => Callback::Retry(id),
            ("t", Some(l)) => Callback::Toggle(id, l.parse().ok().filter(|n: &i64| *n > 0)?),
            ("p", Some(p)) => {
                Callback::Profile(id, ProfileId(p.parse().ok().filter(|n: &i64| *n > 0)?))
            }
            _ => return None,
        };
        Some(cb)
    }

    pub fn request_id(self) -> RequestId {
        match self {
            Callback::Approve(r)
            | Callback::Decline(r)
            | Callback::Toggle(r, _)
            | Callback::Send(r)
            | Callback::Cancel(r)
            | Callback::Retry(r)
            | Callback::Profile(r, _) => r,
        }
    }
}

fn button(text: &str, cb: Callback) -> Value {
    json!({ "text": text, "callback_data": cb.encode() })
}

/// ✅ Approve / ❌ Decline under a new request, and one "✅ NAME" button per profile.
pub fn request_keyboard(
    request: RequestId,
    approve: &str,
    decline: &str,
    profiles: &[(ProfileId, String)],
) -> Value {
    let mut rows = vec![json!([
        button(&format!("✅ {approve}"), Callback::Approve(request)),
        button(&format!("❌ {decline}"), Callback::Decline(request)),
    ])];
    for pair in profiles.chunks(2) {
        rows.push(Value::Array(
            pair.iter()
                .map(|(id, name)| button(&format!("✅ {name}"), Callback::Profile(request, *id)))
                .collect(),
        ));
    }
    json!({ "inline_keyboard": rows })
}

/// One toggle per library, then send and cancel.
pub fn picker_keyboard(
    request: RequestId,
    libraries: &[(i64, String, bool)],
    send: &str,
    cancel: &str,
) -> Value {
    let mut rows: Vec<Value> = libraries
        .iter()
        .map(|(id, label, on)| {
            json!([button(
                &format!("{} {label}", if *on { "✅" } else { "☐" }),
                Callback::Toggle(request, *id)
            )])
        })
        .collect();
    rows.push(json!([
        button(&format!("📤 {send}"), Callback::Send(request)),
        button(&format!("🚫 {cancel}"), Callback::Cancel(request)),
    ]));
    json!({ "inline_keyboard": rows })
}

pub fn retry_keyboard(request: RequestId, retry: &str) -> Value {
    json!({ "inline_keyboard": [[button(&format!("🔁 {retry}"), Callback::Retry(request))]] })
}

/// Escapes text for Telegram's HTML parse mode.
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callbacks_round_trip_and_stay_within_64_bytes() {
        let all = [
            Callback::Approve(RequestId(i64::MAX)),
            Callback::Decline(RequestId(1)),
            Callback::Toggle(RequestId(i64::MAX), i64::MAX),
            Callback::Send(RequestId(7)),
            Callback::Cancel(RequestId(7)),
            Callback::Retry(RequestId(7)),
            Callback::Profile(RequestId(i64::MAX), ProfileId(i64::MAX)),
        ];
        for cb in all {
            let data = cb.encode();
            assert!(data.len() <= 64, "{data}");
            assert_eq!(Callback::parse(&data), Some(cb));
        }
    }

    #[test]
    fn junk_callback_data_is_ignored() {
        for bad in [
            "",
            "a",
            "a:",
            "a:x",
            "a:0",
            "a:-1",
            "t:1",
            "t:1:x",
            "a:1:2",
            "x:1",
            "s:1:2:3",
            &"a:1".repeat(30),
        ] {
            assert_eq!(Callback::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_picker_marks_selected_libraries() {
        let k = picker_keyboard(
            RequestId(3),
            &[(10, "Movies".into(), true), (11, "Music".into(), false)],
            "Send invite",
            "Cancel",
        );
        let rows = k["inline_keyboard"].as_array().unwrap();
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0][0]["text"], "✅ Movies");
        assert_eq!(rows[1][0]["text"], "☐ Music");
        assert_eq!(rows[1][0]["callback_data"], "t:3:11");
        assert_eq!(rows[2][0]["callback_data"], "s:3");
    }
}
