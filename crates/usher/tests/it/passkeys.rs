//! Passkeys end to end against a software authenticator that signs as a real one does (ES256,
//! "none" attestation): registering on the account page, signing in with a passkey alone, as
//! the step after a password, and what must be refused (a replayed answer, a forged signature,
//! a removed passkey, a counter that went back, an address where passkeys cannot work).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::helpers::*;

// ---- A software authenticator ----

/// CBOR, as much of it as an attestation needs: a head is the major type and a length.
fn cbor_head(major: u8, len: u64) -> Vec<u8> {
    let m = major << 5;
    match len {
        0..=23 => vec![m | len as u8],
        24..=0xff => vec![m | 24, len as u8],
        0x100..=0xffff => {
            let mut v = vec![m | 25];
            v.extend_from_slice(&(len as u16).to_be_bytes());
            v
        }
        _ => {
            let mut v = vec![m | 26];
            v.extend_from_slice(&(len as u32).to_be_bytes());
            v
        }
    }
}

fn cbor_int(n: i64) -> Vec<u8> {
    if n >= 0 {
        cbor_head(0, n as u64)
    } else {
        cbor_head(1, (-1 - n) as u64)
    }
}

fn cbor_bytes(b: &[u8]) -> Vec<u8> {
    let mut v = cbor_head(2, b.len() as u64);
    v.extend_from_slice(b);
    v
}

fn cbor_text(t: &str) -> Vec<u8> {
    let mut v = cbor_head(3, t.len() as u64);
    v.extend_from_slice(t.as_bytes());
    v
}

fn cbor_map(pairs: &[(Vec<u8>, Vec<u8>)]) -> Vec<u8> {
    let mut v = cbor_head(5, pairs.len() as u64);
    for (k, val) in pairs {
        v.extend_from_slice(k);
        v.extend_from_slice(val);
    }
    v
}

/// One passkey on a device: a P-256 key, its credential id, the account handle it was made for
/// and its signature counter.
struct SoftPasskey {
    key: SigningKey,
    id: Vec<u8>,
    user_handle: Vec<u8>,
    counter: u32,
    origin: String,
}

/// User present, user verified: the face, finger or PIN checked.
const UP_UV: u8 = 0x01 | 0x04;
const ATTESTED: u8 = 0x40;

impl SoftPasskey {
    fn rp_hash(options: &Value) -> Vec<u8> {
        let rp_id = options["publicKey"]["rpId"]
            .as_str()
            .or(options["publicKey"]["rp"]["id"].as_str())
            .expect("the relying party's id");
        Sha256::digest(rp_id.as_bytes()).to_vec()
    }

    fn client_data(kind: &str, options: &Value, origin: &str) -> Vec<u8> {
        json!({
            "type": kind,
            "challenge": options["publicKey"]["challenge"],
            "origin": origin,
            "crossOrigin": false,
        })
        .to_string()
        .into_bytes()
    }

    /// A key of its own, from `seed`.
    fn key(seed: u8) -> SigningKey {
        SigningKey::from_slice(&Sha256::digest([seed, 0x5a])).unwrap()
    }

    /// The same passkey id and account, signed by another key: what a forger has.
    fn forged(&self, seed: u8) -> SoftPasskey {
        SoftPasskey {
            key: Self::key(seed),
            id: self.id.clone(),
            user_handle: self.user_handle.clone(),
            counter: self.counter,
            origin: self.origin.clone(),
        }
    }

    /// Answers a registration challenge the way `navigator.credentials.create` would.
    fn create(options: &Value, origin: &str, seed: u8) -> (SoftPasskey, Value) {
        let key = Self::key(seed);
        let id = Sha256::digest([seed, 0xc1]).to_vec();
        let user_handle = B64
            .decode(options["publicKey"]["user"]["id"].as_str().unwrap())
            .unwrap();
        let point = key.verifying_key().to_sec1_bytes();
        assert_eq!(point.len(), 65, "an uncompressed point");
        let cose = cbor_map(&[
            (cbor_int(1), cbor_int(2)),  // kty: EC2
            (cbor_int(3), cbor_int(-7)), // alg: ES256
            (cbor_int(-1), cbor_int(1)), // crv: P-256
            (cbor_int(-2), cbor_bytes(&point[1..33])),
            (cbor_int(-3), cbor_bytes(&point[33..65])),
        ]);
        let mut auth_data = Self::rp_hash(options);
        auth_data.push(UP_UV | ATTESTED);
        auth_data.extend_from_slice(&0u32.to_be_bytes());
        auth_data.extend_from_slice(&[0; 16]); // no AAGUID
        auth_data.extend_from_slice(&(id.len() as u16).to_be_bytes());
        auth_data.extend_from_slice(&id);
        auth_data.extend_from_slice(&cose);
        let attestation = cbor_map(&[
            (cbor_text("fmt"), cbor_text("none")),
            (cbor_text("attStmt"), cbor_map(&[])),
            (cbor_text("authData"), cbor_bytes(&auth_data)),
        ]);
        let answer = json!({
            "id": B64.encode(&id),
            "rawId": B64.encode(&id),
            "type": "public-key",
            "response": {
                "attestationObject": B64.encode(&attestation),
                "clientDataJSON": B64.encode(Self::client_data("webauthn.create", options, origin)),
                "transports": ["internal"],
            },
            "extensions": {},
        });
        let passkey = SoftPasskey {
            key,
            id,
            user_handle,
            counter: 0,
            origin: origin.to_string(),
        };
        (passkey, answer)
    }

