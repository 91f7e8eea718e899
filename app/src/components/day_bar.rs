//! The 90-day bar: one SVG segment per local day, coloured by its level and never by colour
//! alone. Each segment is focusable and carries its tooltip (date, uptime, incidents that day,
//! linked) in the HTML itself: CSS shows it on hover and on focus, so it works before and
//! without JS, and the SVG `<title>` gives the same facts to assistive technology.
//!
//! Segments are placed in percentages of the bar's width (no `viewBox`), so the tooltip text
//! is never scaled; on narrow screens the stylesheet hides the older days and re-spreads the
//! last 30 using each segment's `--i` index.

use domain::availability::{BarLevel, DayStat};
use domain::locale::Locale;
use leptos::prelude::*;

use crate::i18n::Texts;

/// Days shown on narrow screens (the stylesheet hides the others).
pub const MOBILE_DAYS: usize = 30;

#[component]
pub fn DayBar(name: String, days: Vec<DayStat>) -> impl IntoView {
    let t = crate::i18n::texts(use_context::<Locale>().unwrap_or_default());
    let n = days.len().max(1);
    let width = 100.0 / n as f64;
    let label = t.day_bar_name(&name, days.len());
    let segments = days
        .into_iter()
        .enumerate()
        .map(|(i, day)| segment(t, i, n, width, day))
        .collect_view();
    let total = n;
    view! {
        // The name sits on the wrapper so that the SVG carries only its class (the markup
        // contract other tests read: `<svg class="day-bar"`).
        <div class="day-bar-wrap" role="group" aria-label=label>
            <svg class="day-bar" style=format!("--n:{total}")>
                {segments}
            </svg>
            <p class="day-bar-axis" aria-hidden="true">
                <span class="ago-all">{t.days_ago(total)}</span>
                <span class="ago-mobile">{t.days_ago(MOBILE_DAYS.min(total))}</span>
                <span>{t.today()}</span>
            </p>
        </div>
    }
    .into_any()
}

fn segment(t: &'static Texts, i: usize, n: usize, width: f64, day: DayStat) -> impl IntoView {
    let level = day.level();
    let date = t.date(day.date);
    let uptime = t.uptime(day.uptime_pct());
    let words = t.bar_level(level);
    // A day without data says so once, not as its uptime and again as its level.
    let summary = if uptime == words {
        uptime
    } else {
        format!("{uptime} · {words}")
    };
    let mut title = format!("{date} — {summary}");
    for inc in &day.incidents {
        title.push_str(" — ");
        title.push_str(&inc.title);
    }
    // Exactly `day day-{level}`: other tests match it. Older days are marked apart.
    let class = format!("day day-{}", level.css_class());
    let old = (i + MOBILE_DAYS < n).then_some("");
    // Tooltips of the right half open towards the left, so they stay inside the bar.
    let tip_class = if i * 2 >= n {
        "day-tip day-tip-left"
    } else {
        "day-tip"
    };
    let incidents = if day.incidents.is_empty() {
        view! { <p class="day-tip-none">{t.no_incident_that_day()}</p> }.into_any()
    } else {
        let count = t.incidents_that_day(day.incidents.len());
        view! {
            <p class="day-tip-count">{count}</p>
            <ul class="day-tip-incidents">
                {day
                    .incidents
                    .into_iter()
                    .map(|inc| {
                        view! { <li><a href=format!("/incidents/{}", inc.id)>{inc.title}</a></li> }
                    })
                    .collect_view()}
            </ul>
        }
        .into_any()
    };
    view! {
        <g
            class=class
            data-date=day.date.format("%Y-%m-%d").to_string()
            data-old=old
            tabindex="0"
            style=format!("--i:{i}")
        >
            <title>{title}</title>
            // y and the foreignObject's x and y are 0, their default.
            <rect
                x=format!("{:.3}%", i as f64 * width)
                width=format!("{:.3}%", (width * 0.8).max(0.1))
                height="34"
                rx="1.5"
            ></rect>
            <foreignObject class="day-tip-box" width="100%" height="100%">
                <div class=tip_class>
                    <p class="day-tip-date">{date}</p>
                    <p class="day-tip-uptime">{summary}</p>
                    {incidents}
                </div>
            </foreignObject>
        </g>
    }
    .into_any()
}

/// What the colours of the bars mean, in words.
#[component]
pub fn DayBarLegend() -> impl IntoView {
    let t = crate::i18n::texts(use_context::<Locale>().unwrap_or_default());
    view! {
        <section class="day-legend" aria-label=t.legend()>
            <ul>
                {[
                    BarLevel::Operational,
                    BarLevel::Minor,
                    BarLevel::Major,
                    BarLevel::Critical,
                    BarLevel::NoData,
                ]
                    .into_iter()
                    .map(|l| {
                        view! {
                            <li>
                                <span class=format!("swatch day-{}", l.css_class()) aria-hidden="true"></span>
                                " "
                                {t.bar_level(l)}
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        </section>
    }
    .into_any()
}
