//! The response-time chart of a service page: server-rendered SVG with p50 (solid) and p95
//! (dashed) lines, labelled axes, an accessible name and a one-sentence summary, so it reads
//! the same with JS off, with a screen reader and in the hydrated page.

use domain::chart::{self, ChartRange, LatencyPoint, Scale};
use domain::locale::Locale;
use leptos::prelude::*;

use wording::Texts;

const W: f64 = 720.0;
const H: f64 = 240.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 28.0;

fn tick_label(t: &'static Texts, p: &LatencyPoint, range: ChartRange) -> String {
    match range {
        ChartRange::Day => t.hour_minute(p.local),
        ChartRange::Week | ChartRange::Month => t.short_date(p.local.date()),
    }
}

/// The sentence under the chart: the typical (result-weighted) median and the worst p95 with
/// when it happened.
fn summary(
    t: &'static Texts,
    points: &[LatencyPoint],
    range: ChartRange,
    zone: &str,
) -> Option<String> {
    let (sum, weight) = points
        .iter()
        .filter_map(|p| p.p50_ms.map(|v| (f64::from(v), f64::from(p.checks.max(1)))))
        .fold((0.0, 0.0), |(s, w), (v, n)| (s + v * n, w + n));
    let worst = points
        .iter()
        .filter_map(|p| p.p95_ms.map(|v| (v, p)))
        .max_by_key(|(v, _)| *v);
    let median = (weight > 0.0).then(|| (sum / weight).round() as i64)?;
    let (worst, at) = worst?;
    let when = match range {
        ChartRange::Month => t.date(at.local.date()),
        _ => t.naive_date_time(at.local, zone),
    };
    Some(t.chart_summary(
        t.range_label(range.as_str()),
        &t.ms(median),
        &t.ms(i64::from(worst)),
        &when,
    ))
}

#[component]
pub fn LatencyChart(
    service: String,
    points: Vec<LatencyPoint>,
    range: ChartRange,
    timezone: String,
) -> impl IntoView {
    let t = wording::texts(use_context::<Locale>().unwrap_or_default());
    let n = points.len().max(1);
    let plot_w = W - LEFT - RIGHT;
    let x = move |i: usize| LEFT + (i as f64 + 0.5) * plot_w / n as f64;
    let max = points
        .iter()
        .filter_map(|p| p.p95_ms.or(p.p50_ms))
        .max()
        .map_or(0.0, f64::from);
    let y_ticks = chart::ticks(max, 4);
    let top = y_ticks.last().copied().unwrap_or(100.0);
    let y = Scale {
        domain: (0.0, top),
        range: (H - BOTTOM, TOP),
    };
    let p50: Vec<Option<u32>> = points.iter().map(|p| p.p50_ms).collect();
    let p95: Vec<Option<u32>> = points.iter().map(|p| p.p95_ms).collect();
    let d50 = chart::path(&p50, x, &y);
    let d95 = chart::path(&p95, x, &y);
    let locals: Vec<_> = points.iter().map(|p| p.local).collect();
    // The first label starts at its tick and the last ends at its tick, so neither runs off
    // the figure's edge (on a phone the figure is the screen's width).
    let last = points.len().saturating_sub(1);
    let x_ticks: Vec<(f64, &'static str, String)> = chart::time_ticks(&locals, range)
        .into_iter()
        .filter_map(|i| {
            let anchor = match i {
                0 => "start",
                i if i == last => "end",
                _ => "middle",
            };
            points
                .get(i)
                .map(|p| (x(i), anchor, tick_label(t, p, range)))
        })
        .collect();
    let name = t.chart_name(&service, t.range_label(range.as_str()));
    let text = summary(t, &points, range, &timezone).unwrap_or_else(|| t.no_latency().to_owned());
    // Hours are on the site's clock; the 30-day points are the site's days, and say so.
    let clock = if range.hourly() {
        t.times_in(&timezone)
    } else {
        t.local_days(&timezone)
    };
    let desc = format!("{text} {clock}");
    let caption = clock.clone();
    view! {
        <figure class=format!("latency-chart range-{}", range.as_str())>
            <svg
                class="chart"
                viewBox=format!("0 0 {W} {H}")
                role="img"
                aria-labelledby="latency-title latency-desc"
            >
                <title id="latency-title">{name}</title>
                <desc id="latency-desc">{desc}</desc>
                <g class="axis axis-y">
                    {y_ticks
                        .iter()
                        .map(|v| {
                            let py = format!("{:.1}", y.map(*v));
                            view! {
                                <line class="grid" x1=LEFT x2=W - RIGHT y1=py.clone() y2=py.clone()></line>
                                <text x=LEFT - 6.0 y=py text-anchor="end" dominant-baseline="middle">
                                    {t.ms(*v as i64)}
                                </text>
                            }
                        })
                        .collect_view()}
                </g>
                <g class="axis axis-x">
                    <line x1=LEFT x2=W - RIGHT y1=H - BOTTOM y2=H - BOTTOM></line>
                    {x_ticks
                        .into_iter()
                        .map(|(px, anchor, label)| {
                            let px = format!("{px:.1}");
                            view! {
                                <line x1=px.clone() x2=px.clone() y1=H - BOTTOM y2=H - BOTTOM + 4.0></line>
                                <text x=px y=H - 8.0 text-anchor=anchor>{label}</text>
                            }
                        })
                        .collect_view()}
                </g>
                <path class="line p95" d=d95 fill="none"></path>
                <path class="line p50" d=d50 fill="none"></path>
            </svg>
            <figcaption>
                <p class="chart-summary">{text}</p>
                <ul class="chart-legend">
                    <li><span class="key key-p50" aria-hidden="true"></span> {t.p50_legend()}</li>
                    <li><span class="key key-p95" aria-hidden="true"></span> {t.p95_legend()}</li>
                </ul>
                <p class="chart-tz">{caption}</p>
            </figcaption>
        </figure>
    }
    .into_any()
}