    /// Answers a sign-in challenge the way `navigator.credentials.get` would.
    fn get(&mut self, options: &Value) -> Value {
        self.counter += 1;
        self.sign(options, self.counter)
    }

    fn sign(&self, options: &Value, counter: u32) -> Value {
        let client_data = Self::client_data("webauthn.get", options, &self.origin);
        let mut auth_data = Self::rp_hash(options);
        auth_data.push(UP_UV);
        auth_data.extend_from_slice(&counter.to_be_bytes());
        let mut signed = auth_data.clone();
        signed.extend_from_slice(&Sha256::digest(&client_data));
        let signature: Signature = self.key.sign(&signed);
        json!({
            "id": B64.encode(&self.id),
            "rawId": B64.encode(&self.id),
            "type": "public-key",
            "response": {
                "authenticatorData": B64.encode(&auth_data),
                "clientDataJSON": B64.encode(&client_data),
                "signature": B64.encode(signature.to_der().to_bytes()),
                "userHandle": B64.encode(&self.user_handle),
            },
            "extensions": {},
        })
    }
}

// ---- The pages' side, as the script drives it ----

/// Gives usher a public address passkeys can work at: `http://localhost:{port}`.
async fn on_localhost(app: &TestApp) -> String {
    let port = app.base.rsplit(':').next().unwrap();
    let origin = format!("http://localhost:{port}");
    app.state
        .public
        .save(
            &app.state.store,
            Some(usher::domain::base_url::BaseUrl::parse(&origin).unwrap()),
            app.clock.now(),
        )
        .await
        .unwrap();
    origin
}

/// Asks for a challenge as the page's script does: a POST with the CSRF token in a header.
async fn challenge(app: &TestApp, client: &reqwest::Client, path: &str) -> (StatusCode, Value) {
    let token = app.csrf_for(client).await;
    let res = client
        .post(app.url(path))
        .header("x-csrf-token", token)
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    (res.status(), res.json().await.unwrap())
}

/// Posts a browser's answer to the challenge `body` (from [`challenge`]).
async fn send_answer(
    app: &TestApp,
    client: &reqwest::Client,
    path: &str,
    body: &Value,
    credential: &str,
) -> reqwest::Response {
    let ceremony = body["ceremony"].as_str().unwrap();
    app.post_form_from(
        client,
        path,
        &[("ceremony", ceremony), ("credential", credential)],
    )
    .await
}

/// Registers a passkey for the signed-in owner; returns it and the answer page.
async fn register(
    app: &TestApp,
    origin: &str,
    name: &str,
    seed: u8,
) -> (SoftPasskey, reqwest::Response) {
    let (status, body) = challenge(app, &app.client, "/admin/account/passkeys/options").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["options"]["publicKey"]["rp"]["id"], "localhost");
    assert_eq!(
        body["options"]["publicKey"]["authenticatorSelection"]["residentKey"], "preferred",
        "asked to be discoverable, for signing in with no name typed"
    );
    let (passkey, answer) = SoftPasskey::create(&body["options"], origin, seed);
    let res = app
        .post_form_from(
            &app.client,
            "/admin/account/passkeys",
            &[
                ("ceremony", body["ceremony"].as_str().unwrap()),
                ("name", name),
                ("credential", &answer.to_string()),
            ],
        )
        .await;
    (passkey, res)
}

fn recovery_codes(page: &str) -> Vec<String> {
    page.match_indices("<li><code>")
        .map(|(i, _)| page[i + 10..].chars().take_while(|c| *c != '<').collect())
        .collect()
}

