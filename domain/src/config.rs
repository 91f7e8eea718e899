//! The catalog as code: the `vigie.toml` schema, its parsing and its validation.
//!
//! Parsing keeps the byte span of every id and reference so that each error names the file,
//! the line and column, and the offending key. Validation collects every error it finds
//! instead of stopping at the first, so an operator fixes a broken file in one pass.

//!
//! The module is split by concern: `schema` (the validated types), `raw` (the file as
//! written), `settings` (one settings type per monitor kind),
//! `locator` (offsets to line and column), `validate` and `monitors` (the checks),
//! `notify` (`[notifications]` and `[[alerts]]`). The types of `schema` and `settings` are
//! this module's public API (`domain::config::Catalog`, `domain::config::Monitor`, …): they
//! are re-exported here, by name, so the split stays the module's own business.

use std::time::Duration;

pub mod notify;

mod locator;
mod monitors;
mod raw;
mod schema;
mod settings;
mod validate;

// The module's API (see the module doc), listed by name, never by glob: a reader finds each
// item in the file its list names.
pub use schema::{
    Catalog, ConfigError, ConfigErrors, Dependency, Group, Host, HostKind, Location, Monitor,
    MonitorKind, Retention, ServerSettings, Service, Site, Slug,
};
pub use settings::{
    DnsSettings, HttpSettings, MonitorSpec, PushSettings, TcpSettings, TlsSettings,
};

use locator::Locator;
use raw::RawConfig;
use validate::Validator;

const DEFAULT_INTERVAL: Duration = Duration::from_secs(60);
const DEFAULT_DRAFT_AFTER: Duration = Duration::from_secs(5 * 60);
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
const DEFAULT_CONFIRM: u32 = 2;
const DEFAULT_RAW_DAYS: u32 = 7;
/// The location of an instance that names none.
pub const DEFAULT_LOCATION: &str = "local";

