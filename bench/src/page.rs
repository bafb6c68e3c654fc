//! What a browser loads for a page: the resources its HTML and CSS ask for, and which of them
//! would go to another site.

/// Tags that make a browser fetch something when the page loads, with the attributes that name
/// it. Links people may click (`<a href>`) and form targets are not loads.
const LOADING: &[(&str, &[&str])] = &[
    ("link", &["href"]),
    ("script", &["src"]),
    ("img", &["src", "srcset"]),
    ("source", &["src", "srcset"]),
    ("iframe", &["src"]),
    ("frame", &["src"]),
    ("embed", &["src"]),
    ("object", &["data"]),
    ("video", &["src", "poster"]),
    ("audio", &["src"]),
    ("track", &["src"]),
    ("input", &["src"]),
];

/// Every URL the HTML makes a browser load, in order, without duplicates.
pub fn resources(html: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        rest = &rest[open + 1..];
        let end = rest.find('>').unwrap_or(rest.len());
        let tag = &rest[..end];
        rest = &rest[end..];
        let name: String = tag
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        let Some((_, attrs)) = LOADING.iter().find(|(t, _)| *t == name) else {
            continue;
        };
        for (attr, value) in attributes(&tag[name.len()..]) {
            if !attrs.contains(&attr.as_str()) {
                continue;
            }
            // `srcset` lists several candidates: "a.png 1x, b.png 2x".
            let urls: Vec<&str> = if attr == "srcset" {
                value
                    .split(',')
                    .filter_map(|c| c.split_whitespace().next())
                    .collect()
            } else {
                vec![value.as_str()]
            };
            for u in urls {
                if !u.is_empty() && !out.iter().any(|o| o == u) {
                    out.push(u.to_string());
                }
            }
        }
    }
    out
}

/// `name="value"` pairs of a tag (names lower-cased; unquoted and single-quoted values too).
fn attributes(s: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        while i < b.len() && (b[i].is_ascii_whitespace() || b[i] == b'/') {
            i += 1;
        }
        let start = i;
        while i < b.len() && !b[i].is_ascii_whitespace() && b[i] != b'=' && b[i] != b'/' {
            i += 1;
        }
        let name = s[start..i].to_ascii_lowercase();
        if i < b.len() && b[i] == b'=' {
            i += 1;
            let value = if i < b.len() && (b[i] == b'"' || b[i] == b'\'') {
                let q = b[i];
                i += 1;
                let vs = i;
                while i < b.len() && b[i] != q {
                    i += 1;
                }
                let v = &s[vs..i];
                i += 1;
                v
            } else {
                let vs = i;
                while i < b.len() && !b[i].is_ascii_whitespace() {
                    i += 1;
                }
                &s[vs..i]
            };
            out.push((name, value.to_string()));
        } else if !name.is_empty() {
            out.push((name, String::new()));
        } else {
            i += 1;
        }
    }
    out
}

/// URLs a stylesheet loads (`url(…)`, `@import`).
pub fn css_resources(css: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = css;
    while let Some(i) = rest.find("url(") {
        rest = &rest[i + 4..];
        let end = rest.find(')').unwrap_or(rest.len());
        let u = rest[..end].trim().trim_matches(['"', '\'']);
        if !u.is_empty() && !u.starts_with("data:") {
            out.push(u.to_string());
        }
        rest = &rest[end..];
    }
    let mut rest = css;
    while let Some(i) = rest.find("@import") {
        rest = &rest[i + 7..];
        let end = rest.find(';').unwrap_or(rest.len());
        let u = rest[..end]
            .trim()
            .trim_start_matches("url(")
            .trim_end_matches(')')
            .trim_matches(['"', '\'']);
        if !out.iter().any(|o| o == u) {
            out.push(u.to_string());
        }
        rest = &rest[end..];
    }
    out
}

/// Whether a URL leaves the page's own site (`host` is `127.0.0.1:PORT`).
pub fn is_third_party(url: &str, host: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    let rest = if let Some(r) = lower.strip_prefix("//") {
        r
    } else if let Some((scheme, r)) = lower.split_once("://") {
        if scheme.contains(['/', '?', '#']) {
            return false;
        }
        r
    } else {
        // Relative, or data:/blob: (no request to anyone).
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    authority != host
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_what_a_browser_loads_and_ignores_links() {
        let html = r#"<link rel="stylesheet" href="/a.css"><link rel=icon href='/i.svg'>
            <script src="/a.js" defer></script><a href="https://example.com">x</a>
            <img src="https://cdn.example/x.png" alt=""><IMG SRCSET="/s.png 1x, /t.png 2x">"#;
        assert_eq!(
            resources(html),
            [
                "/a.css",
                "/i.svg",
                "/a.js",
                "https://cdn.example/x.png",
                "/s.png",
                "/t.png"
            ]
        );
    }

    #[test]
    fn only_other_hosts_are_third_party() {
        let host = "127.0.0.1:9450";
        assert!(!is_third_party("/assets/app.css", host));
        assert!(!is_third_party("http://127.0.0.1:9450/x", host));
        assert!(!is_third_party("data:image/png;base64,AA", host));
        assert!(is_third_party("https://fonts.example/x.woff2", host));
        assert!(is_third_party("//cdn.example/x.js", host));
    }

    #[test]
    fn css_urls_and_imports_are_found() {
        let css = "a{background:url('/x.png')} @import url(\"https://f.example/a.css\"); b{c:url(data:image/png;base64,AA)}";
        assert_eq!(css_resources(css), ["/x.png", "https://f.example/a.css"]);
    }
}
