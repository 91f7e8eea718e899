//! The scheduler on its own, as a remote agent uses it (no database): monitors in, confirmed
//! results out on a channel, each with its monitor's key, its state and the confirmed change
//! it made; dropping the scheduler ends the channel.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use domain::status::CheckOutcome;
use domain::topology;
use probe::checks::{Checked, Checks, Job, Limits};
use tokio::sync::mpsc;

/// A site whose `/switch` fails (503) while `failing` is set.
async fn site() -> (SocketAddr, Arc<AtomicBool>) {
    let failing = Arc::new(AtomicBool::new(false));
    let app = Router::new()
        .route(
            "/switch",
            get(|State(f): State<Arc<AtomicBool>>| async move {
                if f.load(Ordering::SeqCst) {
                    (StatusCode::SERVICE_UNAVAILABLE, "down").into_response()
                } else {
                    "up".into_response()
                }
            }),
        )
        .with_state(failing.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    (addr, failing)
}

async fn next(rx: &mut mpsc::Receiver<Checked>) -> Checked {
    tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("a result within 10 s")
        .expect("the channel is open")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn monitors_in_confirmed_results_out() {
    let (addr, failing) = site().await;
    let text = format!(
        "[site]\ntitle = \"T\"\n[[groups]]\nid = \"g\"\nname = \"G\"\n\
         [[services]]\nid = \"web\"\nname = \"Web\"\ngroup = \"g\"\n\
         [[services.monitors]]\nid = \"home\"\nkind = \"http\"\ntarget = \"http://{addr}/switch\"\n\
         interval = \"300ms\"\nretry_interval = \"100ms\"\nconfirm = 2\n"
    );
    let catalog = domain::config::parse("t.toml", &text).unwrap_or_else(|e| panic!("{e}"));
    let jobs: Vec<Job> = topology::monitors(&catalog)
        .map(|(key, m)| Job::new(key, m.clone()))
        .collect();
    failing.store(true, Ordering::SeqCst);
    let (checks, mut rx) = Checks::start(jobs, None, Limits::default()).expect("clients");
    assert_eq!(checks.len(), 1);

    let first = next(&mut rx).await;
    assert_eq!(first.key.to_string(), "service/web/home");
    assert_eq!(first.result.outcome, CheckOutcome::Down);
    assert_eq!(
        said(&first.result.reason).as_deref(),
        Some("HTTP 503 (expected 200-399)")
    );
    assert!(first.transition.is_none(), "one failure is not confirmed");
    let second = next(&mut rx).await;
    let t = second.transition.clone().expect("two failures confirm");
    assert_eq!((t.from, t.to), (None, CheckOutcome::Down));
    assert_eq!(second.state.confirmed, Some(CheckOutcome::Down));

    failing.store(false, Ordering::SeqCst);
    loop {
        let c = next(&mut rx).await;
        if c.result.outcome == CheckOutcome::Up {
            assert!(c.at > second.at);
            break;
        }
    }
    assert!(checks.stats().checks.load(Ordering::Relaxed) >= 3);
    drop(checks);
    while rx.recv().await.is_some() {}
}

/// A result's reason in English words (stored data or outside words alike).
fn said(r: &Option<String>) -> Option<String> {
    r.as_deref()
        .map(|s| domain::reason::Reason::from_stored(s).to_string())
}
