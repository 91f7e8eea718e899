//! The 90-day bar: one SVG segment per local day, coloured by its level and never by colour
//! alone. Each segment is focusable and names its day in an SVG `<title>` (date, uptime,
//! incidents that day): assistive technology reads it and browsers show it on hover, with or
//! without JS. The visible tooltip (the same facts, incidents linked) comes in two kinds, see
//! [`Tips`].
//!
//! Segments are placed in percentages of the bar's width (no `viewBox`), so the tooltip text
//! is never scaled; on narrow screens the stylesheet hides the older days and re-spreads the
//! last 30 using each segment's `--i` index.

use domain::availability::BarLevel;
use domain::locale::Locale;
use leptos::html::Div;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

use crate::components::site_chrome::href;
use crate::words::Day;
use wording::Texts;

pub use crate::words::MOBILE_DAYS;

/// Where a bar's visible tooltips live.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Tips {
    /// Each segment carries its tooltip in its markup, shown by CSS on hover and focus: works
    /// without JS. For pages with one bar and no island (the service page).
    #[default]
    Inline,
    /// One tooltip per bar, drawn by the island for the day under the pointer or the focus;
    /// segments keep only their `<title>`. For `/`, where 100 services would otherwise carry
    /// 9,000 tooltips: 2.3 of its 5 MB, and most of its DOM. `bar` names the bar in the
    /// island's [`LookedAt`].
    Shared { bar: String },
}

/// The day a reader is looking at on `/`. The island keeps it above the bars, whose
/// components every live reload runs again, so that the tooltip stays open. (The reload
/// patches the DOM in place, so the keyboard focus stays on its segment by itself.)
#[derive(Clone, Copy, Debug)]
pub struct LookedAt(pub RwSignal<Option<Look>>);

impl LookedAt {
    pub fn new() -> Self {
        LookedAt(RwSignal::new(None))
    }
}

