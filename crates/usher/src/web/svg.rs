//! Small server-rendered SVG: QR codes for invite links (also drawn for a terminal) and the
//! dashboard's bar chart. No
//! scripts, no external requests, readable by screen readers through their titles.

use std::fmt::Write as _;

/// A QR code for `text` as an SVG document that scales to its container.
pub fn qr(text: &str) -> Option<String> {
    let code =
        qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M).ok()?;
    Some(
        code.render::<qrcode::render::svg::Color>()
            .min_dimensions(200, 200)
            .quiet_zone(true)
            .dark_color(qrcode::render::svg::Color("#000000"))
            .light_color(qrcode::render::svg::Color("#ffffff"))
            .build(),
    )
}

/// A QR code for `text` drawn with Unicode half blocks, two rows per line, for a terminal.
pub fn qr_terminal(text: &str) -> Option<String> {
    let code =
        qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M).ok()?;
    Some(
        code.render::<qrcode::render::unicode::Dense1x2>()
            .quiet_zone(true)
            .build(),
    )
}

/// A bar chart of daily counts, oldest first. `labels` name the first and last day.
pub fn bars(counts: &[i64], title: &str, first_label: &str, last_label: &str) -> String {
    let (w, h, pad) = (300.0_f64, 80.0_f64, 14.0_f64);
    let max = counts.iter().copied().max().unwrap_or(0).max(1) as f64;
    let n = counts.len().max(1) as f64;
    let bar_w = w / n;
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<svg class="chart" viewBox="0 0 {w} {total}" role="img" aria-label="{title}" xmlns="http://www.w3.org/2000/svg"><title>{title}</title>"#,
        total = h + pad,
        title = crate::text::escape_html(title),
    );
    for (i, c) in counts.iter().enumerate() {
        let bh = if *c > 0 {
            (*c as f64 / max * (h - 4.0)).max(2.0)
        } else {
            0.0
        };
        let _ = write!(
            out,
            r#"<rect x="{x:.1}" y="{y:.1}" width="{bw:.1}" height="{bh:.1}" rx="1"><title>{c}</title></rect>"#,
            x = i as f64 * bar_w + 1.0,
            y = h - bh,
            bw = (bar_w - 2.0).max(1.0),
        );
    }
    let _ = write!(
        out,
        r#"<line x1="0" y1="{h}" x2="{w}" y2="{h}" class="axis"/><text x="0" y="{ty}">{a}</text><text x="{w}" y="{ty}" text-anchor="end">{b}</text><text x="{w}" y="10" text-anchor="end">{max}</text></svg>"#,
        ty = h + pad - 2.0,
        a = crate::text::escape_html(first_label),
        b = crate::text::escape_html(last_label),
        max = max as i64,
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_qr_code_is_an_svg() {
        let svg = qr("https://usher.example.com/i/ABCDEFGH23").unwrap();
        assert!(svg.contains("<svg") && svg.contains("</svg>"));
    }

    #[test]
    fn bars_scale_to_the_largest_day_and_escape_labels() {
        let svg = bars(&[0, 2, 4], "Redemptions <30 days>", "Nov 1", "Nov 3");
        assert_eq!(svg.matches("<rect").count(), 3);
        assert!(svg.contains("&lt;30 days&gt;"));
        assert!(svg.contains(r#"height="76.0""#), "{svg}");
    }
}
