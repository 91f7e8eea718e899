//! Secrets the configuration file only points at: `${env:NAME}` (an environment variable) or
//! `${file:PATH}` (a file's content, e.g. a systemd credential or a Docker secret), read when
//! the process starts. Used for push tokens and for HTTP probes' header values, so that none of
//! them sits in the file or in the database.

use domain::config::notify::SecretRef;
use domain::config::Catalog;

/// Reads `r`, trimmed of surrounding whitespace (a file's final newline). The error names the
/// reference, never the value.
pub fn read(r: &SecretRef) -> Result<String, String> {
    let value = match r {
        SecretRef::Env(name) => {
            std::env::var(name).map_err(|_| format!("environment variable {name} is not set"))?
        }
        SecretRef::File(path) => std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {path}: {}", e.kind()))?,
    };
    let value = value.trim();
    if value.is_empty() {
        return Err(match r {
            SecretRef::Env(name) => format!("environment variable {name} is empty"),
            SecretRef::File(path) => format!("{path} is empty"),
        });
    }
    Ok(value.to_owned())
}

/// Replaces each HTTP probe header value written `${env:NAME}` or `${file:PATH}` in `catalog`
/// by what it points at (other values stay as written). Done once at start, in memory only: the
/// store never writes header values (`store::catalog`), so credentials reach the probes and the
/// remote agents (over their authenticated API) but not the database. Every unreadable
/// reference is reported, by monitor and header name, never by value.
pub fn resolve_headers(catalog: &mut Catalog) -> Result<(), Vec<String>> {
    let mut problems = Vec::new();
    let owners = catalog
        .services
        .iter_mut()
        .map(|s| (format!("service {}", s.id.as_str()), &mut s.monitors))
        .chain(
            catalog
                .hosts
                .iter_mut()
                .map(|h| (format!("host {}", h.id.as_str()), &mut h.monitors)),
        );
    for (owner, monitors) in owners {
        for m in monitors.iter_mut() {
            let id = m.id.as_str();
            let Some(http) = m.spec.http_mut() else {
                continue;
            };
            for (name, value) in http.headers.iter_mut() {
                let Some(r) = SecretRef::parse(value) else {
                    continue;
                };
                match read(&r) {
                    Ok(v) => *value = v,
                    Err(e) => problems.push(format!("{owner}, monitor {id}: header `{name}`: {e}")),
                }
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_references_are_replaced_and_unreadable_ones_named_without_values() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("auth");
        std::fs::write(&path, "Bearer s3cret\n").expect("write");
        let text = format!(
            "[site]\ntitle = \"T\"\n[[groups]]\nid = \"g\"\nname = \"G\"\n\
             [[services]]\nid = \"shop\"\nname = \"S\"\ngroup = \"g\"\n\
             [[services.monitors]]\nid = \"api\"\nkind = \"http\"\ntarget = \"http://x/\"\n\
             headers = {{ Authorization = \"${{file:{}}}\", Accept = \"text/plain\" }}\n",
            path.display()
        );
        let mut c = domain::config::parse("t.toml", &text).expect("valid");
        resolve_headers(&mut c).expect("readable");
        let h = &c.services[0].monitors[0].spec.http().expect("http").headers;
        assert_eq!(h["Authorization"], "Bearer s3cret");
        assert_eq!(h["Accept"], "text/plain");

        let mut c = domain::config::parse(
            "t.toml",
            &text.replace(&path.display().to_string(), "/nonexistent/vigie-secret"),
        )
        .expect("valid");
        let e = resolve_headers(&mut c).expect_err("unreadable");
        assert_eq!(e.len(), 1);
        assert!(
            e[0].starts_with("service shop, monitor api: header `Authorization`: cannot read"),
            "{e:?}"
        );
    }

    #[test]
    fn a_file_is_read_trimmed_and_errors_name_the_reference_only() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("token");
        std::fs::write(&path, "s3cret-value\n").expect("write");
        let file = SecretRef::File(path.display().to_string());
        assert_eq!(read(&file).as_deref(), Ok("s3cret-value"));
        std::fs::write(&path, "\n").expect("write");
        assert!(read(&file).is_err_and(|e| e.ends_with("is empty")));
        let missing = SecretRef::Env("VIGIE_TEST_NEVER_SET_0x5f3".into());
        assert_eq!(
            read(&missing),
            Err("environment variable VIGIE_TEST_NEVER_SET_0x5f3 is not set".into())
        );
    }
}
