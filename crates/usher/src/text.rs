//! Checks on text people type: what cannot belong in a name, an address or a path.

/// Text made safe to place inside HTML or XML, attribute values included (Telegram's HTML
/// messages and the dashboard's SVG chart; pages are escaped by their templates).
pub fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Characters that print nothing a reader can see or that break a line: control characters,
/// the Unicode line and paragraph separators, zero-width and direction marks, and U+FFFD (the
/// mark left where bytes were not text).
pub fn unprintable(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}'
                | '\u{2029}'
                | '\u{fffd}'
                | '\u{feff}'
                | '\u{200b}'..='\u{200f}'
                | '\u{202a}'..='\u{202e}'
                | '\u{2060}'..='\u{2064}'
        )
}

/// Whether every value of a URL-encoded body, once percent-decoded, is UTF-8 text. Forms that
/// are not would otherwise be read lossily, with U+FFFD where the bytes were.
pub fn form_is_utf8(body: &[u8]) -> bool {
    body.split(|b| *b == b'&')
        .flat_map(|pair| pair.splitn(2, |b| *b == b'='))
        .all(|part| {
            // `+` stands for a space and is text either way; only the %-escapes can be bytes.
            let decoded: Vec<u8> = percent_encoding::percent_decode(part).collect();
            std::str::from_utf8(&decoded).is_ok()
        })
}

/// Prints rows under a header in columns as wide as their widest cell (the CLI's tables).
pub fn print_table<const N: usize>(header: &[&str; N], rows: &[[String; N]]) {
    let mut widths = header.map(|h| h.chars().count());
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut out = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i + 1 == N {
                out.push_str(c);
            } else {
                out.push_str(&format!("{c:<w$}  ", w = widths[i]));
            }
        }
        println!("{}", out.trim_end());
    };
    line(header.to_vec());
    for row in rows {
        line(row.iter().map(String::as_str).collect());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_is_escaped_for_text_and_attributes() {
        assert_eq!(
            escape_html("<b>Tom & \"Jerry\"</b>"),
            "&lt;b&gt;Tom &amp; &quot;Jerry&quot;&lt;/b&gt;"
        );
    }

    #[test]
    fn invisible_and_line_breaking_characters_are_unprintable() {
        for c in [
            '\n', '\t', '\u{2028}', '\u{2029}', '\u{fffd}', '\u{200b}', '\u{202e}',
        ] {
            assert!(unprintable(c), "{:?}", c);
        }
        for c in ['a', 'é', '日', ' ', '-', '\''] {
            assert!(!unprintable(c), "{:?}", c);
        }
    }

    #[test]
    fn forms_must_decode_to_utf8() {
        assert!(form_is_utf8(b"name=Ana+Mar%C3%ADa&email=a%40b.c"));
        assert!(form_is_utf8(b""));
        assert!(form_is_utf8(b"odd=100%"));
        assert!(!form_is_utf8(b"name=Bad%FF%FEName"));
        assert!(!form_is_utf8(b"name=\xff"));
        assert!(!form_is_utf8(b"na%C3me=x"));
    }
}
