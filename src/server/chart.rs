//! The per-day bar chart, drawn on the server with charts-rs. Kept out of the WASM build: the library
//! embeds a font that alone would be most of the bundle budget.

use crate::view::DayTotal;

/// An SVG of one bar per day. Colours are neutral and the background transparent so that the same SVG reads
/// in the light and the dark scheme.
pub fn render_daily_chart(days: &[DayTotal]) -> Result<String, String> {
    let values: Vec<f64> = days.iter().map(|day| day.credits.hundredths() as f64 / 100.0).collect();
    let labels: Vec<&str> = days.iter().map(|day| day.day.as_str()).collect();
    let options = serde_json::json!({
        "width": 960,
        "height": 300,
        "margin": {"left": 8, "top": 12, "right": 16, "bottom": 4},
        "legend_show": false,
        "tooltip_show": true,
        "x_axis_data": labels,
        "x_axis_font_color": "#8a8f98",
        "x_axis_stroke_color": "#8a8f98",
        "x_axis_font_size": 13,
        "grid_stroke_color": "rgba(138, 143, 152, 0.25)",
        "series_colors": ["#4f6bed"],
        "series_list": [{"name": "Credits", "data": values}],
        "y_axis_configs": [{"axis_font_color": "#8a8f98", "axis_font_size": 13, "axis_min": 0}],
    });
    let mut chart = charts_rs::BarChart::from_json(&options.to_string()).map_err(|error| error.to_string())?;
    // The JSON options have no background key for bar charts; the typed field does.
    chart.background_color = charts_rs::Color::transparent();
    chart.svg().map_err(|error| error.to_string())
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
                days: 1,
                credits: Credits::from_hundredths(hundredths),
            })
            .collect();
        let svg = render_daily_chart(&days).unwrap();
        assert!(svg.starts_with("<svg"), "{svg}");
        for day in ["29-04-2024", "30-04-2024", "01-05-2024"] {
            assert!(svg.contains(day), "label {day} missing");
        }
    }
}