impl Default for LookedAt {
    fn default() -> Self {
        Self::new()
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Look {
    /// The bar, as named by [`Tips::Shared`].
    bar: String,
    /// The day's index in the bar.
    day: usize,
}

/// A bar of `days`, oldest first, worded by the server ([`crate::words`]); `label` is its
/// accessible name.
#[component]
pub fn DayBar(label: String, days: Vec<Day>, #[prop(optional)] tips: Tips) -> impl IntoView {
    let t = wording::texts(use_context::<Locale>().unwrap_or_default());
    let n = days.len().max(1);
    let (shared, bar) = match tips {
        Tips::Inline => (false, String::new()),
        Tips::Shared { bar } => (true, bar),
    };
    let segments = days
        .iter()
        .enumerate()
        .map(|(i, day)| segment(t, i, n, day, !shared))
        .collect_view();
    let total = n;
    let looked = use_context::<LookedAt>().unwrap_or_default().0;
    let bar = StoredValue::new(bar);
    let wrap = NodeRef::<Div>::new();
    let days = StoredValue::new(days);
    // The day of this bar being looked at.
    let shown = move || {
        looked.with(|l| {
            l.as_ref()
                .filter(|l| bar.with_value(|b| *b == l.bar))
                .map(|l| l.day)
        })
    };
    let look = move |day: Option<usize>| match day {
        Some(day) => looked.set(Some(Look {
            bar: bar.get_value(),
            day,
        })),
        // Only this bar's look is closed here.
        None => looked.maybe_update(|l| {
            let mine = l.as_ref().is_some_and(|l| bar.with_value(|b| *b == l.bar));
            if mine {
                *l = None;
            }
            mine
        }),
    };
    let shared_tip = move || {
        let i = shown()?;
        let day = days.with_value(|d| d.get(i).cloned())?;
        let class = format!("{} day-tip-shared", tip_class(i, n));
        Some(view! {
            <div class=class style=format!("--i:{i}")>
                {tip_body(t, &day)}
            </div>
        })
    };
    view! {
        // The name sits on the wrapper so that the SVG carries only its class (the markup
        // contract other tests read: `<svg class="day-bar"`).
        <div
            class="day-bar-wrap"
            role="group"
            aria-label=label
            style=format!("--n:{total}")
            node_ref=wrap
            on:mouseover=move |ev| {
                if let Some(i) = shared.then(|| day_of(ev.target())).flatten() {
                    look(Some(i));
                }
            }
            on:focusin=move |ev| {
                if let Some(i) = shared.then(|| day_of(ev.target())).flatten() {
                    look(Some(i));
                }
            }
            // The pointer left: back to the day that has the focus, if it is in this bar.
            on:mouseleave=move |_| {
                if shared {
                    look(focused_day(wrap));
                }
            }
            on:focusout=move |ev| {
                if shared && !within(wrap, ev.related_target()) {
                    look(None);
                }
            }
            // Escape closes the tooltip (WCAG 1.4.13); Enter takes the keyboard into it, to its
            // first incident link.
            on:keydown=move |ev| {
                if !shared {
                    return;
                }
                match ev.key().as_str() {
                    "Escape" => look(None),
                    "Enter" => focus_first_link(ev.current_target()),
                    _ => {}
                }
            }
        >
            <svg class="day-bar">
                {segments}
            </svg>
            {shared_tip}
            <p class="day-bar-axis" aria-hidden="true">
                <span class="ago-all">{t.days_ago(total)}</span>
                <span class="ago-mobile">{t.days_ago(MOBILE_DAYS.min(total))}</span>
                <span>{t.today()}</span>
            </p>
        </div>
    }
    .into_any()
}

/// The index of the day segment an event happened in: its place among the bar's segments.
fn day_of(target: Option<web_sys::EventTarget>) -> Option<usize> {
    let day = target?
        .dyn_into::<web_sys::Element>()
        .ok()?
        .closest("g.day")
        .ok()??;
    Some(
        std::iter::successors(day.previous_element_sibling(), |e| {
            e.previous_element_sibling()
        })
        .count(),
    )
}

/// The day segment of this bar that has the keyboard focus.
fn focused_day(wrap: NodeRef<Div>) -> Option<usize> {
    let active = web_sys::window()?.document()?.active_element()?;
    let inside = within(wrap, Some(active.clone().into()));
    inside.then(|| day_of(Some(active.into()))).flatten()
}

fn within(wrap: NodeRef<Div>, target: Option<web_sys::EventTarget>) -> bool {
    let node = target.and_then(|t| t.dyn_into::<web_sys::Node>().ok());
    wrap.get_untracked()
        .is_some_and(|w| node.is_some_and(|n| w.contains(Some(&n))))
}

/// Focuses the first link of the bar's shared tooltip. The bar is found from the event (its
/// wrapper), not through a node reference: a live reload that ran since the tooltip opened
/// builds the bar again, and the end2end test of Enter failed now and then with the reference.
fn focus_first_link(wrap: Option<web_sys::EventTarget>) {
    let link = wrap
        .and_then(|w| w.dyn_into::<web_sys::Element>().ok())
        .and_then(|w| w.query_selector(".day-tip-shared a").ok().flatten())
        .and_then(|a| a.dyn_into::<web_sys::HtmlElement>().ok());
    if let Some(link) = link {
        let _ = link.focus();
    }
}

/// Tooltips of the right half open towards the left, so they stay inside the bar.
fn tip_class(i: usize, n: usize) -> &'static str {
    if i * 2 >= n {
        "day-tip day-tip-left"
    } else {
        "day-tip"
    }
}

/// What a tooltip says: the date, the uptime, the incidents of the day as links.
fn tip_body(t: &'static Texts, day: &Day) -> impl IntoView {
    let incidents = if day.incidents.is_empty() {
        view! { <p class="day-tip-none">{t.no_incident_that_day()}</p> }.into_any()
    } else {
        let count = t.incidents_that_day(day.incidents.len());
        view! {
            <p class="day-tip-count">{count}</p>
            <ul class="day-tip-incidents">
                {day
                    .incidents
                    .iter()
                    .map(|inc| {
                        view! { <li><a href=href(&format!("/incidents/{}", inc.id), &[])>{inc.title.clone()}</a></li> }
                    })
                    .collect_view()}
            </ul>
        }
        .into_any()
    };
    view! {
        <p class="day-tip-date">{day.date.text.clone()}</p>
        <p class="day-tip-uptime">{day.summary.clone()}</p>
        {incidents}
    }
}

/// `part / whole` in thousandths of a percent, rounded half up. In integers, so the wasm
/// carries no float formatting.
fn milli_percent(part: usize, whole: usize) -> u64 {
    let whole = whole.max(1) as u64;
    (part as u64 * 200_000 + whole) / (2 * whole)
}

/// Thousandths of a percent as CSS: "1.111%".
fn css_percent(milli: u64) -> String {
    format!("{}.{:03}%", milli / 1000, milli % 1000)
}

fn segment(t: &'static Texts, i: usize, n: usize, day: &Day, inline_tip: bool) -> impl IntoView {
    let mut title = format!("{} — {}", day.date.text, day.summary);
    for inc in &day.incidents {
        title.push_str(" — ");
        title.push_str(&inc.title);
    }
    // Exactly `day day-{level}`: other tests match it. Older days are marked apart.
    let class = format!("day day-{}", day.level);
    let old = (i + MOBILE_DAYS < n).then_some("");
    let inline_tip = inline_tip.then(|| {
        view! {
            // The foreignObject's x and y are 0, their default.
            <foreignObject class="day-tip-box" width="100%" height="100%">
                <div class=tip_class(i, n)>{tip_body(t, day)}</div>
            </foreignObject>
        }
    });
    // A segment is 80 % of its day's width, and never under 0.1 % of the bar.
    let width = milli_percent(4, 5 * n).max(100);
    view! {
        <g
            class=class
            data-date=day.date.attr.clone()
            data-old=old
            tabindex="0"
            style=format!("--i:{i}")
        >
            <title>{title}</title>
            // y is 0, its default.
            <rect
                x=css_percent(milli_percent(i, n))
                width=css_percent(width)
                height="34"
                rx="1.5"
            ></rect>
            {inline_tip}
        </g>
    }
    .into_any()
}

/// What the colours of the bars mean, in words.
#[component]
pub fn DayBarLegend() -> impl IntoView {
    let t = wording::texts(use_context::<Locale>().unwrap_or_default());
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

#[cfg(test)]
mod tests {
    use super::{css_percent, milli_percent};

    /// The integer placement says what the float formatting it replaced said, for every bar
    /// length a page can show (`{:.3}` of the float, the way the segments were placed before).
    #[test]
    fn segments_sit_where_float_formatting_put_them() {
        for n in 1..=400usize {
            let width = 100.0 / n as f64;
            for i in 0..n {
                let x = i as f64 * width;
                // Only a tie in the fourth decimal may round the other way.
                let tie = ((x * 1000.0).fract() - 0.5).abs() < 1e-6;
                if !tie {
                    assert_eq!(
                        css_percent(milli_percent(i, n)),
                        format!("{x:.3}%"),
                        "day {i} of {n}"
                    );
                }
            }
            let w = (width * 0.8).max(0.1);
            if ((w * 1000.0).fract() - 0.5).abs() >= 1e-6 {
                assert_eq!(
                    css_percent(milli_percent(4, 5 * n).max(100)),
                    format!("{w:.3}%"),
                    "{n} days"
                );
            }
        }
    }
}