/// Signs a fresh browser in with a passkey alone.
async fn passkey_sign_in(
    app: &TestApp,
    passkey: &mut SoftPasskey,
) -> (reqwest::Client, reqwest::Response) {
    let browser = cookie_client();
    let (status, body) = challenge(app, &browser, "/login/passkey/options").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        body["options"]["publicKey"]["allowCredentials"]
            .as_array()
            .is_none_or(|a| a.is_empty()),
        "any passkey may answer: the answer says whose it is"
    );
    assert!(
        body["options"].get("mediation").is_none(),
        "a button's prompt, not autofill"
    );
    let answer = passkey.get(&body["options"]);
    let res = app
        .post_form_from(
            &browser,
            "/login/passkey",
            &[
                ("ceremony", body["ceremony"].as_str().unwrap()),
                ("credential", &answer.to_string()),
                ("next", "/admin/members"),
            ],
        )
        .await;
    (browser, res)
}

#[tokio::test]
async fn a_passkey_registered_on_the_account_page_signs_in_alone() {
    let app = spawn_app().await;
    app.setup_admin().await;
    let origin = on_localhost(&app).await;
    let (_, page) = app.get_text("/login").await;
    assert!(
        !page.contains("Sign in with a passkey"),
        "no passkey yet: not offered"
    );

    let (mut passkey, res) = register(&app, &origin, "Phone", 1).await;
    assert_eq!(res.status(), StatusCode::OK);
    let page = res.text().await.unwrap();
    assert!(page.contains("Passkey added"), "{page}");
    let codes = recovery_codes(&page);
    assert_eq!(
        codes.len(),
        10,
        "the first second step comes with recovery codes"
    );
    let (_, page) = app.get_text("/admin/account").await;
    assert!(page.contains("<strong>Phone</strong>"));
    assert!(page.contains("not used yet"));
    assert!(!page.contains(&codes[0]), "shown once");

    // Any browser: a passkey alone signs in, and the sign-in page offers it.
    let (status, page) = text_of(&cookie_client(), app.url("/login")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Sign in with a passkey"));
    app.clock.advance(60);
    let (browser, res) = passkey_sign_in(&app, &mut passkey).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        location(&res),
        "/admin/members",
        "back to the page asked for"
    );
    let (status, _) = text_of(&browser, app.url("/admin/members")).await;
    assert_eq!(status, StatusCode::OK);
    let (_, page) = app.get_text("/admin/account").await;
    assert!(page.contains("last used"), "{page}");

    let events = app.state.store.recent_events(20).await.unwrap();
    assert!(
        events
            .iter()
            .any(|e| e.action == "admin.passkey_added" && e.detail.as_deref() == Some("Phone"))
    );
    assert!(events.iter().any(|e| {
        e.action == "admin.signed_in"
            && e.detail
                .as_deref()
                .is_some_and(|d| d.ends_with("with a passkey"))
    }));

    // The same device cannot register twice.
    let (status, body) = challenge(&app, &app.client, "/admin/account/passkeys/options").await;
    assert_eq!(status, StatusCode::OK);
    let excluded = body["options"]["publicKey"]["excludeCredentials"]
        .as_array()
        .unwrap();
    assert_eq!(
        excluded.len(),
        1,
        "the browser is told which passkeys exist"
    );
}

#[tokio::test]
async fn an_answer_is_taken_once_and_a_forged_or_stale_one_is_refused() {
    let app = spawn_app().await;
    app.setup_admin().await;
    let origin = on_localhost(&app).await;
    let (mut passkey, _) = register(&app, &origin, "Phone", 2).await;

    // Replayed: the same answer to the same challenge a second time.
    let browser = cookie_client();
    let (_, body) = challenge(&app, &browser, "/login/passkey/options").await;
    let ceremony = body["ceremony"].as_str().unwrap().to_string();
    let answer = passkey.get(&body["options"]).to_string();
    let fields = [
        ("ceremony", ceremony.as_str()),
        ("credential", answer.as_str()),
    ];
    let ok = app
        .post_form_from(&browser, "/login/passkey", &fields)
        .await;
    assert_eq!(ok.status(), StatusCode::SEE_OTHER);
    let replay = app
        .post_form_from(&cookie_client(), "/login/passkey", &fields)
        .await;
    assert_eq!(replay.status(), StatusCode::GONE);
    assert!(
        replay
            .text()
            .await
            .unwrap()
            .contains("expired or was answered already")
    );

    // Signed by another key with this passkey's id: refused, and counted.
    let (_, body) = challenge(&app, &browser, "/login/passkey/options").await;
    let answer = passkey.forged(99).sign(&body["options"], 50).to_string();
    let res = send_answer(&app, &cookie_client(), "/login/passkey", &body, &answer).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(res.text().await.unwrap().contains("could not be checked"));

    // A counter that went back is a cloned authenticator: refused.
    let (_, body) = challenge(&app, &browser, "/login/passkey/options").await;
    let stale = passkey.sign(&body["options"], 1).to_string();
    let res = send_answer(&app, &cookie_client(), "/login/passkey", &body, &stale).await;
    assert_eq!(
        res.status(),
        StatusCode::UNAUTHORIZED,
        "the counter was 1 already"
    );

    // Garbage where the answer goes: a clear refusal, not a failure.
    let (_, body) = challenge(&app, &browser, "/login/passkey/options").await;
    let res = send_answer(&app, &cookie_client(), "/login/passkey", &body, "{not json").await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

    // A ceremony lasts five minutes.
    let (_, body) = challenge(&app, &browser, "/login/passkey/options").await;
    app.clock.advance(301);
    let late = passkey.get(&body["options"]).to_string();
    let res = send_answer(&app, &cookie_client(), "/login/passkey", &body, &late).await;
    assert_eq!(res.status(), StatusCode::GONE);
}

