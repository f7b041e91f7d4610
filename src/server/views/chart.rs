//! The per-day bar chart, drawn on the server with charts-rs. Kept out of the WASM build: the library
//! embeds a font that alone would be most of the bundle budget.

use crate::money::Credits;
use crate::page_data::DayTotal;
use crate::server::error::UsageError;
use crate::view_query::FOLLOWS_SORT;

/// An SVG of one bar per day. Colours are neutral and the background transparent so that the same SVG reads
/// in the light and the dark scheme.
///
/// Days still to come (`projected`) are a second, lighter series stacked in the same place, and a budget's daily
/// `allowance` a dashed line; the legend then names the three.
pub fn render_daily_chart(days: &[DayTotal], allowance: Option<Credits>) -> Result<String, UsageError> {
    // charts-rs failing to draw is this server's fault: a 500, never the upstream's.
    fn failed(error: impl std::fmt::Display) -> UsageError {
        UsageError::Internal { cause: format!("chart: {error}") }
    }
    let credits = |day: &DayTotal| Some(day.credits.hundredths() as f64 / 100.0);
    let actual: Vec<Option<f64>> = days.iter().map(|day| credits(day).filter(|_| !day.projected)).collect();
    let projected: Vec<Option<f64>> = days.iter().map(|day| credits(day).filter(|_| day.projected)).collect();
    let labels: Vec<&str> = days.iter().map(|day| day.day.as_str()).collect();
    let mut series = vec![serde_json::json!({"name": "Credits", "data": actual, "stack": "credits"})];
    if projected.iter().any(Option::is_some) {
        series.push(serde_json::json!({"name": "Projected", "data": projected, "stack": "credits"}));
    }
    if let Some(allowance) = allowance {
        let per_day = allowance.hundredths() as f64 / 100.0;
        series.push(serde_json::json!({
            "name": "Daily allowance",
            "data": vec![per_day; days.len()],
            "category": "line",
            "stroke_dash_array": "6,4",
        }));
    }
    let options = serde_json::json!({
        "width": 960,
        "height": 300,
        "margin": {"left": 8, "top": 12, "right": 16, "bottom": 4},
        "legend_show": series.len() > 1,
        "tooltip_show": true,
        "x_axis_data": labels,
        "x_axis_font_color": "#8a8f98",
        "x_axis_stroke_color": "#8a8f98",
        "x_axis_font_size": 13,
        "grid_stroke_color": "rgba(138, 143, 152, 0.25)",
        "series_colors": ["#4f6bed", "#b7c3f7", "#f59e0b"],
        "series_list": series,
        "y_axis_configs": [{"axis_font_color": "#8a8f98", "axis_font_size": 13, "axis_min": 0}],
    });
    let mut chart = charts_rs::BarChart::from_json(&options.to_string()).map_err(failed)?;
    // The JSON options have no background key for bar charts; the typed field does.
    chart.background_color = charts_rs::Color::transparent();
    chart.svg().map_err(failed)
}

/// A bar's link to its day: where to, whether it is the chosen day, and whether the day is unusual.
pub struct BarLink {
    pub href: String,
    pub selected: bool,
    pub unusual: bool,
}

/// Wraps each bar (`<rect … data-category="29-04-2024" …>…</rect>`, as charts-rs draws them) in a link to its
/// day when `link_for(label)` gives one. A transparent rect over the bar's whole column goes with it, so that a
/// short or zero bar is as easy to click as a tall one. An unusual day's bar gets a dashed outline and the word
/// "unusual" above it: marked by shape and text, not by colour alone.
pub fn link_bars(svg: &str, link_for: impl Fn(&str) -> Option<BarLink>) -> String {
    let mut linked = String::with_capacity(svg.len() + svg.len() / 2);
    let mut rest = svg;
    while let Some(start) = rest.find("<rect ") {
        let (before, from_rect) = rest.split_at(start);
        linked.push_str(before);
        let Some(tag_end) = from_rect.find('>') else { break };
        let tag = &from_rect[..=tag_end];
        let element_end = if tag.ends_with("/>") {
            tag_end + 1
        } else {
            from_rect.find("</rect>").map_or(tag_end + 1, |end| end + "</rect>".len())
        };
        let element = &from_rect[..element_end];
        let link = attribute(tag, "data-category").and_then(&link_for);
        let column = (|| {
            let number = |name: &str| attribute(tag, name)?.parse::<f64>().ok();
            Some((number("x")?, number("width")?, number("y")?, number("height")?))
        })();
        match (link, column) {
            (Some(link), Some((x, width, y, height))) => {
                let selected = if link.selected { " selected" } else { "" };
                let unusual = if link.unusual { " unusual" } else { "" };
                linked.push_str(&format!(
                    "<a href=\"{}\" class=\"bar-link {FOLLOWS_SORT}{selected}{unusual}\">",
                    escape_attribute(&link.href)
                ));
                let bottom = y + height;
                linked.push_str(&format!(
                    "<rect x=\"{x}\" y=\"0\" width=\"{width}\" height=\"{bottom}\" fill=\"transparent\"></rect>"
                ));
                linked.push_str(element);
                if link.unusual {
                    linked.push_str(&format!(
                        "<rect class=\"unusual-mark\" x=\"{x}\" y=\"{y}\" width=\"{width}\" height=\"{height}\" fill=\"none\" \
                         stroke=\"#B45309\" stroke-width=\"3\" stroke-dasharray=\"6,3\"></rect>\
                         <text class=\"unusual-label\" x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"12\" \
                         fill=\"#B45309\">unusual</text>",
                        x + width / 2.0,
                        (y - 6.0).max(12.0)
                    ));
                }
                linked.push_str("</a>");
            }
            _ => linked.push_str(element),
        }
        rest = &from_rect[element_end..];
    }
    linked.push_str(rest);
    linked
}

