//! The staff console and the write API through the real router on port 0: roles, CSRF and
//! Origin checks, sign-in throttling, session fixation, token scopes and revocation, path
//! normalisation bypass attempts, and what the public side stores from staff's input.

use domain::staff::Role;
use domain::staff::Scope;
use domain::status::{ComponentStatus, ServiceState};
use domain::topology::Owner;
use reqwest::{header, Client, StatusCode};
use serde_json::{json, Value};
use store::audit::{Actor, AuditFilter};

use crate::common;

use common::browser;

pub(crate) struct TestApp {
    pub(crate) base: String,
    pub(crate) db: store::Db,
    pub(crate) _server: common::Server,
}

pub(crate) const PASSWORD: &str = "correct horse battery staple";

async fn spawn_app() -> TestApp {
    let server = common::Server::start(&common::humanoid(), common::Probes::On).await;
    TestApp {
        base: server.base.clone(),
        db: server.db.clone(),
        _server: server,
    }
}

impl TestApp {
    pub(crate) async fn user(&self, email: &str, role: Role) -> store::users::User {
        let hash = store::users::hash_password(PASSWORD).expect("hash");
        store::users::create(
            &self.db,
            email,
            role,
            &hash,
            &Actor::cli(),
            chrono::Utc::now(),
        )
        .await
        .expect("user")
    }

    async fn token(&self, owner: i64, scopes: &[Scope]) -> String {
        store::tokens::api::create(
            &self.db,
            owner,
            "t",
            scopes,
            &Actor::cli(),
            chrono::Utc::now(),
        )
        .await
        .expect("token")
        .0
    }

    /// The CSRF field's value in a page.
    fn csrf(html: &str) -> String {
        let at = html.find("name=\"csrf\" value=\"").expect("csrf field") + 19;
        html[at..at + html[at..].find('"').expect("end")].to_owned()
    }

    pub(crate) async fn login(&self, c: &Client, email: &str, password: &str) -> reqwest::Response {
        self.login_with_code(c, email, password, "").await
    }

    pub(crate) async fn login_with_code(
        &self,
        c: &Client,
        email: &str,
        password: &str,
        code: &str,
    ) -> reqwest::Response {
        let page = c
            .get(format!("{}/admin/login", self.base))
            .send()
            .await
            .expect("login page")
            .text()
            .await
            .expect("body");
        c.post(format!("{}/admin/login", self.base))
            .form(&[
                ("csrf", Self::csrf(&page).as_str()),
                ("email", email),
                ("password", password),
                ("code", code),
            ])
            .send()
            .await
            .expect("login")
    }

    pub(crate) async fn signed_in(&self, email: &str, role: Role) -> Client {
        self.user(email, role).await;
        let c = browser();
        let res = self.login(&c, email, PASSWORD).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        c
    }

    pub(crate) async fn page_csrf(&self, c: &Client, path: &str) -> String {
        let html = c
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .expect("page")
            .text()
            .await
            .expect("body");
        Self::csrf(&html)
    }

    async fn actions(&self) -> Vec<String> {
        store::audit::list(&self.db, &AuditFilter::default(), 0, 200)
            .await
            .expect("audit")
            .0
            .into_iter()
            .rev()
            .map(|e| e.action)
            .collect()
    }

    /// Each of `expected` is in the audit log.
    pub(crate) async fn assert_audited(&self, expected: &[&str]) {
        let actions = self.actions().await;
        for action in expected {
            assert!(
                actions.iter().any(|a| a == action),
                "{action} in {actions:?}"
            );
        }
    }
}

async fn console_routes_refuse_anyone_without_a_session_even_through_disguised_paths() {
    let app = spawn_app().await;
    let c = browser();
    for path in [
        "/admin",
        "/admin/incidents",
        "/admin/incidents/new",
        "/admin/maintenance",
        "/admin/users",
        "/admin/tokens",
        "/admin/agents",
        "/admin/audit",
    ] {
        let res = c
            .get(format!("{}{path}", app.base))
            .send()
            .await
            .expect("get");
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{path}");
        assert_eq!(res.headers()[header::LOCATION], "/admin/login", "{path}");
    }
    for path in [
        "/%61dmin/users",
        "//admin/users",
        "/admin/../admin/users",
        "/x/..//admin/audit",
    ] {
        let res = c
            .get(format!("{}{path}", app.base))
            .send()
            .await
            .expect("get");
        // The client may resolve `..` itself; either way no console page is served.
        let res = if res.status() == StatusCode::PERMANENT_REDIRECT {
            let target = res.headers()[header::LOCATION]
                .to_str()
                .expect("location")
                .to_owned();
            assert!(target.starts_with("/admin/"), "{path} → {target}");
            c.get(format!("{}{target}", app.base))
                .send()
                .await
                .expect("get")
        } else {
            res
        };
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{path}");
        assert_eq!(res.headers()[header::LOCATION], "/admin/login", "{path}");
    }
    let res = c
        .post(format!("{}/admin/incidents", app.base))
        .form(&[("title", "defaced")])
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(store::incidents::read::recent(&app.db, 0, 10)
        .await
        .expect("q")
        .is_empty());
}

async fn sign_in_sets_a_strict_http_only_cookie_and_rotates_the_session() {
    let app = spawn_app().await;
    app.user("alice@example.org", Role::Editor).await;
    let c = browser();
    let res = app.login(&c, "alice@example.org", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let cookie = res
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("vigie_session="))
        .expect("session cookie")
        .to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    assert!(
        !cookie.contains("Secure"),
        "plain HTTP without a trusted proxy"
    );
    let first = cookie.split(';').next().expect("value").to_owned();

    // Signing in again (as an attacker who planted the first cookie would hope not) gives a
    // new session and ends the old one.
    let res = app.login(&c, "alice@example.org", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let planted = browser();
    let res = planted
        .get(format!("{}/admin/incidents", app.base))
        .header(header::COOKIE, first)
        .send()
        .await
        .expect("get");
    assert_eq!(
        res.status(),
        StatusCode::SEE_OTHER,
        "the old session is gone"
    );
    let res = c
        .get(format!("{}/admin/incidents", app.base))
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), StatusCode::OK);
    let csp = res.headers()[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .expect("csp")
        .to_owned();
    assert!(csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'none'"));

    let csrf = app.page_csrf(&c, "/admin/incidents").await;
    let res = c
        .post(format!("{}/admin/logout", app.base))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .expect("logout");
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = c
        .get(format!("{}/admin/incidents", app.base))
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "signed out");
}

async fn unknown_user_and_wrong_password_get_the_same_answer_and_failures_are_throttled() {
    let app = spawn_app().await;
    app.user("alice@example.org", Role::Admin).await;
    let c = browser();
    let unknown = app
        .login(&c, "nobody@example.org", "whatever-password")
        .await;
    let unknown_status = unknown.status();
    let unknown_body = unknown.text().await.expect("body");
    let wrong = app.login(&c, "alice@example.org", "wrong-password").await;
    assert_eq!(unknown_status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let wrong_body = wrong.text().await.expect("body");
    assert!(unknown_body.contains("Adresse e-mail, mot de passe ou code incorrect."));
    assert!(wrong_body.contains("Adresse e-mail, mot de passe ou code incorrect."));
    for _ in 0..4 {
        app.login(&c, "alice@example.org", "wrong-password").await;
    }
    let res = app.login(&c, "alice@example.org", PASSWORD).await;
    assert_eq!(
        res.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "even the right password waits"
    );
    assert!(res.headers().contains_key(header::RETRY_AFTER));
}

async fn forms_without_the_csrf_token_or_from_another_origin_are_refused() {
    let app = spawn_app().await;
    let c = app.signed_in("alice@example.org", Role::Admin).await;
    let form = [
        ("title", "x"),
        ("impact", "minor"),
        ("status", "investigating"),
        ("message", "m"),
    ];
    let res = c
        .post(format!("{}/admin/incidents", app.base))
        .form(&form)
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), StatusCode::FORBIDDEN, "no token");
    let mut with_bad = form.to_vec();
    with_bad.push(("csrf", "0000"));
    let res = c
        .post(format!("{}/admin/incidents", app.base))
        .form(&with_bad)
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), StatusCode::FORBIDDEN, "wrong token");
    let csrf = app.page_csrf(&c, "/admin/incidents/new").await;
    let mut good = form.to_vec();
    good.push(("csrf", csrf.as_str()));
    let res = c
        .post(format!("{}/admin/incidents", app.base))
        .header(header::ORIGIN, "https://evil.example")
        .form(&good)
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), StatusCode::FORBIDDEN, "foreign origin");
    assert!(store::incidents::read::recent(&app.db, 0, 10)
        .await
        .expect("q")
        .is_empty());
    let res = c
        .post(format!("{}/admin/incidents", app.base))
        .header(header::ORIGIN, app.base.as_str())
        .form(&good)
        .send()
        .await
        .expect("post");
    assert_eq!(
        res.status(),
        StatusCode::SEE_OTHER,
        "same origin with the token"
    );
    assert_eq!(
        store::incidents::read::recent(&app.db, 0, 10)
            .await
            .expect("q")
            .len(),
        1
    );
}

