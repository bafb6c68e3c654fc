//! `usher demo`: a complete usher to try without a media server. Fake Plex and Jellyfin servers
//! run in-process on loopback, usher starts on a fresh data dir already connected to them, with
//! an admin, an invite and printed links. Everything is labelled demo.

use std::path::PathBuf;

use fakes::jellyfin::{FakeJellyfin, FakeKind};
use fakes::plex::{FakePlex, demo};

use crate::Config;
use crate::servers::ServerInput;

pub struct DemoOptions {
    pub bind: String,
    pub data_dir: Option<PathBuf>,
    pub clock: crate::clock::Clock,
    /// The configuration read from the file and environment; the demo replaces the address, the
    /// data directory and where plex.tv and Telegram are, and keeps the rest (for example
    /// `allowed_origins`).
    pub config: Config,
}

pub async fn run(opts: DemoOptions) -> Result<(), String> {
    let shutdown = crate::shutdown_signal();
    let plex = FakePlex::seeded_demo()
        .await
        .map_err(|e| format!("could not start the demo Plex: {e}"))?;
    let jellyfin = FakeJellyfin::start(FakeKind::Jellyfin).await;
    // Not connected: there to try adding a server by hand.
    let emby = FakeJellyfin::start(FakeKind::Emby).await;
    let audiobookshelf = fakes::audiobookshelf::FakeAudiobookshelf::start().await;
    let navidrome = fakes::navidrome::FakeNavidrome::start().await;
    let komga = fakes::komga::FakeKomga::start().await;
    let romm = fakes::romm::FakeRomm::start().await;
    let kavita = fakes::kavita::FakeKavita::start().await;

    let (data_dir, temporary) = match opts.data_dir {
        Some(d) => (d, false),
        None => (
            std::env::temp_dir().join(format!(
                "usher-demo-{}",
                &crate::crypto::random_token()[..10]
            )),
            true,
        ),
    };
    let mut config = Config {
        bind: opts.bind.parse().map_err(|_| {
            format!(
                "--bind: `{}` is not an address like 127.0.0.1:9450",
                opts.bind
            )
        })?,
        data_dir: data_dir.clone(),
        ..opts.config
    };
    if !temporary && config.database_path().exists() {
        return Err(format!(
            "`usher demo` starts from an empty data folder, and {} already holds usher's data: \
             choose another folder, or leave out --data-dir for a demo that leaves nothing behind",
            data_dir.display()
        ));
    }
    config.plex.tv_url = plex.plex_tv_url();
    config.plex.clients_url = plex.clients_url();
    config.plex.app_url = plex.app_url();
    // A fake Telegram: the bot announces requests there and the buttons work through polling.
    let telegram = fakes::telegram::FakeTelegram::start().await;
    config.telegram_api_url = telegram.url();

    let app = crate::App::build_with_clock(config, opts.clock)
        .await
        .map_err(|e| e.to_string())?;
    let state = app.state().clone();
    let base = state.public.base();

    let password = crate::crypto::random_token()[..16].to_string();
    crate::auth::create_admin(
        &state.store,
        "demo",
        &password,
        crate::domain::Role::Owner,
        state.clock.now(),
    )
    .await
    .map_err(|e| e.to_string())?;
    let plex_id = crate::servers::add(
        &state,
        &ServerInput {
            kind: media::ServerKind::Plex.as_str().into(),
            name: "Demo Plex".into(),
            url: plex.server_url(demo::SERVER_ID),
            token: demo::OWNER_TOKEN.into(),
            ..Default::default()
        },
        "demo",
    )
    .await
    .map_err(|e| format!("could not connect the demo Plex: {e}"))?;
    let jellyfin_id = crate::servers::add(
        &state,
        &ServerInput {
            kind: media::ServerKind::Jellyfin.as_str().into(),
            name: "Demo Jellyfin".into(),
            url: jellyfin.url(),
            token: jellyfin.api_key().into(),
            ..Default::default()
        },
        "demo",
    )
    .await
    .map_err(|e| format!("could not connect the demo Jellyfin: {e}"))?;
    // Both demo servers are ticked when approving requests (a server connected later is not).
    crate::servers::set_defaults(
        &state,
        jellyfin_id,
        crate::store::servers::ServerDefaults {
            allow_downloads: false,
            allow_live_tv: false,
            allow_camera_upload: false,
            max_sessions: None,
            request_default: true,
        },
        "demo",
    )
    .await
    .map_err(|e| e.to_string())?;
    let invite = crate::invites::create(
        &state,
        &crate::invites::CreateInput {
            targets: [plex_id, jellyfin_id]
                .into_iter()
                .map(|id| crate::invites::TargetInput {
                    server_id: id,
                    libraries: None,
                    permissions: None,
                })
                .collect(),
            uses: "5".into(),
            expires: "7d".into(),
            duration: "30d".into(),
            label: "Demo invite".into(),
            ..Default::default()
        },
        "demo",
    )
    .await
    .map_err(|e| e.to_string())?;

    // A waiting request, so the queue and the bot have something to show.
    let mut settings = state.store.settings().await.map_err(|e| e.to_string())?;
    settings.owner_name = "Demo owner".into();
    settings.telegram.token_sealed = Some(state.key.seal(fakes::telegram::TOKEN));
    settings.telegram.allowed_ids = vec![fakes::telegram::OWNER_ID];
    settings.telegram.chat_id = Some(fakes::telegram::OWNER_ID);
    state
        .store
        .save_settings(&settings, state.clock.now())
        .await
        .map_err(|e| e.to_string())?;
    crate::requests::submit(
        &state,
        &crate::requests::RequestInput {
            name: "Carol (demo)".into(),
            email: "carol@example.com".into(),
            note: "Hi! Could I watch the films too?".into(),
            ..Default::default()
        },
        "127.0.0.1",
    )
    .await
    .map_err(|e| e.to_string())?;

    if temporary {
        println!(
            "usher demo is running. Everything here is fake and disappears when you stop it (Ctrl-C)."
        );
    } else {
        println!(
            "usher demo is running. Everything here is fake; what you do is kept in {} after you stop it (Ctrl-C), but the fake servers are not.",
            data_dir.display()
        );
    }
    println!();
    println!("  admin:        {base}/login   user: demo   password: {password}");
    println!(
        "  invite link:  {}",
        crate::invites::invite_url(&state, &invite.code)
    );
    println!("  join page:    {base}/join");
    println!("  request form: {base}/request   (one demo request is already waiting)");
    println!("  guide:        {base}/guide");
    println!();
    println!(
        "  demo Plex accounts to invite: {} (or sign in with Plex and approve on the fake page)",
        demo::FRIENDS
            .iter()
            .map(|f| f.2)
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!("  demo Plex:     {}", plex.server_url(demo::SERVER_ID));
    println!(
        "  demo Jellyfin: {}   API key: {}",
        jellyfin.url(),
        jellyfin.api_key()
    );
    println!(
        "  demo Emby:     {}   API key: {}   (not connected: add it under Servers)",
        emby.url(),
        emby.api_key()
    );
    println!(
        "  demo Audiobookshelf: {}   API key: {}   (not connected: add it under Servers)",
        audiobookshelf.url(),
        audiobookshelf.api_key()
    );
    let (nd_user, nd_password) = navidrome.admin_login();
    println!(
        "  demo Navidrome: {}   user: {nd_user}   password: {nd_password}   (not connected: add it under Servers)",
        navidrome.url()
    );
    println!(
        "  demo Komga: {}   API key: {}   (not connected: add it under Servers)",
        komga.url(),
        komga.api_key()
    );
    println!(
        "  demo Kavita: {}   API key: {}   (not connected: add it under Servers)",
        kavita.url(),
        kavita.api_key()
    );
    println!(
        "  demo RomM: {}   API key: {}   (not connected: add it under Servers)",
        romm.url(),
        romm.token()
    );
    println!(
        "  demo Telegram Bot API: {} (the bot posts requests to chat {}; everything is labelled demo)",
        telegram.url(),
        fakes::telegram::OWNER_ID
    );
    println!(
        "  demo Telegram chat:    {}/__fake/chat/{}   (the owner's chat with the bot: read requests and press its buttons)",
        telegram.url(),
        fakes::telegram::OWNER_ID
    );
    use std::io::Write;
    let _ = std::io::stdout().flush();

    let result = app.run_until(shutdown).await.map_err(|e| e.to_string());
    if temporary {
        let _ = std::fs::remove_dir_all(&data_dir);
    }
    drop(plex);
    drop(jellyfin);
    drop(emby);
    drop(audiobookshelf);
    drop(navidrome);
    drop(komga);
    drop(romm);
    drop(kavita);
    drop(telegram);
    result
}
