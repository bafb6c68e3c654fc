//! `usher events`: the audit log from a terminal, with the Events page's filters, as a table,
//! JSON or CSV.

use crate::state::AppState;
use crate::store::events::EventPage;
use crate::web::error::for_terminal;

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Part of who did it
    #[arg(long, default_value = "")]
    actor: String,
    /// An action (request.approved) or a family (request.*)
    #[arg(long, default_value = "")]
    action: String,
    /// A member id or part of a name or email
    #[arg(long, default_value = "")]
    member: String,
    /// A server's name
    #[arg(long)]
    server: Option<String>,
    /// From this day (2026-11-01, UTC)
    #[arg(long, default_value = "")]
    from: String,
    /// Through this day (2026-11-30, UTC)
    #[arg(long, default_value = "")]
    to: String,
    /// How many, newest first (without --csv)
    #[arg(long, default_value_t = 50)]
    limit: i64,
    #[arg(long, conflicts_with = "csv")]
    json: bool,
    /// Every matching event as CSV
    #[arg(long)]
    csv: bool,
}

pub async fn run(state: &AppState, a: Args) -> Result<(), String> {
    let store_err = |e: crate::store::StoreError| for_terminal(&state.i18n, &e);
    let server = match &a.server {
        None => String::new(),
        Some(name) => state
            .store
            .server_by_name(name)
            .await
            .map_err(store_err)?
            .ok_or_else(|| format!("no server named `{name}`: see `usher server list`"))?
            .id
            .to_string(),
    };
    let filters = super::Filters {
        actor: a.actor,
        action: a.action,
        member: a.member,
        server,
        from: a.from,
        to: a.to,
        ..Default::default()
    };
    let query = filters
        .query(
            state,
            crate::ui::i18n::DEFAULT_LANG,
            &crate::clock::Zone::utc(),
        )
        .map_err(|e| {
            let field = e.field.map(|f| format!("--{f}: ")).unwrap_or_default();
            format!(
                "{field}{}",
                e.detail
                    .unwrap_or_else(|| state.i18n.text("en", e.message_key))
            )
        })?;
    if a.csv {
        print!("{}\r\n", super::CSV_HEADER);
        let mut start = EventPage::Newest;
        loop {
            let rows = state
                .store
                .list_events(&query, start, super::CSV_BATCH)
                .await
                .map_err(store_err)?;
            for r in &rows {
                print!("{}", super::csv_line(r));
            }
            match rows.last() {
                Some(last) if rows.len() as i64 == super::CSV_BATCH => {
                    start = EventPage::Before(last.event.id)
                }
                _ => break,
            }
        }
        return Ok(());
    }
    if !(1..=10_000).contains(&a.limit) {
        return Err("--limit is a number from 1 to 10000".into());
    }
    let rows = state
        .store
        .list_events(&query, EventPage::Newest, a.limit)
        .await
        .map_err(store_err)?;
    if a.json {
        let out: Vec<_> = rows.iter().map(super::api::event_json).collect();
        println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
    } else if rows.is_empty() {
        println!("no events match");
    } else {
        for r in &rows {
            let e = &r.event;
            println!(
                "{}  {:<24} {:<28} {}{}",
                crate::clock::rfc3339(e.at),
                e.actor.chars().take(24).collect::<String>(),
                e.action,
                e.subject.as_deref().unwrap_or_default(),
                e.detail
                    .as_deref()
                    .map(|d| format!(" ({d})"))
                    .unwrap_or_default()
            );
        }
    }
    Ok(())
}