#[tokio::test]
async fn with_a_passkey_the_password_alone_opens_nothing() {
    let app = spawn_app().await;
    app.setup_admin().await;
    let origin = on_localhost(&app).await;
    let (mut passkey, res) = register(&app, &origin, "YubiKey", 3).await;
    let codes = recovery_codes(&res.text().await.unwrap());

    let browser = cookie_client();
    let res = app.sign_in(&browser, ADMIN, PASSWORD).await;
    assert_eq!(
        location(&res),
        "/login/code",
        "a second step follows the password"
    );
    let (_, page) = text_of(&browser, app.url("/login/code")).await;
    assert!(page.contains("Use my passkey"));
    assert!(
        page.contains("Recovery code"),
        "no app: the code field takes recovery codes"
    );
    assert!(
        !page.contains("Six digits"),
        "no authenticator app to ask for"
    );

    // The step's challenge names this admin's passkeys only.
    let (status, body) = challenge(&app, &browser, "/login/code/passkey/options").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let allowed = body["options"]["publicKey"]["allowCredentials"]
        .as_array()
        .unwrap();
    assert_eq!(allowed.len(), 1);
    assert_eq!(allowed[0]["id"], B64.encode(&passkey.id));
    let answer = passkey.get(&body["options"]).to_string();
    let res = send_answer(&app, &browser, "/login/code/passkey", &body, &answer).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/admin");
    let (status, _) = text_of(&browser, app.url("/admin")).await;
    assert_eq!(status, StatusCode::OK);

    // Without a waiting password step there is no step challenge.
    let (status, body) = challenge(&app, &cookie_client(), "/login/code/passkey/options").await;
    assert_eq!(status, StatusCode::GONE, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("expired")
    );

    // A recovery code stands in for the passkey, once.
    let other = cookie_client();
    app.sign_in(&other, ADMIN, PASSWORD).await;
    let res = app
        .post_form_from(&other, "/login/code", &[("code", &codes[0])])
        .await;
    assert_eq!(location(&res), "/admin/account?done=recovery");
}

#[tokio::test]
async fn wrong_passkey_answers_lock_the_second_step_like_codes() {
    let app = spawn_app().await;
    app.setup_admin().await;
    let origin = on_localhost(&app).await;
    let (passkey, _) = register(&app, &origin, "Phone", 4).await;
    let mut status = StatusCode::OK;
    for _ in 0..12 {
        let browser = cookie_client();
        app.sign_in(&browser, ADMIN, PASSWORD).await;
        let (_, body) = challenge(&app, &browser, "/login/code/passkey/options").await;
        let answer = passkey.forged(77).sign(&body["options"], 9).to_string();
        status = send_answer(&app, &browser, "/login/code/passkey", &body, &answer)
            .await
            .status();
        if status == StatusCode::TOO_MANY_REQUESTS {
            break;
        }
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "never locked");
    let res = app.sign_in(&cookie_client(), ADMIN, PASSWORD).await;
    assert_eq!(
        res.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "the password is locked too"
    );
}