/// The value of `name="…"` in a start tag.
fn attribute<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let start = tag.find(&format!(" {name}=\""))? + name.len() + 3;
    let length = tag[start..].find('"')?;
    Some(&tag[start..start + length])
}

/// Text for a double-quoted HTML attribute.
pub fn escape_attribute(text: &str) -> String {
    text.replace('&', "&amp;").replace('"', "&quot;").replace('<', "&lt;").replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Credits;

    #[test]
    fn draws_one_bar_per_day_including_zero_days() {
        let days: Vec<DayTotal> = [("29-04-2024", 8020), ("30-04-2024", 0), ("01-05-2024", 440)]
            .into_iter()
            .map(|(day, hundredths)| DayTotal {
                day: day.into(),
                iso_day: String::new(),
                days: 1,
                credits: Credits::from_hundredths(hundredths),
                projected: false,
            })
            .collect();
        let svg = render_daily_chart(&days, None).unwrap();
        assert!(svg.starts_with("<svg"), "{svg}");
        for day in ["29-04-2024", "30-04-2024", "01-05-2024"] {
            assert!(svg.contains(day), "label {day} missing");
        }
    }

    #[test]
    fn days_to_come_and_the_daily_allowance_are_drawn_apart_with_a_legend() {
        let day = |name: &str, hundredths, projected| DayTotal {
            day: name.into(),
            iso_day: String::new(),
            days: 1,
            credits: Credits::from_hundredths(hundredths),
            projected,
        };
        let days = [day("01-05-2024", 5_000, false), day("02-05-2024", 4_000, true)];
        let plain = render_daily_chart(&days[..1], None).unwrap();
        assert!(!plain.contains("Daily allowance") && !plain.contains("Projected"), "no legend for one series");
        let svg = render_daily_chart(&days, Some(Credits::from_hundredths(3_000))).unwrap();
        for legend in ["Credits", "Projected", "Daily allowance"] {
            assert!(svg.lines().any(|line| line.trim() == legend), "legend {legend}: {svg}");
        }
        assert!(svg.contains("fill=\"#B7C3F7\""), "the projected day is lighter: {svg}");
        assert!(svg.contains("stroke-dasharray=\"6,4\""), "the allowance is dashed: {svg}");
    }

    #[test]
    fn links_each_bar_to_its_day_and_marks_the_selected_one() {
        let svg = concat!(
            "<svg><rect x=\"0\" y=\"0\" width=\"960\" height=\"300\" fill=\"none\"/>",
            "<rect x=\"41\" y=\"37.1\" width=\"103.5\" height=\"228.9\" fill=\"#4F6BED\" data-category=\"29-04-2024\"><title>513.6</title></rect>",
            "<rect x=\"154.5\" y=\"266\" width=\"103.5\" height=\"0\" fill=\"#4F6BED\" data-category=\"30-04-2024\"><title>0</title></rect></svg>"
        );
        let linked = link_bars(svg, |label| {
            let iso = format!("2024-04-{}", &label[..2]);
            let href = format!("/?day={iso}&sort=credits_used:asc");
            Some(BarLink { href, selected: label == "30-04-2024", unusual: label == "29-04-2024" })
        });
        assert_eq!(linked.matches("<a href=").count(), 2, "{linked}");
        assert!(linked.contains("<a href=\"/?day=2024-04-29&amp;sort=credits_used:asc\" class=\"bar-link follows-sort unusual\"><rect x=\"41\" y=\"0\" width=\"103.5\" height=\"266\" fill=\"transparent\"></rect><rect x=\"41\""));
        assert_eq!(linked.matches("class=\"unusual-mark\"").count(), 1, "only the unusual day is outlined");
        assert!(linked.contains("x=\"41\" y=\"37.1\" width=\"103.5\" height=\"228.9\" fill=\"none\""), "{linked}");
        assert!(linked.contains(">unusual</text>"), "and labelled in words");
        assert!(linked.contains("class=\"bar-link follows-sort selected\""));
        assert!(
            linked.starts_with("<svg><rect x=\"0\" y=\"0\" width=\"960\" height=\"300\" fill=\"none\"/><a "),
            "the background is not a bar"
        );
        assert_eq!(link_bars(svg, |_| None), svg);
    }
}