/// Parses and validates the text of a configuration file named `file` (used in messages).
pub fn parse(file: &str, text: &str) -> Result<Catalog, ConfigErrors> {
    let located = Locator { file, text };
    let raw: RawConfig = match toml::from_str(text) {
        Ok(raw) => raw,
        Err(e) => return Err(ConfigErrors(vec![located.toml_error(&e)])),
    };
    let mut v = Validator {
        loc: located,
        errors: Vec::new(),
    };
    let catalog = v.catalog(raw);
    if v.errors.is_empty() {
        Ok(catalog)
    } else {
        v.errors.sort_by_key(|e| (e.line, e.column));
        Err(ConfigErrors(v.errors))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[site]
title = "Test"

[[hosts]]
id = "phys-1"
kind = "physical"

[[hosts]]
id = "vm-db"
kind = "vm"
parent = "phys-1"

[[groups]]
id = "sites"
name = "Sites"

[[services]]
id = "db"
name = "Databases"
group = "sites"
host = "vm-db"

[[services.monitors]]
kind = "tcp"
target = "127.0.0.1:5432"
interval = "30s"

[[services]]
id = "web"
name = "Web"
group = "sites"
depends_on = ["db"]

[[services.monitors]]
kind = "http"
target = "http://127.0.0.1/"
keyword = "Hello"
"#;

    fn errors(text: &str) -> Vec<ConfigError> {
        match parse("vigie.toml", text) {
            Ok(_) => panic!("expected errors"),
            Err(ConfigErrors(e)) => e,
        }
    }

    #[test]
    fn a_valid_file_gives_a_catalog_with_defaults() {
        let c = parse("vigie.toml", GOOD).expect("valid");
        assert_eq!(c.services.len(), 2);
        assert_eq!(c.monitor_count(), 2);
        assert_eq!(c.probe_location.as_str(), "local");
        assert_eq!(c.draft_after, Duration::from_secs(300));
        let m = &c.services[0].monitors[0];
        assert_eq!(m.interval, Duration::from_secs(30));
        assert_eq!(m.confirm, 2);
        assert_eq!(m.locations, vec![Slug("local".into())]);
        assert_eq!(
            c.services[1].depends_on,
            vec![Dependency {
                service: Slug("db".into()),
                hard: false
            }]
        );
        assert_eq!(
            c.summary(),
            "2 services, 2 monitors, 2 hosts, 1 groups, 1 locations"
        );
    }

    #[test]
    fn the_timezone_is_an_iana_name_and_a_wrong_one_is_named_with_its_line() {
        let paris = parse("vigie.toml", GOOD).expect("valid");
        assert_eq!(paris.site.timezone, chrono_tz::Europe::Paris);
        let text = GOOD.replace(
            "title = \"Test\"",
            "title = \"Test\"\ntimezone = \"Europe/Pariss\"",
        );
        let e = &errors(&text)[0];
        assert_eq!(e.key, "site.timezone");
        assert_eq!(e.line, 4);
        assert!(e.message.contains("Europe/Pariss"), "{}", e.message);
        let text = GOOD.replace(
            "title = \"Test\"",
            "title = \"Test\"\ntimezone = \"America/Montreal\"",
        );
        let c = parse("vigie.toml", &text).expect("valid");
        assert_eq!(c.site.timezone, chrono_tz::America::Montreal);
    }

    #[test]
    fn the_cache_ceiling_defaults_to_64_mb_and_is_bounded() {
        let c = parse("vigie.toml", GOOD).expect("valid");
        assert_eq!(c.server.cache_bytes, 64 * 1024 * 1024);
        let text = format!("{GOOD}\n[server]\ncache_mb = 8\n");
        let c = parse("vigie.toml", &text).expect("valid");
        assert_eq!(c.server.cache_bytes, 8 * 1024 * 1024);
        let text = format!("{GOOD}\n[server]\ncache_mb = 0\n");
        let e = &errors(&text)[0];
        assert_eq!(e.key, "server.cache_mb");
        assert!(e.message.contains("1 to 65536 MB"), "{}", e.message);
    }

    #[test]
    fn the_instance_key_is_pointed_at_never_written_in_the_file() {
        let c = parse("vigie.toml", GOOD).expect("valid");
        assert_eq!(c.server.instance_key, None);
        let text = format!("{GOOD}\n[server]\ninstance_key = \"${{file:/etc/vigie/key}}\"\n");
        let c = parse("vigie.toml", &text).expect("valid");
        assert_eq!(
            c.server.instance_key,
            Some(notify::SecretRef::File("/etc/vigie/key".into()))
        );
        let key = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
        let text = format!("{GOOD}\n[server]\ninstance_key = \"{key}\"\n");
        let e = &errors(&text)[0];
        assert_eq!(e.key, "server.instance_key");
        assert!(e.message.contains("${file:PATH}"), "{}", e.message);
        assert!(!e.message.contains(key), "{}", e.message);
    }

    #[test]
    fn syntax_error_names_line_column_and_key() {
        let text = GOOD.replace("name = \"Web\"", "name = \"Web");
        let e = &errors(&text)[0];
        assert_eq!(e.file, "vigie.toml");
        let line = text
            .lines()
            .position(|l| l.starts_with("name = \"Web"))
            .unwrap()
            + 1;
        assert_eq!(e.line, line);
        assert_eq!(e.key, "name");
    }

    #[test]
    fn unknown_key_is_named_with_its_line() {
        let text = GOOD.replace("keyword = \"Hello\"", "keywrod = \"Hello\"");
        let e = &errors(&text)[0];
        assert_eq!(e.key, "keywrod");
        assert_eq!(
            e.line,
            text.lines().position(|l| l.starts_with("keywrod")).unwrap() + 1
        );
        assert!(e.message.contains("unknown field"), "{}", e.message);
    }

    #[test]
    fn unknown_host_reference_is_reported_at_the_reference() {
        let text = GOOD.replace("host = \"vm-db\"", "host = \"vm-nope\"");
        let e = &errors(&text)[0];
        assert_eq!(e.key, "services[0].host");
        assert_eq!(
            e.line,
            text.lines()
                .position(|l| l.starts_with("host = \"vm-nope\""))
                .unwrap()
                + 1
        );
        assert_eq!(e.column, 8);
        assert!(e.message.contains("unknown host `vm-nope`"));
    }

    #[test]
    fn unknown_group_reference_is_reported() {
        let text = GOOD.replacen("group = \"sites\"", "group = \"nope\"", 1);
        assert!(errors(&text)
            .iter()
            .any(|e| e.key == "services[0].group" && e.message.contains("unknown group")));
    }

    #[test]
    fn duplicate_service_id_is_reported_on_the_second() {
        let text = GOOD
            .replace("id = \"web\"", "id = \"db\"")
            .replace("depends_on = [\"db\"]", "");
        let errs = errors(&text);
        assert!(
            errs.iter()
                .any(|e| e.key == "services[1].id"
                    && e.message.contains("duplicate service id `db`")),
            "{errs:?}"
        );
    }

    #[test]
    fn cycle_in_host_parents_is_reported() {
        let text = GOOD.replace(
            "id = \"phys-1\"\nkind = \"physical\"",
            "id = \"phys-1\"\nkind = \"vm\"\nparent = \"vm-db\"",
        );
        assert!(errors(&text)
            .iter()
            .any(|e| e.message.contains("cycle in parents")));
    }

    #[test]
    fn cycle_in_depends_on_is_reported() {
        let text = GOOD.replace(
            "host = \"vm-db\"",
            "host = \"vm-db\"\ndepends_on = [\"web\"]",
        );
        assert!(errors(&text)
            .iter()
            .any(|e| e.message.contains("through a cycle")));
    }

    #[test]
    fn bad_duration_is_reported_with_its_key() {
        let text = GOOD.replace("interval = \"30s\"", "interval = \"thirty seconds\"");
        let e = &errors(&text)[0];
        assert_eq!(e.key, "services[0].monitors[0].interval");
        assert!(e.message.contains("not a duration"));
    }

    #[test]
    fn draft_delay_is_read_and_checked() {
        let c = parse(
            "vigie.toml",
            &format!("{GOOD}\n[probe]\ndraft_after = \"15m\"\n"),
        )
        .expect("valid");
        assert_eq!(c.draft_after, Duration::from_secs(900));
        let text = format!("{GOOD}\n[probe]\ndraft_after = \"soon\"\n");
        let e = &errors(&text)[0];
        assert_eq!(e.key, "probe.draft_after");
        assert_eq!(e.line, text.lines().count());
    }

    #[test]
    fn vm_without_parent_and_bad_slug_are_both_reported() {
        let text = GOOD
            .replace("parent = \"phys-1\"\n", "")
            .replace("id = \"web\"", "id = \"Web Site\"");
        let errs = errors(&text);
        assert!(errs.iter().any(|e| e.message.contains("needs a parent")));
        assert!(errs.iter().any(|e| e.message.contains("not a valid id")));
    }

    #[test]
    fn http_monitor_without_target_is_reported() {
        let text = GOOD.replace("target = \"http://127.0.0.1/\"\n", "");
        assert!(errors(&text)
            .iter()
            .any(|e| e.key == "services[1].monitors[0].target"));
    }

    #[test]
    fn kind_specific_settings_are_checked_at_their_line() {
        let text = GOOD
            .replace("keyword = \"Hello\"", "kind_x = 1")
            .replace("kind_x = 1", "json_pointer = \"status\"")
            .replace(
                "target = \"http://127.0.0.1/\"",
                "target = \"127.0.0.1:80\"",
            );
        let errs = errors(&text);
        let pointer = errs
            .iter()
            .find(|e| e.key == "services[1].monitors[0].json_pointer")
            .unwrap_or_else(|| panic!("{errs:?}"));
        assert_eq!(
            pointer.line,
            text.lines()
                .position(|l| l.starts_with("json_pointer"))
                .unwrap()
                + 1
        );
        assert!(errs.iter().any(
            |e| e.key == "services[1].monitors[0].target" && e.message.contains("not an http")
        ));
    }

    #[test]
    fn monitors_of_each_kind_need_their_settings() {
        let monitor = |body: &str| {
            let text = format!(
                "[site]\ntitle = \"T\"\n[[groups]]\nid = \"g\"\nname = \"G\"\n[[services]]\nid = \"s\"\nname = \"S\"\ngroup = \"g\"\n[[services.monitors]]\n{body}\n"
            );
            parse("t.toml", &text)
                .err()
                .map(|e| e.0.into_iter().map(|e| e.message).collect::<Vec<_>>())
        };
        assert!(monitor("kind = \"keyword\"\ntarget = \"http://x/\"").is_some());
        assert!(monitor("kind = \"json\"\ntarget = \"http://x/\"").is_some());
        assert!(monitor("kind = \"dns\"\ntarget = \"x.test\"\nrecord_type = \"SRV\"").is_some());
        assert!(
            monitor("kind = \"dns\"\ntarget = \"x.test\"\nresolver = \"dns.google\"").is_some()
        );
        assert!(
            monitor("kind = \"tls\"\ntarget = \"x:443\"\ndays_down = 30\ndays_degraded = 7")
                .is_some()
        );
        // A push token in clear in the file is refused, and the message does not repeat it.
        let clear =
            monitor("kind = \"push\"\ntoken = \"humanoid-nightly-backup\"").expect("refused");
        assert!(
            clear.iter().all(|m| !m.contains("humanoid-nightly")),
            "{clear:?}"
        );
        assert!(
            clear.iter().any(|m| m.contains("vigie push-token")),
            "{clear:?}"
        );
        assert!(
            monitor("kind = \"push\"\ntoken = \"${env:PUSH}\"\nflavour = \"nightly\"").is_some()
        );
        assert!(
            monitor("kind = \"http\"\ntarget = \"http://x/\"\nexpected_status = [42]").is_some()
        );
        assert!(monitor("kind = \"http\"\ntarget = \"http://x/\"\nmethod = \"GE T\"").is_some());
        assert_eq!(
            monitor("kind = \"push\"\ntoken = \"${file:/run/secrets/push}\"\nflavour = \"backup\""),
            None
        );
        assert_eq!(
            monitor("kind = \"push\""),
            None,
            "no token: Vigie generates one"
        );
        assert_eq!(monitor("kind = \"dns\"\ntarget = \"x.test\"\nrecord_type = \"mx\"\nresolver = \"127.0.0.1:53\""), None);
        assert_eq!(
            monitor("kind = \"json\"\ntarget = \"https://x/\"\njson_pointer = \"/a\""),
            None
        );
    }

    #[test]
    fn a_key_of_another_kind_is_refused_naming_the_monitors_kind_at_its_line() {
        let text = GOOD.replace(
            "interval = \"30s\"",
            "interval = \"30s\"\njson_pointer = \"/status\"\ngrace = \"5m\"",
        );
        let errs = errors(&text);
        assert_eq!(errs.len(), 2, "{errs:?}");
        let line = |start: &str| text.lines().position(|l| l.starts_with(start)).unwrap() + 1;
        assert_eq!(errs[0].key, "services[0].monitors[0].json_pointer");
        assert_eq!((errs[0].line, errs[0].column), (line("json_pointer"), 1));
        assert_eq!(
            errs[0].message,
            "a tcp monitor has no `json_pointer` (that is for http, keyword and json monitors); \
             its settings are send, expect"
        );
        assert_eq!(errs[1].key, "services[0].monitors[0].grace");
        assert_eq!(errs[1].line, line("grace"));
        assert!(
            errs[1].message.contains("(that is for push monitors)"),
            "{errs:?}"
        );
        // Each kind keeps only its own settings.
        let c = parse("vigie.toml", GOOD).expect("valid");
        assert_eq!(
            c.services[0].monitors[0].spec,
            MonitorSpec::new(MonitorKind::Tcp)
        );
        assert_eq!(
            c.services[1].monitors[0].spec,
            MonitorSpec::Http(HttpSettings {
                keyword: Some("Hello".into()),
                ..HttpSettings::default()
            })
        );
    }

    #[test]
    fn a_bad_grace_is_reported_at_its_line() {
        let text = GOOD.replace(
            "[[services.monitors]]\nkind = \"tcp\"",
            "[[services.monitors]]\nid = \"nightly\"\nkind = \"push\"\ngrace = \"soon\"\n\n[[services.monitors]]\nkind = \"tcp\"",
        );
        let errs = errors(&text);
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert_eq!(errs[0].key, "services[0].monitors[0].grace");
        assert_eq!(
            (errs[0].line, errs[0].column),
            (
                text.lines().position(|l| l.starts_with("grace")).unwrap() + 1,
                1
            )
        );
        assert!(
            errs[0].message.contains("`soon` is not a duration"),
            "{errs:?}"
        );
    }

    #[test]
    fn error_display_has_file_line_column_and_key() {
        let e = ConfigError {
            file: "a.toml".into(),
            line: 3,
            column: 7,
            key: "hosts[0].parent".into(),
            message: "unknown host `x`".into(),
        };
        assert_eq!(
            e.to_string(),
            "a.toml:3:7: key `hosts[0].parent`: unknown host `x`"
        );
    }

    #[test]
    fn the_shipped_humanoid_catalog_is_valid() {
        let text = include_str!("../../config/humanoid.toml");
        let c = parse("config/humanoid.toml", text).unwrap_or_else(|e| panic!("{e}"));
        let physical = c
            .hosts
            .iter()
            .filter(|h| h.kind == HostKind::Physical)
            .count();
        assert_eq!(physical, 4);
        for name in [
            "FrAndroid",
            "appXoid",
            "LesArdoises",
            "Android Bundle",
            "FraWin",
            "Mobs",
        ] {
            assert!(c.services.iter().any(|s| s.name == name), "{name} missing");
        }
    }
}
