use reqwest::StatusCode;

use crate::helpers::*;

/// A `multipart/form-data` body with a CSRF field and a file, as a browser sends the logo form.
fn upload(csrf: &str, file: &[u8]) -> (String, Vec<u8>) {
    let boundary = "----usher-test-boundary";
    let mut body = Vec::new();
    body.extend(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n")
            .bytes(),
    );
    body.extend(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"logo\"; filename=\"logo.png\"\r\nContent-Type: image/png\r\n\r\n"
        )
        .bytes(),
    );
    body.extend(file);
    body.extend(format!("\r\n--{boundary}--\r\n").bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

async fn send(app: &TestApp, csrf: &str, file: &[u8]) -> reqwest::Response {
    let (content_type, body) = upload(csrf, file);
    app.client
        .post(app.url("/admin/settings/branding/logo"))
        .header("content-type", content_type)
        .header("origin", app.url(""))
        .body(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_logo_is_uploaded_with_the_forms_token_checked_and_served_by_its_fingerprint() {
    let app = spawn_signed_in().await;
    assert_eq!(
        send(&app, "forged", PNG).await.status(),
        StatusCode::FORBIDDEN
    );
    let csrf = app.csrf().await;
    let res = send(&app, &csrf, b"<svg onload=alert(1)>").await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("PNG, JPEG or WebP"));
    let big = [PNG, &vec![0u8; 300 * 1024]].concat();
    let res = send(&app, &csrf, &big).await;
    assert!(res.status().is_client_error(), "{}", res.status());
    let res = send(&app, &csrf, PNG).await;
    assert_eq!(location(&res), "/admin/settings/branding?done=logo");

    let settings = app.state.store.settings().await.unwrap();
    let logo = settings.branding.logo.expect("stored");
    let path = usher::ui::brand::logo_path(&logo);
    let res = reqwest::get(app.url(&path)).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "image/png");
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    assert_eq!(res.bytes().await.unwrap().as_ref(), PNG);
    // Another fingerprint, or the right one with another type, is not the logo.
    for other in [
        "/brand/logo-0000000000000000.png",
        &path.replace(".png", ".jpg"),
    ] {
        let res = reqwest::get(app.url(other)).await.unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{other}");
    }
    // Only six hex digits make an accent sheet.
    let res = reqwest::get(app.url("/brand/accent-1f6feb.css"))
        .await
        .unwrap();
    assert!(res.text().await.unwrap().contains("--accent: #1f6feb;"));
    let res = reqwest::get(app.url("/brand/accent-red;}body{.css"))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_branded_invite_page_says_join_the_servers_name() {
    let w = world().await;
    let res = w
        .app
        .post_form(
            "/admin/settings/branding",
            &[("name", "Casa Cinema"), ("accent", "#c83c28")],
        )
        .await;
    assert_eq!(location(&res), "/admin/settings/branding?done=branding");
    let code = w.invite(&[w.jf_id], "1", |_| {}).await;
    let page = reqwest::get(w.app.url(&format!("/i/{code}")))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("<title>Join Casa Cinema · Casa Cinema</title>"),
        "{page}"
    );
    assert!(page.contains("href=\"/brand/accent-c83c28.css\""), "{page}");
    let request = reqwest::get(w.app.url("/request"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        request.contains("<title>Ask to join Casa Cinema · Casa Cinema</title>"),
        "{request}"
    );
    let res = w
        .app
        .post_form("/admin/settings/branding", &[("accent", "pink")])
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
}
