//! The access picker the invite, profile and approval forms share: which servers, which
//! libraries, and every permission, prefilled from where the grant starts. Because the form
//! shows every permission, what comes back names every permission: nothing the owner saw is
//! silently replaced by a default.

use crate::domain::ids::*;
use minijinja::{Value, context};

use super::error::{AppError, AppResult};
use super::extract::{field, has_field};
use super::ser;
use crate::domain::access::{PermissionChanges, ServerChoice, human_filter};
use crate::state::AppState;

/// Where the picker's ticks and values start.
pub enum Start<'a> {
    /// A new invite or profile: the first server ticked, each server's default libraries and
    /// permissions.
    Defaults,
    /// A profile being edited, an approval's starting selection, or a form coming back with a
    /// mistake: exactly these servers, with their libraries and permissions.
    Chosen(&'a [ServerChoice]),
}

/// The servers as the `server_picker` macro shows them; `only` keeps the listed ones (the
/// servers that take requests, on the approval form).
pub async fn servers(
    state: &AppState,
    start: Start<'_>,
    only: Option<&[ServerId]>,
) -> AppResult<Vec<Value>> {
    let mut out = Vec::new();
    let all = state.store.servers().await?.into_iter().map(|s| s.server);
    let shown = all.filter(|s| only.is_none_or(|ids| ids.contains(&s.id)));
    for (i, s) in shown.enumerate() {
        let chosen = match &start {
            Start::Defaults => None,
            Start::Chosen(list) => list.iter().find(|c| c.server_id == s.id),
        };
        let ticked = match &start {
            Start::Defaults => i == 0,
            Start::Chosen(_) => chosen.is_some(),
        };
        let mine: Vec<String> = chosen.map(|c| c.libraries.clone()).unwrap_or_default();
        let libraries: Vec<Value> = state
            .store
            .libraries(s.id)
            .await?
            .into_iter()
            // What is offered, and what the choice holds that is still on the server.
            .filter(|l| l.present && (l.enabled || mine.contains(&l.remote_id)))
            .map(|l| {
                let ticked = match chosen {
                    Some(_) => mine.contains(&l.remote_id),
                    None => l.is_default,
                };
                context! { remote_id => l.remote_id, name => l.name, ticked }
            })
            .collect();
        let p = chosen
            .map(|c| c.permissions.clone())
            .unwrap_or_else(|| s.defaults());
        out.push(context! {
            server => ser(&s),
            ticked,
            libraries,
            caps => ser(s.kind.capabilities()),
            perm => ser(&p),
            filters => context! {
                movies => human_filter(&p.filter_movies),
                television => human_filter(&p.filter_television),
                music => human_filter(&p.filter_music),
            },
        });
    }
    Ok(out)
}

/// One server as the form sent it: its id, the ticked libraries and every permission the form
/// showed for its kind.
pub type Picked = (ServerId, Vec<String>, PermissionChanges);

/// Reads the picker: `server=ID` per ticked server; per server `lib_ID` (sharing ids),
/// `downloads_ID`, `live_tv_ID`, `camera_ID`, `home_ID` (ticked boxes), `max_sessions_ID`
/// (blank or 0: unlimited) and `filter_movies_ID`, `filter_television_ID`, `filter_music_ID`.
pub fn parse(fields: &[(String, String)]) -> Result<Vec<Picked>, AppError> {
    let mut out = Vec::new();
    for (k, v) in fields {
        if k != "server" {
            continue;
        }
        let id: ServerId = v
            .parse()
            .map_err(|_| AppError::bad_request("server ids are numbers").with_field("servers"))?;
        let libraries: Vec<String> = fields
            .iter()
            .filter(|(k, _)| *k == format!("lib_{id}"))
            .map(|(_, v)| v.clone())
            .collect();
        let ticked = |name: &str| Some(has_field(fields, &format!("{name}_{id}")));
        let given = |name: &str| {
            let key = format!("{name}_{id}");
            has_field(fields, &key).then(|| field(fields, &key).to_string())
        };
        let max_sessions = match given("max_sessions") {
            None => None,
            Some(raw) => Some(match raw.trim() {
                "" | "0" => None,
                n => Some(n.parse::<u32>().map_err(|_| {
                    AppError::bad_request("simultaneous streams is a number from 1 to 100")
                        .with_field("max_sessions")
                })?),
            }),
        };
        out.push((
            id,
            libraries,
            PermissionChanges {
                allow_downloads: ticked("downloads"),
                allow_live_tv: ticked("live_tv"),
                allow_camera_upload: ticked("camera"),
                plex_home: ticked("home"),
                max_sessions,
                filter_movies: given("filter_movies"),
                filter_television: given("filter_television"),
                filter_music: given("filter_music"),
            },
        ));
    }
    Ok(out)
}

/// What the form sent, to show it again after a mistake (unchecked: the mistake is shown
/// beside it).
pub fn echo(picked: &[Picked]) -> Vec<ServerChoice> {
    picked
        .iter()
        .map(|(server_id, libraries, changes)| {
            let mut permissions = media::Permissions::default();
            let c = changes.clone();
            permissions.allow_downloads = c.allow_downloads.unwrap_or_default();
            permissions.allow_live_tv = c.allow_live_tv.unwrap_or_default();
            permissions.allow_camera_upload = c.allow_camera_upload.unwrap_or_default();
            permissions.plex_home = c.plex_home.unwrap_or_default();
            permissions.max_sessions = c.max_sessions.flatten();
            permissions.filter_movies = c.filter_movies.unwrap_or_default();
            permissions.filter_television = c.filter_television.unwrap_or_default();
            permissions.filter_music = c.filter_music.unwrap_or_default();
            ServerChoice {
                server_id: *server_id,
                libraries: libraries.clone(),
                permissions,
            }
        })
        .collect()
}
