//! The console's HTML shell: escaping, the layout with its navigation and sign-out form, and
//! small form helpers. Server-rendered, no script: every page works without JavaScript.

use crate::auth::Staff;
use store::users::Role;

/// Escapes text for HTML content and double-quoted attributes.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The hidden CSRF field every state-changing form carries.
pub fn csrf(staff: &Staff) -> String {
    format!(
        "<input type=\"hidden\" name=\"csrf\" value=\"{}\">",
        esc(&staff.session.csrf_token)
    )
}

/// A whole page. `staff` adds the navigation and the sign-out form; `flash` is a message
/// shown on top (errors on bad input).
pub fn layout(title: &str, staff: Option<&Staff>, flash: Option<&str>, body: &str) -> String {
    let nav = staff.map_or(String::new(), |s| {
        let admin_links = if s.user().role >= Role::Admin {
            "<a href=\"/admin/users\">Utilisateurs · Users</a> \
             <a href=\"/admin/tokens\">Jetons API · API tokens</a> \
             <a href=\"/admin/audit\">Journal · Audit log</a>"
        } else {
            ""
        };
        format!(
            "<nav><a href=\"/admin/incidents\">Incidents</a> \
             <a href=\"/admin/maintenance\">Maintenance</a> {admin_links} \
             <a href=\"/admin/account\">{email} ({role})</a> \
             <form method=\"post\" action=\"/admin/logout\">{csrf}\
             <button>Se déconnecter · Sign out</button></form> \
             <form method=\"post\" action=\"/admin/logout\">{csrf}\
             <input type=\"hidden\" name=\"everywhere\" value=\"1\">\
             <button>Partout · Everywhere</button></form></nav>",
            email = esc(&s.user().email),
            role = s.user().role.as_str(),
            csrf = csrf(s),
        )
    });
    let flash = flash.map_or(String::new(), |m| {
        format!("<p class=\"flash\" role=\"alert\">{}</p>", esc(m))
    });
    format!(
        "<!DOCTYPE html><html lang=\"fr\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"robots\" content=\"noindex\">\
         <title>{title} — Vigie</title><link rel=\"stylesheet\" href=\"/pkg/vigie.css\">\
         <link rel=\"icon\" href=\"{icon}\"></head>\
         <body class=\"admin\"><header><h1>{title}</h1>{nav}</header><main>{flash}{body}</main>\
         </body></html>",
        title = esc(title),
        icon = esc(app::FAVICON),
    )
}

/// The 403 page.
pub fn forbidden(staff: &Staff) -> String {
    layout(
        "Accès refusé · Forbidden",
        Some(staff),
        Some("Votre rôle ne permet pas cette action. Your role does not allow this."),
        "",
    )
}

impl Staff {
    /// `Err` with a 403 page unless the user has `role` or better. (It lives here, with the
    /// page it answers, so that `auth` needs nothing from the console.)
    // Handlers return the `Response` at once: boxing it would only add an allocation.
    #[allow(clippy::result_large_err)]
    pub fn require(&self, role: Role) -> Result<(), axum::response::Response> {
        use axum::response::IntoResponse;
        if self.session.user.role >= role {
            Ok(())
        } else {
            Err((
                axum::http::StatusCode::FORBIDDEN,
                axum::response::Html(forbidden(self)),
            )
                .into_response())
        }
    }
}

/// `<option>`s for `values`, `selected` marked.
pub fn options(values: &[&str], selected: &str) -> String {
    values
        .iter()
        .map(|v| {
            let sel = if *v == selected { " selected" } else { "" };
            format!("<option value=\"{v}\"{sel}>{v}</option>", v = esc(v))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::esc;

    #[test]
    fn markup_in_text_is_escaped() {
        assert_eq!(
            esc("<a href=\"x\" onclick='y'>&"),
            "&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;"
        );
    }
}