async fn editors_run_incidents_but_not_users_tokens_or_the_audit_log() {
    let app = spawn_app().await;
    let c = app.signed_in("ed@example.org", Role::Editor).await;
    for path in [
        "/admin/incidents",
        "/admin/incidents/new?template=en",
        "/admin/maintenance",
    ] {
        let res = c
            .get(format!("{}{path}", app.base))
            .send()
            .await
            .expect("get");
        assert_eq!(res.status(), StatusCode::OK, "{path}");
    }
    for path in [
        "/admin/users",
        "/admin/tokens",
        "/admin/agents",
        "/admin/audit",
    ] {
        let res = c
            .get(format!("{}{path}", app.base))
            .send()
            .await
            .expect("get");
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{path}");
    }
    let csrf = app.page_csrf(&c, "/admin/incidents").await;
    let res = c
        .post(format!("{}/admin/users", app.base))
        .form(&[
            ("csrf", csrf.as_str()),
            ("email", "evil@example.org"),
            ("role", "admin"),
            ("password", "a-long-enough-password"),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(store::users::list(&app.db).await.expect("q").len(), 1);
}

async fn incident_form_with_french_template_publishes_and_bad_input_is_shown_again() {
    let app = spawn_app().await;
    let c = app.signed_in("ed@example.org", Role::Editor).await;
    let html = c
        .get(format!(
            "{}/admin/incidents/new?template=fr&kind=full",
            app.base
        ))
        .send()
        .await
        .expect("get")
        .text()
        .await
        .expect("body");
    assert!(html.contains("## Ce qui s") && html.contains("## Ce qui change"));
    let csrf = TestApp::csrf(&html);
    let res = c
        .post(format!("{}/admin/incidents", app.base))
        .form(&[
            ("csrf", csrf.as_str()),
            ("title", ""),
            ("impact", "major"),
            ("status", "investigating"),
            ("message", "Texte <b>gardé</b>"),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = res.text().await.expect("body");
    assert!(
        body.contains("Donnez un titre") && body.contains("Texte &lt;b&gt;gardé&lt;/b&gt;"),
        "re-shown with input and the error as a sentence: {body}"
    );
    let res = c
        .post(format!("{}/admin/incidents", app.base))
        .form(&[
            ("csrf", csrf.as_str()),
            ("title", "Sites inaccessibles"),
            ("impact", "critical"),
            ("status", "investigating"),
            ("service:frandroid", "major_outage"),
            (
                "message",
                "Nous enquêtons <script>alert(1)</script> [x](javascript:alert(1))",
            ),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let open = store::incidents::read::open_incidents(&app.db)
        .await
        .expect("q");
    assert_eq!(open.len(), 1);
    let html = &open[0].updates[0].message_html;
    assert!(
        !html.contains("<script") && !html.contains("href=\"javascript"),
        "{html}"
    );
    assert_eq!(open[0].services[0].service_id, "frandroid");
    assert_eq!(
        app.actions().await,
        ["user.create", "session.login", "incident.create"]
    );
}

async fn api_requires_a_live_token_with_the_right_scope() {
    let app = spawn_app().await;
    let owner = app.user("ci@example.org", Role::Editor).await;
    let c = browser();
    let url = format!("{}/api/v1/incidents", app.base);
    let body = json!({"title": "API", "impact": "minor", "message": "m"});
    let res = c.post(&url).json(&body).send().await.expect("post");
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = c
        .post(&url)
        .bearer_auth("vigie_forged")
        .json(&body)
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let maint_only = app.token(owner.id, &[Scope::MaintenanceWrite]).await;
    let res = c
        .post(&url)
        .bearer_auth(&maint_only)
        .json(&body)
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let token = app.token(owner.id, &[Scope::IncidentsWrite]).await;
    let res = c
        .post(&url)
        .bearer_auth(&token)
        .json(&body)
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), StatusCode::CREATED);
    let id = store::tokens::api::list(&app.db)
        .await
        .expect("q")
        .iter()
        .find(|t| t.allows(Scope::IncidentsWrite))
        .expect("t")
        .id;
    store::tokens::api::revoke(&app.db, id, &Actor::cli(), chrono::Utc::now())
        .await
        .expect("revoke");
    let res = c
        .post(&url)
        .bearer_auth(&token)
        .json(&body)
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "revoked");
}

async fn api_runs_the_incident_life_cycle_with_validation_errors_naming_fields() {
    let app = spawn_app().await;
    let owner = app.user("ci@example.org", Role::Editor).await;
    let token = app.token(owner.id, &Scope::ALL).await;
    let c = browser();
    let res = c
        .post(format!("{}/api/v1/incidents", app.base))
        .bearer_auth(&token)
        .json(&json!({"impact": "enormous", "services": [{"id": "forum", "status": "sad"}]}))
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let err: Value = res.json().await.expect("json");
    for field in ["title", "impact", "message", "services"] {
        assert!(err["fields"][field].is_string(), "{field} in {err}");
    }
    let res = c
        .post(format!("{}/api/v1/incidents", app.base))
        .bearer_auth(&token)
        .json(
            &json!({"title": "Forum lent", "impact": "minor", "message": "On regarde.",
                      "services": [{"id": "forum", "status": "degraded_performance"}]}),
        )
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), StatusCode::CREATED);
    let inc: Value = res.json().await.expect("json");
    let id = inc["id"].as_i64().expect("id");
    let res = c
        .post(format!("{}/api/v1/incidents/{id}/updates", app.base))
        .bearer_auth(&token)
        .json(&json!({"status": "identified", "message": "Trouvé."}))
        .send()
        .await
        .expect("update");
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = c
        .post(format!("{}/api/v1/incidents/{id}/resolve", app.base))
        .bearer_auth(&token)
        .json(&json!({"message": "Réglé."}))
        .send()
        .await
        .expect("resolve");
    assert_eq!(res.status(), StatusCode::OK);
    let done: Value = res.json().await.expect("json");
    assert_eq!(done["status"], "resolved");
    assert_eq!(done["services"][0]["status"], "operational");
    let res = c
        .post(format!("{}/api/v1/incidents/{id}/updates", app.base))
        .bearer_auth(&token)
        .json(&json!({"status": "investigating", "message": "again"}))
        .send()
        .await
        .expect("reopen");
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = c
        .post(format!("{}/api/v1/maintenances", app.base))
        .bearer_auth(&token)
        .json(&json!({"title": "Forum", "message": "lecture seule", "starts_at": "2030-01-01T10:00:00Z",
                      "ends_at": "2030-01-01T11:00:00Z", "services": ["forum"]}))
        .send()
        .await
        .expect("maintenance");
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = c
        .put(format!("{}/api/v1/services/forum/status", app.base))
        .bearer_auth(&token)
        .json(&json!({"status": "partial_outage"}))
        .send()
        .await
        .expect("manual");
    assert_eq!(res.status(), StatusCode::OK);
    let actions = app.actions().await;
    assert_eq!(
        &actions[actions.len() - 5..],
        [
            "incident.create",
            "incident.update",
            "incident.update",
            "maintenance.create",
            "service.manual_status"
        ]
    );
}

/// A catalog of two services probed on a loopback site that always answers.
async fn engine_on_loopback() -> (probe::engine::Engine, store::Db, tempfile::TempDir) {
    let app = axum::Router::new().route("/", axum::routing::get(|| async { "up" }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    let monitor = |id: &str| {
        format!(
            "[[services]]\nid = \"{id}\"\nname = \"{id}\"\ngroup = \"g\"\n\
             [[services.monitors]]\nid = \"home\"\nkind = \"http\"\ntarget = \"http://{addr}/\"\n\
             interval = \"200ms\"\nconfirm = 1\n"
        )
    };
    let text = format!(
        "[site]\ntitle = \"T\"\n[[groups]]\nid = \"g\"\nname = \"G\"\n{}{}",
        monitor("web"),
        monitor("api")
    );
    let catalog = domain::config::parse("t.toml", &text).unwrap_or_else(|e| panic!("{e}"));
    let dir = tempfile::tempdir().expect("dir");
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("vigie.db").display()
    );
    let db = server::startup::prepare_database(&catalog, &url)
        .await
        .expect("database");
    let mut cfg = probe::engine::EngineConfig::for_catalog(&catalog, None);
    cfg.flush_every = std::time::Duration::from_millis(50);
    cfg.reevaluate_every = std::time::Duration::from_millis(100);
    let engine = probe::engine::start(std::sync::Arc::new(catalog), db.clone(), cfg)
        .await
        .expect("engine");
    (engine, db, dir)
}

/// Waits for the engine to publish `to` for service `id`; returns the change's cause.
async fn wait_status(
    rx: &mut tokio::sync::broadcast::Receiver<domain::topology::StatusChange>,
    id: &str,
    to: ComponentStatus,
) -> Option<String> {
    let subject = Owner::Service(domain::config::Slug::parse(id).expect("slug"));
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match tokio::time::timeout(left, rx.recv()).await {
            Ok(Ok(c)) if c.subject == subject && c.to == ServiceState::Known(to) => {
                // The stored cause, in the English readers of the API get.
                return crate::common::cause_sentence(c.to, c.cause.as_deref());
            }
            Ok(Ok(_)) | Ok(Err(tokio::sync::broadcast::error::RecvError::Lagged(_))) => {}
            Ok(Err(e)) => panic!("broadcast closed: {e}"),
            Err(_) => panic!("{id} never became {to:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn engine_shows_maintenance_windows_and_incidents_stated_statuses_then_the_probes_again() {
    let (engine, db, _dir) = engine_on_loopback().await;
    let mut rx = engine.subscribe();
    // Both come in one evaluation, `api` first.
    wait_status(&mut rx, "web", ComponentStatus::Operational).await;

    let now = chrono::Utc::now();
    let window = store::maintenance::schedule(
        &db,
        &store::maintenance::NewMaintenance {
            title: "Mise à jour".into(),
            message: server::markdown::message("Courte coupure."),
            starts_at: now - chrono::Duration::minutes(1),
            ends_at: now + chrono::Duration::hours(1),
            services: vec!["web".into()],
        },
        &Actor::cli(),
        now,
    )
    .await
    .expect("schedule");
    let cause = wait_status(&mut rx, "web", ComponentStatus::UnderMaintenance).await;
    assert_eq!(cause.as_deref(), Some("maintenance: scheduled maintenance"));
    store::maintenance::set_status(
        &db,
        window.id,
        domain::incident::MaintenanceStatus::Completed,
        &Actor::cli(),
        chrono::Utc::now(),
    )
    .await
    .expect("complete early");
    wait_status(&mut rx, "web", ComponentStatus::Operational).await;

    let inc = store::incidents::open(
        &db,
        &store::incidents::NewIncident {
            title: "API lente".into(),
            impact: domain::incident::Impact::Minor,
            status: domain::incident::IncidentStatus::Investigating,
            message: server::markdown::message("On regarde."),
            services: vec![("api".into(), ComponentStatus::PartialOutage)],
            started_at: None,
            notify: false,
        },
        &Actor::cli(),
        chrono::Utc::now(),
    )
    .await
    .expect("open");
    let cause = wait_status(&mut rx, "api", ComponentStatus::PartialOutage).await;
    assert_eq!(
        cause.as_deref(),
        Some("partial outage: stated by an open incident")
    );
    store::incidents::post_update(
        &db,
        inc.id,
        &store::incidents::NewUpdate {
            status: domain::incident::IncidentStatus::Resolved,
            message: server::markdown::message("Réglé."),
            services: vec![],
        },
        &Actor::cli(),
        chrono::Utc::now(),
    )
    .await
    .expect("resolve");
    wait_status(&mut rx, "api", ComponentStatus::Operational).await;

    // The history the availability maths read holds the window and the incident's statement.
    let web = Owner::Service(domain::config::Slug::parse("web").expect("slug"));
    let path: Vec<String> = store::status::events(&db, &web)
        .await
        .expect("events")
        .into_iter()
        .map(|e| e.to_status)
        .collect();
    assert_eq!(path, ["operational", "under_maintenance", "operational"]);
    let api = Owner::Service(domain::config::Slug::parse("api").expect("slug"));
    let path: Vec<String> = store::status::events(&db, &api)
        .await
        .expect("events")
        .into_iter()
        .map(|e| e.to_status)
        .collect();
    assert_eq!(path, ["operational", "partial_outage", "operational"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_maintenance_clock_starts_and_completes_windows_by_itself_as_vigie() {
    let dir = tempfile::tempdir().expect("dir");
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("vigie.db").display()
    );
    let db = store::connect(&url).await.expect("db");
    store::migrate(&db).await.expect("migrate");
    let now = chrono::Utc::now();
    // Scheduled an hour ago (the injected clock), for a window that is running now and one
    // that is already over: both are stored as `scheduled` until the clock moves them.
    let schedule = |starts: i64, ends: i64| store::maintenance::NewMaintenance {
        title: format!("fenêtre {starts}"),
        message: server::markdown::message("m"),
        starts_at: now + chrono::Duration::minutes(starts),
        ends_at: now + chrono::Duration::minutes(ends),
        services: vec![],
    };
    let earlier = now - chrono::Duration::hours(2);
    for (s, e) in [(-30, 30), (-50, -40), (60, 120)] {
        store::maintenance::schedule(&db, &schedule(s, e), &Actor::cli(), earlier)
            .await
            .expect("schedule");
    }
    let clock = tokio::spawn(server::cluster::run_clock(
        db.clone(),
        server::cluster::Duties {
            draft_after: std::time::Duration::from_secs(300),
            raw_days: 90,
            every: std::time::Duration::from_millis(50),
        },
    ));
    let filter = AuditFilter {
        action: Some("maintenance.status".into()),
        actor: None,
    };
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    let moves = loop {
        let (entries, total) = store::audit::list(&db, &filter, 0, 10)
            .await
            .expect("audit");
        if total >= 2 {
            break entries;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the clock moved nothing"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    // One move each for the two windows whose time came, none for the future one, and
    // each audited as done by Vigie itself.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    clock.abort();
    let (entries, total) = store::audit::list(&db, &filter, 0, 10)
        .await
        .expect("audit");
    assert_eq!(total, 2, "{entries:?}");
    assert!(moves.iter().all(|e| e.actor_kind == "system"), "{moves:?}");
    let mut details: Vec<&str> = entries.iter().map(|e| e.details.as_str()).collect();
    details.sort();
    assert_eq!(
        details,
        [
            r#"{"from":"scheduled","to":"completed"}"#,
            r#"{"from":"scheduled","to":"in_progress"}"#
        ]
    );
}

async fn every_response_has_a_policy_and_page_scripts_run_only_by_their_hash() {
    let app = spawn_app().await;
    let c = browser();
    let res = c.get(format!("{}/", app.base)).send().await.expect("home");
    assert_eq!(res.status(), StatusCode::OK);
    let policy = res.headers()[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert_eq!(res.headers()[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert!(res.headers().contains_key(header::REFERRER_POLICY));
    assert!(
        !res.headers()
            .contains_key(header::STRICT_TRANSPORT_SECURITY),
        "plain http from an untrusted peer"
    );
    for d in [
        "frame-ancestors 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "object-src 'none'",
    ] {
        assert!(policy.contains(d), "{d} in {policy}");
    }
    let scripts_policy = policy
        .split(';')
        .find(|d| d.trim().starts_with("script-src"))
        .expect("a script-src directive");
    assert!(!scripts_policy.contains("unsafe-inline"), "{policy}");
    assert!(
        policy.contains("style-src 'self';"),
        "style sheets and <style> only from the site: {policy}"
    );
    // Inline scripts are allowed by their hash, taken from the rendering itself: no nonce,
    // so every reader of a cached rendering gets the same bytes under a strict policy.
    let html = res.text().await.expect("body");
    let again = c
        .get(format!("{}/?lang=en", app.base))
        .send()
        .await
        .expect("home");
    let again_policy = again.headers()[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .expect("ascii")
        .to_owned();
    let again_html = again.text().await.expect("body");
    for (policy, html) in [(&policy, &html), (&again_policy, &again_html)] {
        assert!(!policy.contains("'nonce-"), "{policy}");
        assert!(!html.contains("nonce="), "no nonce left in the page");
        let scripts_policy = policy
            .split(';')
            .find(|d| d.trim().starts_with("script-src"))
            .expect("a script-src directive");
        let scripts: Vec<&str> = html.split("<script").skip(1).collect();
        assert!(scripts.len() >= 3, "theme, hydration and data scripts");
        for s in &scripts {
            let end = s.find('>').expect("tag end");
            let tag = &s[..end];
            if tag.contains("src=") {
                continue;
            }
            let body = &s[end + 1..s.find("</script>").expect("script end")];
            let hash = format!(
                "'sha256-{}'",
                base64::Engine::encode(
                    &base64::engine::general_purpose::STANDARD,
                    sha2::Digest::finalize(sha2::Digest::chain_update(
                        sha2::Sha256::default(),
                        body
                    ))
                )
            );
            assert!(
                scripts_policy.contains(&hash),
                "inline script not allowed by its hash {hash}: <script{tag}>"
            );
        }
    }

    // The console runs no script; other responses allow none inline; 404s too.
    for (path, script) in [
        ("/admin/login", "script-src 'none'"),
        ("/healthz", "script-src 'self' 'wasm-unsafe-eval'"),
        ("/no-such-page", "'sha256-"),
    ] {
        let res = c
            .get(format!("{}{path}", app.base))
            .send()
            .await
            .expect("get");
        let p = res.headers()[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .expect("ascii");
        assert!(
            p.contains(script) && p.contains("frame-ancestors 'none'"),
            "{path}: {p}"
        );
        assert_eq!(res.headers()[header::X_FRAME_OPTIONS], "DENY", "{path}");
    }
}

async fn an_update_is_edited_through_the_api_and_the_console_with_its_history_kept() {
    let app = spawn_app().await;
    let owner = app.user("ci@example.org", Role::Editor).await;
    let token = app.token(owner.id, &[Scope::IncidentsWrite]).await;
    let c = browser();
    let res = c
        .post(format!("{}/api/v1/incidents", app.base))
        .bearer_auth(&token)
        .json(&json!({"title": "Forum lent", "impact": "minor", "message": "Premier jet."}))
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), StatusCode::CREATED);
    let inc: Value = res.json().await.expect("json");
    let id = inc["id"].as_i64().expect("id");
    let uid = inc["updates"][0]["id"].as_i64().expect("update id");
    let url = format!("{}/api/v1/incidents/{id}/updates/{uid}", app.base);

    let res = c
        .patch(&url)
        .bearer_auth(&token)
        .json(&json!({"message": " "}))
        .send()
        .await
        .expect("patch");
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let err: Value = res.json().await.expect("json");
    assert!(err["fields"]["message"].is_string(), "{err}");
    let res = c
        .patch(format!(
            "{}/api/v1/incidents/{}/updates/{uid}",
            app.base,
            id + 1
        ))
        .bearer_auth(&token)
        .json(&json!({"message": "ailleurs"}))
        .send()
        .await
        .expect("patch");
    assert_eq!(
        res.status(),
        StatusCode::NOT_FOUND,
        "not this incident's update"
    );
    let res = c
        .patch(&url)
        .json(&json!({"message": "x"}))
        .send()
        .await
        .expect("patch");
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

    let res = c
        .patch(&url)
        .bearer_auth(&token)
        .json(&json!({"message": "Texte **corrigé** par l'API."}))
        .send()
        .await
        .expect("patch");
    assert_eq!(res.status(), StatusCode::OK);
    let edited: Value = res.json().await.expect("json");
    assert!(edited["updates"][0]["edited_at"].is_string(), "{edited}");
    assert!(edited["updates"][0]["message_html"]
        .as_str()
        .is_some_and(|h| h.contains("<strong>corrigé</strong>")));

    // The console: the form carries the current text and a CSRF token.
    let ed = app.signed_in("ed@example.org", Role::Editor).await;
    let page = ed
        .get(format!("{}/admin/incidents/{id}", app.base))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("body");
    assert!(page.contains(&format!("/admin/incidents/{id}/updates/{uid}/edit")));
    assert!(page.contains("(modifié)"));
    let form_url = format!("{}/admin/incidents/{id}/updates/{uid}/edit", app.base);
    let res = ed
        .post(&form_url)
        .form(&[("message", "sans jeton")])
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), StatusCode::FORBIDDEN, "no CSRF token");
    let csrf = TestApp::csrf(&page);
    let res = ed
        .post(&form_url)
        .form(&[
            ("csrf", csrf.as_str()),
            ("message", "Texte final <script>x</script>"),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), StatusCode::SEE_OTHER);

    let history = store::incidents::read::update_history(&app.db, uid)
        .await
        .expect("history");
    assert_eq!(history.len(), 2, "{history:?}");
    let public = c
        .get(format!("{}/", app.base))
        .send()
        .await
        .expect("home")
        .text()
        .await
        .expect("body");
    assert!(
        public.contains("Texte final"),
        "the public page shows the edited text"
    );
    assert!(!public.contains("<script>x</script>"));
    let actions = app.actions().await;
    assert_eq!(
        actions
            .iter()
            .filter(|a| *a == "incident.edit_update")
            .count(),
        2,
        "{actions:?}"
    );
}

/// The engine's word on `services`: down for twenty minutes because phys-2 is unreachable.
async fn down_for_twenty_minutes(db: &store::Db, services: &[&str]) {
    let at = chrono::Utc::now() - chrono::Duration::minutes(20);
    let changes: Vec<domain::topology::StatusChange> = services
        .iter()
        .map(|s| domain::topology::StatusChange {
            subject: Owner::Service(domain::config::Slug::parse(s).expect("slug")),
            from: None,
            to: ServiceState::Known(ComponentStatus::MajorOutage),
            cause: Some(
                domain::topology::Cause::Host {
                    host: domain::config::Slug::parse("phys-2").expect("slug"),
                }
                .to_stored(),
            ),
            at,
        })
        .collect();
    store::status::apply(db, &changes).await.expect("statuses");
}

/// Services down for twenty minutes, and the draft Vigie proposes for them.
async fn drafted_outage(db: &store::Db, services: &[&str]) -> store::incidents::drafts::Draft {
    down_for_twenty_minutes(db, services).await;
    store::incidents::drafts::propose(db, chrono::Utc::now(), chrono::Duration::minutes(10))
        .await
        .expect("propose")
        .expect("a draft")
}

async fn engine_drafts_are_opened_prefilled_or_dismissed_and_never_published_alone() {
    let app = spawn_app().await;
    let c = app.signed_in("ed@example.org", Role::Editor).await;
    let draft = drafted_outage(&app.db, &["frandroid", "forum"]).await;
    let get = |path: String| {
        let c = c.clone();
        async move {
            let res = c.get(path).send().await.expect("get");
            (res.status(), res.text().await.expect("body"))
        }
    };

    let (status, list) = get(format!("{}/admin/incidents", app.base)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(list.contains("Brouillons proposés"), "{list}");
    assert!(list.contains("FrAndroid — panne majeure depuis"));
    assert!(list.contains("(hôte phys-2 injoignable)"));
    let open_link = format!("/admin/incidents/new?draft={}&amp;template=fr", draft.id);
    assert!(list.contains(&open_link));
    assert!(
        store::incidents::read::open_incidents(&app.db)
            .await
            .expect("q")
            .is_empty(),
        "nothing is published by the engine"
    );

    let (status, form) = get(format!("{}{}", app.base, open_link.replace("&amp;", "&"))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        form.contains("value=\"Forum et FrAndroid inaccessibles\""),
        "{form}"
    );
    assert!(
        form.contains("Forum et FrAndroid sont inaccessibles"),
        "template filled in"
    );
    assert!(form.contains(&format!("name=\"draft\" value=\"{}\"", draft.id)));
    let frandroid = form
        .split("name=\"service:frandroid\"")
        .nth(1)
        .and_then(|rest| rest.split("</select>").next())
        .expect("frandroid's status field");
    assert!(frandroid.contains("value=\"major_outage\" selected"));

    let csrf = TestApp::csrf(&form);
    let res = c
        .post(format!("{}/admin/incidents", app.base))
        .form(&[
            ("csrf", csrf.as_str()),
            ("draft", &draft.id.to_string()),
            ("title", "Forum et FrAndroid inaccessibles"),
            ("impact", "major"),
            ("status", "investigating"),
            ("service:frandroid", "major_outage"),
            ("service:forum", "major_outage"),
            (
                "message",
                "Depuis 10:02, le forum et FrAndroid sont inaccessibles.",
            ),
        ])
        .send()
        .await
        .expect("publish");
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let open = store::incidents::read::open_incidents(&app.db)
        .await
        .expect("q");
    assert_eq!(open.len(), 1);
    let opened = store::incidents::drafts::get(&app.db, draft.id)
        .await
        .expect("q")
        .expect("draft");
    assert_eq!(
        (opened.status, opened.incident_id),
        (
            store::incidents::drafts::DraftStatus::Opened,
            Some(open[0].id)
        )
    );
    let (_, list) = get(format!("{}/admin/incidents", app.base)).await;
    assert!(
        !list.contains("Brouillons proposés"),
        "an opened draft leaves the list"
    );

    // Another outage, dismissed: only with the CSRF token, and only once.
    let other = drafted_outage(&app.db, &["databases"]).await;
    assert_eq!(
        other.services.len(),
        1,
        "frandroid and the forum are in an open incident"
    );
    let dismiss = format!("{}/admin/incidents/drafts/{}/dismiss", app.base, other.id);
    let res = c
        .post(&dismiss)
        .form(&[("csrf", "forged")])
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let csrf = app.page_csrf(&c, "/admin/incidents").await;
    let res = c
        .post(&dismiss)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = c
        .post(&dismiss)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert!(res.text().await.expect("body").contains("déjà été traité"));
    app.assert_audited(&["incident_draft.opened", "incident_draft.dismissed"])
        .await;
}

async fn two_factor_turns_on_with_a_confirmed_code_then_each_code_signs_in_once() {
    use server::auth::totp;
    // A configured key, so PostgreSQL (which makes none up) can seal secrets too.
    let keys = tempfile::tempdir().expect("dir");
    let (catalog, key) = common::with_instance_key(&common::humanoid(), keys.path(), "k");
    let server = common::Server::start(&catalog, common::Probes::Off).await;
    let app = TestApp {
        base: server.base.clone(),
        db: server.db.clone(),
        _server: server,
    };
    let c = app.signed_in("ed@example.org", Role::Editor).await;
    let post = |path: &'static str, fields: Vec<(&'static str, String)>| {
        let c = c.clone();
        let url = format!("{}{path}", app.base);
        async move {
            let res = c.post(url).form(&fields).send().await.expect("post");
            (res.status(), res.text().await.expect("body"))
        }
    };
    let csrf = app.page_csrf(&c, "/admin/account").await;
    let (status, _) = post("/admin/account/totp/begin", vec![("csrf", csrf.clone())]).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "post, redirect, get");
    let page = c
        .get(format!("{}/admin/account", app.base))
        .send()
        .await
        .expect("get")
        .text()
        .await
        .expect("body");
    assert!(page.contains("otpauth://totp/"), "{page}");
    let secret = page
        .split_once("class=\"totp-secret\">")
        .and_then(|(_, rest)| rest.split_once('<'))
        .map(|(s, _)| s.to_owned())
        .expect("the secret is shown");

    let now = totp::now();
    let (status, page) = post(
        "/admin/account/totp/confirm",
        vec![("csrf", csrf.clone()), ("code", "000000".into())],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("Code incorrect ou déjà utilisé"), "{page}");
    let user = store::users::find_for_login(&app.db, "ed@example.org")
        .await
        .expect("q")
        .expect("user")
        .0;
    assert!(!user.totp, "not on before a code confirms it");
    let code = totp::code_at(&secret, now).expect("code");
    let (status, _) = post(
        "/admin/account/totp/confirm",
        vec![("csrf", csrf.clone()), ("code", code.clone())],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);

    // Signing in now takes a code: none, a wrong one and the one already used are refused
    // with the one message for every failure.
    let other = browser();
    for attempt in ["", "123456", code.as_str()] {
        let res = app
            .login_with_code(&other, "ed@example.org", PASSWORD, attempt)
            .await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "code {attempt:?}");
        assert!(res
            .text()
            .await
            .expect("body")
            .contains("Adresse e-mail, mot de passe ou code incorrect."));
    }
    let next = totp::code_at(&secret, now + 30).expect("next code");
    let res = app
        .login_with_code(&other, "ed@example.org", PASSWORD, &next)
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "a fresh code signs in");
    let res = app
        .login_with_code(&browser(), "ed@example.org", PASSWORD, &next)
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "but only once");

    // Turning it off takes a valid code too.
    let csrf = app.page_csrf(&other, "/admin/account").await;
    let res = other
        .post(format!("{}/admin/account/totp/disable", app.base))
        .form(&[("csrf", csrf.as_str()), ("code", next.as_str())])
        .send()
        .await
        .expect("post");
    assert_eq!(
        res.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "a spent code"
    );

    // Replacing it takes a current code too: a session alone cannot swap in another secret.
    let id = user.id;
    for code in ["", "000000", next.as_str()] {
        let res = other
            .post(format!("{}/admin/account/totp/begin", app.base))
            .form(&[("csrf", csrf.as_str()), ("code", code)])
            .send()
            .await
            .expect("post");
        assert_eq!(
            res.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "begin with {code:?}"
        );
        let secrets = store::users::totp::totp_secrets(&app.db, &key, id)
            .await
            .expect("q");
        assert_eq!(secrets.pending, None, "no new secret waits after {code:?}");
    }
    // Every code of this 30 s window is spent; rather than wait for the next one, forget
    // which steps were used.
    {
        use sea_orm::ConnectionTrait;
        app.db
            .execute_unprepared("UPDATE users SET totp_last_step = NULL")
            .await
            .expect("forget spent steps");
    }
    let fresh = totp::code_at(&secret, totp::now()).expect("code");
    let res = other
        .post(format!("{}/admin/account/totp/begin", app.base))
        .form(&[("csrf", csrf.as_str()), ("code", fresh.as_str())])
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "a current code");
    let secrets = store::users::totp::totp_secrets(&app.db, &key, id)
        .await
        .expect("q");
    assert!(secrets.pending.is_some());
    assert!(
        secrets.confirmed.is_some(),
        "the old factor holds until confirmed"
    );
    app.assert_audited(&["user.totp_begin", "user.totp_enable"])
        .await;
}

async fn drafts_are_listed_opened_and_dismissed_through_the_api() {
    let app = spawn_app().await;
    let owner = app.user("ci@example.org", Role::Editor).await;
    let token = app.token(owner.id, &[Scope::IncidentsWrite]).await;
    let other = app.token(owner.id, &[Scope::MaintenanceWrite]).await;
    let c = browser();
    let url = |path: &str| format!("{}{path}", app.base);
    let draft = drafted_outage(&app.db, &["frandroid", "forum"]).await;

    let res = c.get(url("/api/v1/drafts")).send().await.expect("get");
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = c
        .get(url("/api/v1/drafts"))
        .bearer_auth(&other)
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = c
        .get(url("/api/v1/drafts"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), StatusCode::OK);
    let listed: Value = res.json().await.expect("json");
    assert_eq!(listed["drafts"][0]["id"], json!(draft.id));
    assert_eq!(listed["drafts"][0]["services"][1]["name"], "FrAndroid");
    assert_eq!(
        listed["drafts"][0]["services"][1]["cause"],
        "down: host phys-2 unreachable"
    );

    let incident = |draft: i64| {
        json!({"title": "Forum et FrAndroid inaccessibles", "impact": "major",
               "message": "Nous enquêtons.", "draft": draft,
               "services": [{"id": "forum", "status": "major_outage"},
                            {"id": "frandroid", "status": "major_outage"}]})
    };
    let res = c
        .post(url("/api/v1/incidents"))
        .bearer_auth(&token)
        .json(&incident(999))
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let err: Value = res.json().await.expect("json");
    assert_eq!(err["fields"]["draft"], "unknown draft");
    let res = c
        .post(url("/api/v1/incidents"))
        .bearer_auth(&token)
        .json(&incident(draft.id))
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), StatusCode::CREATED);
    let created: Value = res.json().await.expect("json");
    let opened = store::incidents::drafts::get(&app.db, draft.id)
        .await
        .expect("q")
        .expect("draft");
    assert_eq!(opened.incident_id, created["id"].as_i64());
    let res = c
        .get(url("/api/v1/drafts"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("get");
    let listed: Value = res.json().await.expect("json");
    assert_eq!(
        listed["drafts"],
        json!([]),
        "an opened draft leaves the list"
    );

    let other_draft = drafted_outage(&app.db, &["databases"]).await;
    let dismiss = |id: i64| url(&format!("/api/v1/drafts/{id}/dismiss"));
    let res = c
        .post(dismiss(other_draft.id))
        .bearer_auth(&token)
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = c
        .post(dismiss(other_draft.id))
        .bearer_auth(&token)
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = c
        .post(dismiss(4242))
        .bearer_auth(&token)
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = c
        .post(url("/api/v1/incidents"))
        .bearer_auth(&token)
        .json(&incident(other_draft.id))
        .send()
        .await
        .expect("post");
    assert_eq!(
        res.status(),
        StatusCode::CONFLICT,
        "a dismissed draft stays so"
    );
    app.assert_audited(&["incident_draft.opened", "incident_draft.dismissed"])
        .await;
}

/// The on-call path: words instead of codes, the status select at the incident's current
/// status, errors as sentences, blanks of a template refused, local times, a confirmation
/// after every post and nothing posted twice, the headline editable, a readable audit log.
async fn the_console_serves_on_call_under_stress() {
    let app = spawn_app().await;
    let c = app.signed_in("ed@example.org", Role::Admin).await;
    let get = |path: String| {
        let c = c.clone();
        let url = format!("{}{path}", app.base);
        async move {
            let res = c.get(url).send().await.expect("get");
            (res.status(), res.text().await.expect("body"))
        }
    };
    let csrf = app.page_csrf(&c, "/admin/incidents/new").await;
    let post = |path: String, fields: Vec<(&'static str, String)>| {
        let c = c.clone();
        let url = format!("{}{path}", app.base);
        let mut fields = fields;
        fields.push(("csrf", csrf.clone()));
        async move { c.post(url).form(&fields).send().await.expect("post") }
    };

    // Statuses are words; the short first message is publishable as is.
    let (_, form) = get("/admin/incidents/new".into()).await;
    assert!(form.contains(">Panne majeure</option>"), "{form}");
    assert!(!form.contains(">major_outage<"), "no code shown as a word");
    assert!(form.contains("Nous enquêtons"), "the short template first");
    assert!(
        form.contains("heure de Paris"),
        "the time field names its zone"
    );

    // A time typed in Paris time is stored as such; a bad one is a sentence by the field.
    let res = post(
        "/admin/incidents".into(),
        vec![
            ("title", "Forum lent".into()),
            ("impact", "major".into()),
            ("status", "identified".into()),
            ("started_at", "05:20".into()),
            ("service:frandroid", "major_outage".into()),
            ("message", "Nous enquêtons.".into()),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = res.text().await.expect("body");
    assert!(body.contains("Saisissez une date et une heure"), "{body}");
    assert!(
        body.contains("id=\"f-started_at-error\""),
        "next to its field"
    );
    let res = post(
        "/admin/incidents".into(),
        vec![
            ("title", "Forum lent".into()),
            ("impact", "major".into()),
            ("status", "identified".into()),
            ("started_at", "2026-12-01T05:20".into()),
            ("service:frandroid", "major_outage".into()),
            ("message", "Nous enquêtons.".into()),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let at = res.headers()[header::LOCATION]
        .to_str()
        .expect("location")
        .to_owned();
    let open = store::incidents::read::open_incidents(&app.db)
        .await
        .expect("q");
    assert_eq!(open.len(), 1);
    let id = open[0].id;
    assert_eq!(at, format!("/admin/incidents/{id}"));
    assert_eq!(open[0].started_at.to_rfc3339(), "2026-12-01T04:20:00+00:00");

    // The confirmation shows once, with the public page's link; the status is preselected.
    let (_, page) = get(at.clone()).await;
    assert!(page.contains("Incident publié."), "{page}");
    assert!(page.contains(&format!("href=\"/incidents/{id}\"")));
    let status_field = page
        .split("name=\"status\"")
        .nth(1)
        .and_then(|rest| rest.split("</select>").next())
        .expect("status field");
    assert!(
        status_field.contains("value=\"identified\" selected"),
        "{status_field}"
    );
    let frandroid = page
        .split("data-service=\"frandroid\"")
        .nth(1)
        .and_then(|rest| rest.split("</select>").next())
        .expect("frandroid's row");
    assert!(
        frandroid.contains("Panne majeure"),
        "its status now: {frandroid}"
    );
    let (_, again) = get(at.clone()).await;
    assert!(!again.contains("Incident publié."), "shown once");

    // A template's blank left in is refused, with the blank named; nothing is posted.
    let res = post(
        format!("/admin/incidents/{id}/updates"),
        vec![
            ("status", "identified".into()),
            ("message", "Merci !\n\nL'équipe [nom]".into()),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = res.text().await.expect("body");
    assert!(
        body.contains("« [nom] »") && body.contains("à remplacer"),
        "{body}"
    );
    let updates = |db: store::Db| async move {
        store::incidents::read::get(&db, id)
            .await
            .expect("q")
            .expect("incident")
            .updates
    };
    assert_eq!(updates(app.db.clone()).await.len(), 1);

    // Posting with the preselected status keeps the incident where it was.
    let res = post(
        format!("/admin/incidents/{id}/updates"),
        vec![
            ("status", "identified".into()),
            ("message", "Le disque est plein.".into()),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let now = store::incidents::read::get(&app.db, id)
        .await
        .expect("q")
        .expect("incident");
    assert_eq!(now.status, domain::incident::IncidentStatus::Identified);
    assert_eq!(now.updates.len(), 2);
    let (_, page) = get(at.clone()).await;
    assert!(page.contains("Mise à jour publiée."));

    // Title and impact are editable.
    let res = post(
        format!("/admin/incidents/{id}/edit"),
        vec![
            ("title", "Forum et FrAndroid lents".into()),
            ("impact", "minor".into()),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let now = store::incidents::read::get(&app.db, id)
        .await
        .expect("q")
        .expect("incident");
    assert_eq!(
        (now.title.as_str(), now.impact),
        ("Forum et FrAndroid lents", domain::incident::Impact::Minor)
    );

    // In English, every label is English.
    let english = c
        .get(format!("{}{at}", app.base))
        .header(header::ACCEPT_LANGUAGE, "en-GB,en;q=0.9")
        .send()
        .await
        .expect("get")
        .text()
        .await
        .expect("body");
    assert!(english.contains("Post the update") && english.contains(">Major outage</option>"));
    assert!(
        !english.contains("Publier") && !english.contains("Panne majeure"),
        "{english}"
    );

    // A token is created once, shown once; reloading the page after creates nothing.
    let res = post(
        "/admin/tokens".into(),
        vec![("name", "CI".into()), ("scopes", "incidents:write".into())],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (_, shown) = get("/admin/tokens".into()).await;
    assert!(shown.contains("Copiez-le maintenant"), "{shown}");
    let (_, reloaded) = get("/admin/tokens".into()).await;
    assert!(!reloaded.contains("Copiez-le maintenant"), "shown once");
    assert_eq!(store::tokens::api::list(&app.db).await.expect("q").len(), 1);

    // The audit log reads as words, at any page number.
    for page in [
        "",
        "?page=2",
        "?page=abc",
        "?page=0",
        "?page=18446744073709551615",
    ] {
        let (status, log) = get(format!("/admin/audit{page}")).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(
            log.contains("statut : cause identifiée → cause identifiée"),
            "{page}: {log}"
        );
        assert!(log.contains("a ouvert un incident"));
    }
}

/// Concurrent requests that must take effect once: a draft opened through the API and the
/// console at the same time, and an incident resolved by two callers at once (then again).
async fn a_draft_opens_once_and_a_resolved_incident_is_not_resolved_again() {
    let app = spawn_app().await;
    let owner = app.user("ci@example.org", Role::Editor).await;
    let token = app.token(owner.id, &[Scope::IncidentsWrite]).await;
    let console = app.signed_in("ed@example.org", Role::Editor).await;
    let api = browser();
    let url = |path: &str| format!("{}{path}", app.base);
    let draft = drafted_outage(&app.db, &["forum"]).await;
    let csrf = app
        .page_csrf(
            &console,
            &format!("/admin/incidents/new?draft={}", draft.id),
        )
        .await;
    let through_api = |n: usize| {
        api.post(url("/api/v1/incidents"))
            .bearer_auth(&token)
            .json(
                &json!({"title": format!("Forum en panne {n}"), "impact": "major",
                          "message": "Nous enquêtons.", "draft": draft.id,
                          "services": [{"id": "forum", "status": "major_outage"}]}),
            )
            .send()
    };
    let draft_id = draft.id.to_string();
    let through_console = console
        .post(url("/admin/incidents"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("draft", draft_id.as_str()),
            ("title", "Forum en panne (console)"),
            ("impact", "major"),
            ("status", "investigating"),
            ("message", "Nous enquêtons."),
            ("service:forum", "major_outage"),
        ])
        .send();
    let (a, b, c, d) = tokio::join!(
        through_api(1),
        through_api(2),
        through_api(3),
        through_console
    );
    let statuses: Vec<StatusCode> = [a, b, c, d]
        .into_iter()
        .map(|r| r.expect("request").status())
        .collect();
    let created = statuses
        .iter()
        .filter(|s| **s == StatusCode::CREATED || **s == StatusCode::SEE_OTHER)
        .count();
    assert_eq!(created, 1, "{statuses:?}");
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::CONFLICT)
            .count(),
        3,
        "{statuses:?}"
    );
    let open = store::incidents::read::open_incidents(&app.db)
        .await
        .expect("q");
    assert_eq!(open.len(), 1, "one incident for one draft");
    let incident = open[0].id;
    let opened = store::incidents::drafts::get(&app.db, draft.id)
        .await
        .expect("q")
        .expect("draft");
    assert_eq!(opened.incident_id, Some(incident));

    let resolve = || {
        api.post(url(&format!("/api/v1/incidents/{incident}/resolve")))
            .bearer_auth(&token)
            .send()
    };
    let (first, second) = tokio::join!(resolve(), resolve());
    let mut statuses = [
        first.expect("resolve").status(),
        second.expect("resolve").status(),
    ];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::CONFLICT]);
    let again = resolve().await.expect("resolve");
    assert_eq!(again.status(), StatusCode::CONFLICT);
    let body: Value = again.json().await.expect("json");
    assert_eq!(body["message"], "the incident is already resolved");
    let view = store::incidents::read::get(&app.db, incident)
        .await
        .expect("q")
        .expect("incident");
    let resolutions = view
        .updates
        .iter()
        .filter(|u| u.status == domain::incident::IncidentStatus::Resolved)
        .count();
    assert_eq!(resolutions, 1, "one resolved update");
}

/// Someone leaves: an admin disables them in the console; their open session and their API
/// token stop at once, they cannot sign in, and the last admin can neither disable nor demote
/// themselves. Enabled again, their token works and they sign in anew; a role change takes
/// effect at their next request. Every step is audited.
async fn a_disabled_user_is_locked_out_at_once_and_roles_change_in_the_console() {
    let app = spawn_app().await;
    let admin = app.signed_in("boss@example.org", Role::Admin).await;
    let ed_client = app.signed_in("ed@example.org", Role::Editor).await;
    let ed = store::users::find_by_email(&app.db, "ed@example.org")
        .await
        .expect("q")
        .expect("ed");
    let boss = store::users::find_by_email(&app.db, "boss@example.org")
        .await
        .expect("q")
        .expect("boss");
    let token = app.token(ed.id, &[Scope::IncidentsWrite]).await;
    let api = format!("{}/api/v1/incidents", app.base);
    let body = json!({"title": "API", "impact": "minor", "message": "m"});
    let api_status = |token: String| {
        let api = api.clone();
        let body = body.clone();
        async move {
            browser()
                .post(&api)
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .expect("post")
                .status()
        }
    };
    assert_eq!(api_status(token.clone()).await, StatusCode::CREATED);
    let ed_page = |c: Client| {
        let url = format!("{}/admin/incidents", app.base);
        async move { c.get(url).send().await.expect("get").status() }
    };
    assert_eq!(ed_page(ed_client.clone()).await, StatusCode::OK);

    let page = admin
        .get(format!("{}/admin/users", app.base))
        .send()
        .await
        .expect("get")
        .text()
        .await
        .expect("body");
    assert!(
        page.contains(&format!("/admin/users/{}/disable", ed.id)),
        "{page}"
    );
    let csrf = TestApp::csrf(&page);
    let post = |path: String, fields: Vec<(&'static str, String)>| {
        let admin = admin.clone();
        let url = format!("{}{path}", app.base);
        async move {
            let res = admin.post(url).form(&fields).send().await.expect("post");
            (res.status(), res.text().await.expect("body"))
        }
    };
    let with_csrf = || vec![("csrf", csrf.clone())];

    // Without the CSRF token nothing happens.
    let (status, _) = post(format!("/admin/users/{}/disable", ed.id), vec![]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(ed_page(ed_client.clone()).await, StatusCode::OK);

    let (status, _) = post(format!("/admin/users/{}/disable", ed.id), with_csrf()).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_ne!(
        ed_page(ed_client.clone()).await,
        StatusCode::OK,
        "the open session ends at once"
    );
    assert_eq!(
        api_status(token.clone()).await,
        StatusCode::UNAUTHORIZED,
        "the token stops at once"
    );
    let res = app.login(&browser(), "ed@example.org", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "no new sign-in");
    let page = admin
        .get(format!("{}/admin/users", app.base))
        .send()
        .await
        .expect("get")
        .text()
        .await
        .expect("body");
    assert!(page.contains("Compte désactivé"), "{page}");
    assert!(page.contains(&format!("/admin/users/{}/enable", ed.id)));

    // The only enabled admin cannot lock everyone out.
    let (status, page) = post(format!("/admin/users/{}/disable", boss.id), with_csrf()).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(page.contains("dernier compte d'administration"), "{page}");
    let mut fields = with_csrf();
    fields.push(("role", "editor".into()));
    let (status, _) = post(format!("/admin/users/{}/role", boss.id), fields).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(
        store::users::get(&app.db, boss.id)
            .await
            .expect("q")
            .expect("boss")
            .role,
        Role::Admin
    );
    let mut fields = with_csrf();
    fields.push(("role", "owner".into()));
    let (status, _) = post(format!("/admin/users/{}/role", ed.id), fields).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "an unknown role");
    let (status, _) = post("/admin/users/abc/disable".into(), with_csrf()).await;
    assert!(status.is_client_error(), "{status}");
    let (status, _) = post("/admin/users/999999/disable".into(), with_csrf()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Back, and made an admin.
    let (status, _) = post(format!("/admin/users/{}/enable", ed.id), with_csrf()).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(api_status(token.clone()).await, StatusCode::CREATED);
    assert_ne!(
        ed_page(ed_client.clone()).await,
        StatusCode::OK,
        "an ended session does not come back"
    );
    let ed_again = browser();
    let res = app.login(&ed_again, "ed@example.org", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let users_status = |c: Client| {
        let url = format!("{}/admin/users", app.base);
        async move { c.get(url).send().await.expect("get").status() }
    };
    assert_eq!(users_status(ed_again.clone()).await, StatusCode::FORBIDDEN);
    let mut fields = with_csrf();
    fields.push(("role", "admin".into()));
    let (status, _) = post(format!("/admin/users/{}/role", ed.id), fields).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(users_status(ed_again).await, StatusCode::OK);
    app.assert_audited(&["user.disable", "user.enable", "user.role"])
        .await;
}

/// Sessions past their end are deleted by the periodic purge, live ones are kept.
async fn expired_sessions_are_purged() {
    let app = spawn_app().await;
    let user = app.user("ed@example.org", Role::Editor).await;
    let now = chrono::Utc::now();
    let long_ago = now - store::sessions::SESSION_TTL - chrono::Duration::minutes(1);
    let (old, _) = store::sessions::start(&app.db, &user, None, None, None, long_ago)
        .await
        .expect("old session");
    let (live, _) = store::sessions::start(&app.db, &user, None, None, None, now)
        .await
        .expect("live session");
    assert_eq!(
        store::sessions::purge_expired(&app.db, now)
            .await
            .expect("purge"),
        1
    );
    assert!(store::sessions::find(&app.db, &live, now)
        .await
        .expect("q")
        .is_some());
    assert!(store::sessions::find(&app.db, &old, long_ago)
        .await
        .expect("q")
        .is_none());
}

/// Hostile values in every query parameter (and the id) of every console page an admin can
/// open, plus the server functions' arguments: each answer is a page or a 4xx, never a 5xx
/// or a dropped connection.
async fn hostile_query_parameters_never_make_a_console_page_fail() {
    let app = spawn_app().await;
    let admin = app.signed_in("boss@example.org", Role::Admin).await;
    let incident = app.user("ed@example.org", Role::Editor).await;
    let token = app.token(incident.id, &[Scope::IncidentsWrite]).await;
    let created: Value = browser()
        .post(format!("{}/api/v1/incidents", app.base))
        .bearer_auth(token)
        .json(&json!({"title": "Fuzz", "impact": "minor", "message": "m"}))
        .send()
        .await
        .expect("post")
        .json()
        .await
        .expect("json");
    let id = created["id"].as_i64().expect("id");
    let long = "9".repeat(5000);
    // 10 KB of percent-encoded bytes that are no UTF-8 (lone continuation and lead bytes).
    let not_utf8 = "%E9%80%FF".repeat(1200);
    let values: Vec<String> = [
        "",
        "abc",
        "-1",
        "-0",
        "0",
        "1.5",
        "+1",
        "%2B1",
        "%201%20",
        "00000000000000000000001",
        "9223372036854775807",
        "9223372036854775808",
        "-9223372036854775808",
        "18446744073709551616",
        "99999999999999999999999999",
        "1e308",
        "NaN",
        "%00",
        "1%00",
        "%FF%FE",
        "%C0%AF",
        "%ED%A0%80",
        "%",
        "%%",
        "%G1",
        "a=b=c",
        "%3Cscript%3Ealert(1)%3C/script%3E",
        "'%3B%20DROP%20TABLE%20users%3B--",
        "..%2F..%2Fetc%2Fpasswd",
        "%E2%80%AE",
        "%F0%9F%92%A5",
        long.as_str(),
        not_utf8.as_str(),
    ]
    .iter()
    .map(|v| (*v).to_owned())
    .collect();
    let routes: Vec<(String, &[&str])> = vec![
        ("/admin".into(), &["x", "lang"][..]),
        ("/admin/".into(), &["x"][..]),
        ("/admin/login".into(), &["x", "next"][..]),
        ("/admin/account".into(), &["x"][..]),
        ("/admin/agents".into(), &["x", "page"][..]),
        ("/admin/audit".into(), &["page", "action", "actor", "x"][..]),
        ("/admin/incidents".into(), &["page", "x"][..]),
        (
            "/admin/incidents/new".into(),
            &["template", "kind", "draft", "x"][..],
        ),
        (format!("/admin/incidents/{id}"), &["x"][..]),
        ("/admin/maintenance".into(), &["x", "page"][..]),
        ("/admin/users".into(), &["x"][..]),
        ("/admin/tokens".into(), &["x"][..]),
        ("/admin/subscribers".into(), &["q", "page", "x"][..]),
        ("/admin/subscribers.csv".into(), &["q", "x"][..]),
        ("/admin/webhooks".into(), &["x"][..]),
    ];
    let mut asked = 0;
    // Each answer is read to its end: a connection dropped mid-body fails too.
    let ask = |url: String| {
        let admin = admin.clone();
        async move {
            let res = admin
                .get(&url)
                .send()
                .await
                .unwrap_or_else(|e| panic!("{url}: no answer: {e}"));
            let status = res.status();
            res.bytes()
                .await
                .unwrap_or_else(|e| panic!("{url}: body cut: {e}"));
            assert!(status.as_u16() < 500, "{url}: {status}");
        }
    };
    for (path, params) in &routes {
        for param in *params {
            for value in &values {
                for query in [
                    format!("{param}={value}"),
                    format!("{param}={value}&{param}=1"),
                ] {
                    ask(format!("{}{path}?{query}", app.base)).await;
                    asked += 1;
                }
            }
        }
        // Hostile names, and a query that is no key=value list at all.
        for query in ["%FF=1", "%00=%00", "&&&", "=", "a&a&a", not_utf8.as_str()] {
            ask(format!("{}{path}?{query}", app.base)).await;
            asked += 1;
        }
    }
    for value in &values {
        for path in [
            format!("/admin/incidents/{value}"),
            format!("/admin/incidents/{value}?x=1"),
        ] {
            ask(format!("{}{path}", app.base)).await;
            asked += 1;
        }
    }
    assert!(asked > 2000, "{asked} requests");

    // The server functions' arguments: a bad id is a 4xx with a sentence.
    for (method, url) in [
        (reqwest::Method::POST, format!("{}/_fn/incident", app.base)),
        (
            reqwest::Method::GET,
            format!("{}/_fn/incident?id=abc", app.base),
        ),
    ] {
        let res = browser()
            .request(method.clone(), &url)
            .form(&[("id", "abc")])
            .send()
            .await
            .expect("an answer");
        let status = res.status();
        let body = res.text().await.expect("body");
        assert!(status.is_client_error(), "{method} {url}: {status} {body}");
        assert!(!body.trim().is_empty(), "{method} {url}: a message");
    }
}

/// Text fields have one length limit each, checked by the store whatever the way in: a title
/// of 201 characters is refused with a sentence by the API and the console, 200 are taken.
async fn text_fields_longer_than_their_limit_are_refused_with_a_sentence() {
    use domain::limits;
    let app = spawn_app().await;
    let owner = app.user("ci@example.org", Role::Editor).await;
    let token = app.token(owner.id, &[Scope::IncidentsWrite]).await;
    let url = format!("{}/api/v1/incidents", app.base);
    let post = |title: String, message: String| {
        let (url, token) = (url.clone(), token.clone());
        async move {
            let res = browser()
                .post(url)
                .bearer_auth(token)
                .json(&json!({"title": title, "impact": "minor", "message": message}))
                .send()
                .await
                .expect("post");
            (res.status(), res.text().await.expect("body"))
        }
    };
    let (status, body) = post("é".repeat(limits::TITLE + 1), "m".into()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.contains("at most 200 characters"), "{body}");
    let (status, body) = post("t".into(), "m".repeat(limits::MESSAGE + 1)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.contains("at most 20000 characters"), "{body}");
    // A NUL is no text (PostgreSQL refuses it): a 4xx, on both databases.
    for (title, message) in [("a\0b", "m"), ("t", "a\0b")] {
        let (status, body) = post(title.into(), message.into()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    }
    let (status, body) = post("é".repeat(limits::TITLE), "m".into()).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    let c = app.signed_in("ed@example.org", Role::Editor).await;
    let csrf = app.page_csrf(&c, "/admin/incidents/new").await;
    let long = "x".repeat(limits::TITLE + 1);
    let res = c
        .post(format!("{}/admin/incidents", app.base))
        .form(&[
            ("csrf", csrf.as_str()),
            ("title", long.as_str()),
            ("impact", "minor"),
            ("status", "investigating"),
            ("message", "m"),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = res.text().await.expect("body");
    assert!(page.contains("Au plus 200 caractères"), "{page}");
    let names: Vec<String> = store::incidents::read::open_incidents(&app.db)
        .await
        .expect("q")
        .into_iter()
        .map(|i| i.title)
        .collect();
    assert_eq!(names.len(), 1, "only the 200-character title: {names:?}");

    let err = store::tokens::api::create(
        &app.db,
        owner.id,
        &"n".repeat(limits::NAME + 1),
        &[Scope::IncidentsWrite],
        &Actor::cli(),
        chrono::Utc::now(),
    )
    .await
    .expect_err("too long");
    assert!(matches!(
        err,
        store::audit::WriteError::TooLong { field: "name", .. }
    ));

    // The note of a status set by hand: 1,001 characters refused with a sentence, nothing set.
    let services = app.token(owner.id, &[Scope::ServicesWrite]).await;
    let put = |note: String| {
        let (url, token) = (
            format!("{}/api/v1/services/forum/status", app.base),
            services.clone(),
        );
        async move {
            let res = browser()
                .put(url)
                .bearer_auth(token)
                .json(&json!({"status": "degraded_performance", "note": note}))
                .send()
                .await
                .expect("put");
            (res.status(), res.text().await.expect("body"))
        }
    };
    let (status, body) = put("n".repeat(limits::NOTE + 1)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.contains("at most 1000 characters"), "{body}");
    assert!(store::incidents::manual::manual_statuses(&app.db)
        .await
        .expect("q")
        .is_empty());
    let (status, body) = put("é".repeat(limits::NOTE)).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // Subscribers: an address or a webhook URL over its limit is refused by the store too,
    // whatever let it through.
    let now = chrono::Utc::now();
    for (kind, address, contact, field) in [
        (
            store::subscribers::EMAIL,
            format!("{}@example.org", "a".repeat(limits::EMAIL)),
            None,
            "address",
        ),
        (
            store::subscribers::WEBHOOK,
            format!("https://hooks.example/{}", "p".repeat(limits::URL)),
            None,
            "address",
        ),
        (
            store::subscribers::WEBHOOK,
            "https://hooks.example/ok".to_owned(),
            Some(format!("{}@example.org", "c".repeat(limits::EMAIL))),
            "contact",
        ),
    ] {
        let wanted = store::subscribers::Wanted {
            kind: kind.to_owned(),
            address,
            contact,
            language: "fr".to_owned(),
            services: None,
        };
        let err = store::subscribers::confirm(&app.db, &wanted, Some(&Actor::cli()), now)
            .await
            .expect_err("too long");
        assert!(
            matches!(err, store::audit::WriteError::TooLong { field: f, .. } if f == field),
            "{err:?}"
        );
    }
    assert_eq!(
        store::subscribers::counts(&app.db).await.expect("q").email,
        0
    );
}

async fn staff_count_search_export_and_delete_subscribers_and_resume_paused_webhooks() {
    use sea_orm::sea_query::Expr;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    use store::subscribers::{Wanted, EMAIL, WEBHOOK};
    let app = spawn_app().await;
    let editor = app.signed_in("ed@example.org", Role::Editor).await;
    let mut ids = Vec::new();
    for (kind, address, services) in [
        (EMAIL, "ann@example.org", Some(vec!["frandroid".to_owned()])),
        (EMAIL, "bob@example.org", None),
        (WEBHOOK, "https://hooks.example.org/vigie", None),
    ] {
        let s = store::subscribers::confirm(
            &app.db,
            &Wanted {
                kind: kind.into(),
                address: address.into(),
                contact: None,
                language: "fr".into(),
                services,
            },
            None,
            chrono::Utc::now(),
        )
        .await
        .expect("subscriber");
        ids.push(s.id);
    }
    store::entity::subscriber::Entity::update_many()
        .col_expr(
            store::entity::subscriber::Column::PausedAt,
            Expr::value(Some(chrono::Utc::now())),
        )
        .col_expr(store::entity::subscriber::Column::Failures, Expr::value(10))
        .filter(store::entity::subscriber::Column::Id.eq(ids[2]))
        .exec(&app.db)
        .await
        .expect("paused");

    let get = |path: String| {
        let c = editor.clone();
        async move {
            let r = c.get(path).send().await.expect("page");
            assert_eq!(r.status(), StatusCode::OK);
            r.text().await.expect("body")
        }
    };
    let page = get(format!("{}/admin/subscribers", app.base)).await;
    assert!(page.contains("ann@example.org") && page.contains("bob@example.org"));
    // FrAndroid: one subscriber chose it; the whole page: two (bob and the webhook).
    assert!(
        page.contains("<th scope=\"row\">FrAndroid</th><td class=\"count\">1</td>"),
        "{page}"
    );
    assert!(page.contains("2 par e-mail, 1 webhooks ; 2 pour toute la page."));
    let found = get(format!("{}/admin/subscribers?q=ANN", app.base)).await;
    assert!(found.contains("ann@example.org") && !found.contains("bob@example.org"));

    let csv = editor
        .get(format!("{}/admin/subscribers.csv", app.base))
        .send()
        .await
        .expect("csv");
    assert_eq!(
        csv.headers()[header::CONTENT_TYPE],
        "text/csv; charset=utf-8"
    );
    let csv = csv.text().await.expect("body");
    assert!(csv.starts_with("id,kind,address"));
    assert_eq!(csv.lines().count(), 4, "{csv}");

    // Deleting needs the form's token, then removes the address and is audited.
    let delete = format!("{}/admin/subscribers/{}/delete", app.base, ids[0]);
    let refused = editor
        .post(&delete)
        .form(&[("csrf", "nope")])
        .send()
        .await
        .expect("post");
    assert!(refused.status().is_client_error());
    let csrf = TestApp::csrf(&page);
    let done = editor
        .post(&delete)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .expect("post");
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    assert!(store::subscribers::get(&app.db, ids[0])
        .await
        .expect("get")
        .is_none());
    let page = get(format!("{}/admin/subscribers", app.base)).await;
    assert!(!page.contains("ann@example.org"));
    assert!(page.contains("Abonnement supprimé."));

    let hooks = get(format!("{}/admin/webhooks", app.base)).await;
    assert!(hooks.contains("https://hooks.example.org/vigie"));
    assert!(hooks.contains("webhook-paused") && hooks.contains("10 échecs de suite"));
    let resume = format!("{}/admin/webhooks/{}/resume", app.base, ids[2]);
    let done = editor
        .post(&resume)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .expect("post");
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    let hook = store::subscribers::get(&app.db, ids[2])
        .await
        .expect("get")
        .expect("kept");
    assert!(hook.paused_at.is_none() && hook.failures == 0);
    let hooks = get(format!("{}/admin/webhooks", app.base)).await;
    assert!(!hooks.contains("webhook-paused"));
    // An e-mail subscriber is not a webhook to resume.
    let wrong = format!("{}/admin/webhooks/{}/resume", app.base, ids[1]);
    let r = editor
        .post(&wrong)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    app.assert_audited(&["subscriber.delete", "subscriber.resume"])
        .await;
}

/// Every console page an admin sees, with an incident and its update, a second user and a
/// token listed, parses without an HTML5 error and passes the Nu HTML checker with no error.
async fn every_console_page_is_valid_html() {
    let app = spawn_app().await;
    let admin = app.signed_in("boss@example.org", Role::Admin).await;
    let editor = app.user("ed@example.org", Role::Editor).await;
    let token = app.token(editor.id, &[Scope::IncidentsWrite]).await;
    let created: Value = browser()
        .post(format!("{}/api/v1/incidents", app.base))
        .bearer_auth(token)
        .json(&json!({"title": "Forum injoignable", "impact": "major", "message": "Le **forum** ne répond plus."}))
        .send()
        .await
        .expect("post")
        .json()
        .await
        .expect("json");
    let id = created["id"].as_i64().expect("id");
    let mut pages = Vec::new();
    for path in [
        "/admin/account".to_owned(),
        "/admin/audit".to_owned(),
        "/admin/incidents".to_owned(),
        "/admin/incidents/new".to_owned(),
        "/admin/incidents/new?lang=en".to_owned(),
        format!("/admin/incidents/{id}"),
        "/admin/maintenance".to_owned(),
        "/admin/users".to_owned(),
        "/admin/tokens".to_owned(),
        "/admin/subscribers".to_owned(),
        "/admin/webhooks".to_owned(),
        "/admin/agents".to_owned(),
    ] {
        let res = admin
            .get(format!("{}{path}", app.base))
            .send()
            .await
            .expect("page");
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        let html = res.text().await.expect("body");
        assert!(
            html.trim_end().ends_with("</html>"),
            "{path}: a whole page, not {html}"
        );
        let problems = common::html::problems(&html);
        assert!(problems.is_empty(), "{path}:\n{}", problems.join("\n"));
        pages.push((path, html));
    }
    if let Some(errors) = common::html::vnu_errors(&pages) {
        assert!(errors.is_empty(), "Nu HTML checker:\n{}", errors.join("\n"));
    }
}

on_both!(
    every_console_page_is_valid_html,
    staff_count_search_export_and_delete_subscribers_and_resume_paused_webhooks,
    a_draft_opens_once_and_a_resolved_incident_is_not_resolved_again,
    console_routes_refuse_anyone_without_a_session_even_through_disguised_paths,
    sign_in_sets_a_strict_http_only_cookie_and_rotates_the_session,
    unknown_user_and_wrong_password_get_the_same_answer_and_failures_are_throttled,
    forms_without_the_csrf_token_or_from_another_origin_are_refused,
    editors_run_incidents_but_not_users_tokens_or_the_audit_log,
    incident_form_with_french_template_publishes_and_bad_input_is_shown_again,
    api_requires_a_live_token_with_the_right_scope,
    api_runs_the_incident_life_cycle_with_validation_errors_naming_fields,
    every_response_has_a_policy_and_page_scripts_run_only_by_their_hash,
    an_update_is_edited_through_the_api_and_the_console_with_its_history_kept,
    engine_drafts_are_opened_prefilled_or_dismissed_and_never_published_alone,
    two_factor_turns_on_with_a_confirmed_code_then_each_code_signs_in_once,
    drafts_are_listed_opened_and_dismissed_through_the_api,
    the_console_serves_on_call_under_stress,
    a_disabled_user_is_locked_out_at_once_and_roles_change_in_the_console,
    expired_sessions_are_purged,
    hostile_query_parameters_never_make_a_console_page_fail,
    text_fields_longer_than_their_limit_are_refused_with_a_sentence,
);