#[tokio::test]
async fn passkeys_are_renamed_and_removed_and_a_removed_one_opens_nothing() {
    let app = spawn_app().await;
    app.setup_admin().await;
    let origin = on_localhost(&app).await;
    let (mut phone, _) = register(&app, &origin, "Phone", 5).await;
    let (_, res) = register(&app, &origin, "Laptop", 6).await;
    assert_eq!(
        location(&res),
        "/admin/account?done=passkey-added",
        "no new recovery codes"
    );
    let listed = usher::auth::passkeys::list(&app.state, usher::domain::ids::AdminId(1))
        .await
        .unwrap();
    assert_eq!(listed.len(), 2);
    let (phone_id, laptop_id) = (listed[0].id, listed[1].id);

    let bad = app
        .post_form(
            &format!("/admin/account/passkeys/{laptop_id}/rename"),
            &[("name", "  ")],
        )
        .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.text().await.unwrap().contains("1 to 64 characters"));
    let ok = app
        .post_form(
            &format!("/admin/account/passkeys/{laptop_id}/rename"),
            &[("name", "Work laptop")],
        )
        .await;
    assert_eq!(location(&ok), "/admin/account?done=passkey-renamed");
    let (_, page) = app.get_text("/admin/account").await;
    assert!(page.contains("<strong>Work laptop</strong>"));

    let gone = app
        .post_form(&format!("/admin/account/passkeys/{phone_id}/remove"), &[])
        .await;
    assert_eq!(location(&gone), "/admin/account?done=passkey-removed");
    let (_, res) = passkey_sign_in(&app, &mut phone).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(res.text().await.unwrap().contains("not one of this usher"));
    let again = app
        .post_form(&format!("/admin/account/passkeys/{phone_id}/remove"), &[])
        .await;
    assert_eq!(again.status(), StatusCode::NOT_FOUND);

    // The last one removed: no second step is left, and the recovery codes go with it.
    app.post_form(&format!("/admin/account/passkeys/{laptop_id}/remove"), &[])
        .await;
    assert_eq!(
        app.state
            .store
            .unused_recovery_codes(usher::domain::ids::AdminId(1))
            .await
            .unwrap(),
        0
    );
    let res = app.sign_in(&cookie_client(), ADMIN, PASSWORD).await;
    assert_eq!(location(&res), "/admin", "the password alone again");
}

#[tokio::test]
async fn the_cli_lists_and_removes_passkeys_and_reset_2fa_takes_them_all() {
    let app = spawn_app().await;
    app.setup_admin().await;
    let origin = on_localhost(&app).await;
    register(&app, &origin, "Phone", 7).await;
    register(&app, &origin, "Laptop", 8).await;
    let out = app.cli(&["admin", "passkeys", ADMIN, "--json"]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let listed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 2);
    assert_eq!(listed[0]["name"], "Phone");
    let phone = listed[0]["id"].to_string();

    let out = app
        .cli(&["admin", "rename-passkey", ADMIN, &phone, "Old phone"])
        .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = app.cli(&["admin", "remove-passkey", ADMIN, &phone]).await;
    assert!(String::from_utf8_lossy(&out.stdout).contains("\"Old phone\" of `owner` removed"));
    let out = app.cli(&["admin", "remove-passkey", ADMIN, &phone]).await;
    assert!(!out.status.success(), "removed already");
    assert!(String::from_utf8_lossy(&out.stderr).contains("removed already"));
    let out = app.cli(&["admin", "passkeys", ADMIN]).await;
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.contains("Laptop") && !table.contains("Phone"),
        "{table}"
    );

    let out = app.cli(&["admin", "reset-2fa", ADMIN]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("its passkey removed"));
    let res = app.sign_in(&cookie_client(), ADMIN, PASSWORD).await;
    assert_eq!(location(&res), "/admin", "the password alone again");
}

#[tokio::test]
async fn on_an_ip_address_passkeys_are_explained_not_offered() {
    let app = spawn_app().await;
    app.setup_admin().await;
    // The test's own address is 127.0.0.1: a passkey cannot belong to it.
    let (_, page) = app.get_text("/admin/account").await;
    assert!(page.contains("id=\"passkeys-unavailable\""));
    assert!(page.contains("not an IP address"));
    assert!(!page.contains("data-passkey=\"create\""));
    let (status, body) = challenge(&app, &app.client, "/admin/account/passkeys/options").await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not an IP address")
    );
    let (status, _) = challenge(&app, &cookie_client(), "/login/passkey/options").await;
    assert_eq!(status, StatusCode::CONFLICT);

    // Plain http on a name other than localhost: browsers refuse passkeys there.
    app.state
        .public
        .save(
            &app.state.store,
            Some(usher::domain::base_url::BaseUrl::parse("http://usher.lan:9450").unwrap()),
            app.clock.now(),
        )
        .await
        .unwrap();
    let (_, page) = app.get_text("/admin/account").await;
    assert!(page.contains("start with https://"));
}
