//! Upgrading a database an earlier version wrote: the schema is built up to the migration
//! before `m20261207_000150_structured_reasons` (so before the push tokens' and the probe
//! headers' migrations too), rows are written as that version wrote them (a push monitor's
//! token in clear in its settings, an HTTP probe's header values, English sentences as causes
//! and reasons), then Vigie migrates as it does at start. Afterwards no secret is left in
//! clear anywhere in the database, the sentences are data, and the push monitor accepts its
//! old token once the operator supplies it from the environment (what docs/security.md asks).
//! On SQLite and on PostgreSQL.

mod common;

use chrono::{DateTime, Utc};
use migrations::{Migrator, MigratorTrait};
use sea_orm::sea_query::{Alias, Expr, Query, SimpleExpr};
use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde_json::{json, Value};

/// The first migration the old version did not have.
const FIRST_NEW: &str = "m20261207_000150_structured_reasons";

const PUSH_TOKEN: &str = "old-clear-push-token-0123456789abcdef";
const HEADER_SECRETS: [&str; 2] = ["Bearer s3cret-header-value-42", "k3y-value-0123456789"];

/// How many migrations the old version had applied.
fn old_steps() -> u32 {
    let at = Migrator::migrations()
        .iter()
        .position(|m| m.name() == FIRST_NEW)
        .expect("the migration exists");
    u32::try_from(at).expect("few migrations")
}

async fn insert(db: &DatabaseConnection, table: &str, values: Vec<(&str, SimpleExpr)>) {
    let (columns, values): (Vec<_>, Vec<_>) = values.into_iter().unzip();
    let stmt = Query::insert()
        .into_table(Alias::new(table))
        .columns(columns.into_iter().map(Alias::new))
        .values_panic(values)
        .to_owned();
    db.execute(&stmt)
        .await
        .unwrap_or_else(|e| panic!("insert into {table}: {e}"));
}

fn v(value: impl Into<sea_orm::Value>) -> SimpleExpr {
    Expr::val(value)
}

fn null_text() -> SimpleExpr {
    v(Option::<String>::None)
}

/// The rows of the old version: a location, a service, a push monitor and an HTTP monitor
/// with secrets in their settings, and probe history with sentences.
async fn write_old_rows(db: &DatabaseConnection, now: DateTime<Utc>) {
    insert(
        db,
        "locations",
        vec![("id", v("paris")), ("name", v("Paris"))],
    )
    .await;
    insert(
        db,
        "service_groups",
        vec![("id", v("main")), ("name", v("Main")), ("position", v(0))],
    )
    .await;
    insert(
        db,
        "services",
        vec![
            ("id", v("forum")),
            ("name", v("Forum")),
            ("group_id", v("main")),
            ("depends_on", v("[]")),
            ("position", v(0)),
            ("created_at", v(now)),
        ],
    )
    .await;
    let monitor = |key: &str, kind: &str, target: &str, settings: Value| {
        vec![
            ("key", v(key)),
            ("service_id", v("forum")),
            ("kind", v(kind)),
            ("target", v(target)),
            ("interval_ms", v(60_000i64)),
            ("timeout_ms", v(5_000i64)),
            ("retry_interval_ms", v(30_000i64)),
            ("confirm", v(2)),
            ("recover", v(2)),
            ("locations", v("[\"paris\"]")),
            ("settings", v(settings.to_string())),
        ]
    };
    insert(
        db,
        "monitors",
        monitor(
            "forum/backup",
            "push",
            "",
            json!({ "token": PUSH_TOKEN, "grace_ms": 60_000 }),
        ),
    )
    .await;
    insert(
        db,
        "monitors",
        monitor(
            "forum/home",
            "http",
            "https://forum.example/",
            json!({
                "headers": { "Authorization": HEADER_SECRETS[0], "X-Api-Key": HEADER_SECRETS[1] },
                "expected_status": "200-399",
            }),
        ),
    )
    .await;
    for reason in [
        "HTTP 502 (expected 200-399)",
        "timeout after 1.5 s",
        "connection reset by peer",
    ] {
        insert(
            db,
            "check_results",
            vec![
                ("monitor_id", v(2i64)),
                ("location_id", v("paris")),
                ("checked_at", v(now)),
                ("outcome", v("down")),
                ("reason", v(reason)),
            ],
        )
        .await;
    }
    insert(
        db,
        "monitor_states",
        vec![
            ("monitor_id", v(2i64)),
            ("location_id", v("paris")),
            ("confirmed", v("down")),
            ("streak", v(0)),
            ("last_outcome", v("down")),
            ("last_at", v(now)),
            ("last_reason", v("timeout after 4 s")),
        ],
    )
    .await;
    insert(
        db,
        "current_statuses",
        vec![
            ("subject_kind", v("service")),
            ("subject_id", v("forum")),
            ("status", v("major_outage")),
            ("cause", v("down: monitor home: timeout after 4 s")),
            ("since", v(now)),
            ("updated_at", v(now)),
        ],
    )
    .await;
    insert(
        db,
        "status_events",
        vec![
            ("subject_kind", v("service")),
            ("subject_id", v("forum")),
            ("location_id", null_text()),
            ("from_status", v("operational")),
            ("to_status", v("degraded_performance")),
            (
                "cause",
                v("degraded: monitor home: HTTP 502 (expected 200-399)"),
            ),
            ("at", v(now)),
        ],
    )
    .await;
    insert(
        db,
        "push_beats",
        vec![
            ("monitor_id", v(1i64)),
            ("waiting_since", v(now)),
            ("outcome", v("down")),
            ("reason", v("keyword \"Bienvenue\" not found")),
        ],
    )
    .await;
}

/// Every text value of every column of `table`, as one string per row.
async fn dump(db: &DatabaseConnection, table: &str) -> Vec<String> {
    let stmt = Query::select()
        .expr(Expr::cust("*"))
        .from(Alias::new(table))
        .to_owned();
    db.query_all(&stmt)
        .await
        .unwrap_or_else(|e| panic!("select from {table}: {e}"))
        .into_iter()
        .map(|row| {
            row.column_names()
                .iter()
                .filter_map(|c| row.try_get::<Option<String>>("", c).ok().flatten())
                .collect::<Vec<_>>()
                .join(" | ")
        })
        .collect()
}

/// `col` of every row of `table` as JSON, in the order of `table`'s first column (its id).
async fn column(db: &DatabaseConnection, table: &str, col: &str) -> Vec<Value> {
    let first = match table {
        "monitors" | "check_results" | "status_events" => "id",
        "push_beats" | "monitor_states" => "monitor_id",
        _ => "subject_id",
    };
    let stmt = Query::select()
        .column(Alias::new(col))
        .from(Alias::new(table))
        .order_by(Alias::new(first), sea_orm::Order::Asc)
        .to_owned();
    db.query_all(&stmt)
        .await
        .unwrap_or_else(|e| panic!("select {col} from {table}: {e}"))
        .into_iter()
        .map(|row| {
            let text: String = row.try_get_by_index(0).expect("text");
            serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{table}.{col} is not JSON ({e}): {text}"))
        })
        .collect()
}

async fn upgrade(db: DatabaseConnection) {
    let now = Utc::now();
    Migrator::up(&db, Some(old_steps()))
        .await
        .expect("the old version's schema");
    let applied = store::applied_migrations(&db).await.expect("applied");
    assert!(
        !applied.iter().any(|m| m.as_str() >= FIRST_NEW),
        "{applied:?}"
    );
    write_old_rows(&db, now).await;
    // What the check below looks through does hold the secrets before the upgrade.
    let before = dump(&db, "monitors").await.join("\n");
    for secret in [PUSH_TOKEN, HEADER_SECRETS[0], HEADER_SECRETS[1]] {
        assert!(before.contains(secret), "{before}");
    }

    store::migrate(&db).await.expect("the upgrade migrates");

    // No secret left in clear, in any table.
    for table in ["monitors", "push_tokens", "audit_events"] {
        for row in dump(&db, table).await {
            for secret in [PUSH_TOKEN, HEADER_SECRETS[0], HEADER_SECRETS[1]] {
                assert!(!row.contains(secret), "{table} keeps a secret: {row}");
            }
        }
    }
    let settings = column(&db, "monitors", "settings").await;
    assert_eq!(
        settings[0],
        json!({ "grace_ms": 60_000 }),
        "the push token left the settings"
    );
    assert_eq!(
        settings[1]["headers"],
        json!({ "Authorization": "", "X-Api-Key": "" }),
        "header names kept, values emptied"
    );
    assert_eq!(settings[1]["expected_status"], "200-399", "the rest kept");

    // The sentences became data.
    assert_eq!(
        column(&db, "check_results", "reason").await,
        [
            json!({ "kind": "http_status", "status": 502, "expected": "200-399" }),
            json!({ "kind": "timeout", "ms": 1500 }),
            json!({ "kind": "text", "text": "connection reset by peer" }),
        ]
    );
    assert_eq!(
        column(&db, "monitor_states", "last_reason").await,
        [json!({ "kind": "timeout", "ms": 4000 })]
    );
    assert_eq!(
        column(&db, "push_beats", "reason").await,
        [json!({ "kind": "keyword_missing", "keyword": "Bienvenue" })]
    );
    let current = column(&db, "current_statuses", "cause").await;
    assert_eq!(current[0]["kind"], "monitor", "{current:?}");
    assert_eq!(current[0]["monitor"], "home", "{current:?}");
    assert_eq!(
        current[0]["reason"],
        json!({ "kind": "timeout", "ms": 4000 })
    );
    let events = column(&db, "status_events", "cause").await;
    assert_eq!(
        events[0]["reason"],
        json!({ "kind": "http_status", "status": 502, "expected": "200-399" }),
        "{events:?}"
    );

    // The push monitor has no token until the operator supplies one; supplied from the
    // environment as the start does, the old token is accepted again, stored only as a hash.
    let hashes = store::push::token_hashes(&db, &[1]).await.expect("hashes");
    assert!(
        hashes.is_empty(),
        "no token survives in any form: {hashes:?}"
    );
    store::push::configured_token(&db, 1, PUSH_TOKEN, now)
        .await
        .expect("configured");
    let hashes = store::push::token_hashes(&db, &[1]).await.expect("hashes");
    assert_eq!(
        hashes.get(&1).map(|(h, _)| h.as_str()),
        Some(store::tokens::digest(PUSH_TOKEN).as_str()),
        "the old token is the monitor's again"
    );
    for row in dump(&db, "push_tokens").await {
        assert!(
            !row.contains(PUSH_TOKEN),
            "push_tokens keeps it in clear: {row}"
        );
    }
    // Migrating again changes nothing.
    store::migrate(&db).await.expect("idempotent");
    assert_eq!(
        column(&db, "monitor_states", "last_reason").await,
        [json!({ "kind": "timeout", "ms": 4000 })]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_old_database_is_upgraded_without_secrets_in_clear_on_sqlite() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("old.db").display());
    upgrade(store::connect(&url).await.expect("connect")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_old_database_is_upgraded_without_secrets_in_clear_on_postgres() {
    if let Some(url) = common::postgres_empty_url().await {
        upgrade(store::connect(&url).await.expect("connect")).await;
    }
}
