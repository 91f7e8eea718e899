//! `vigie key rotate --new-key-file FILE`: moves every sealed secret (the staff's TOTP
//! secrets) from this instance's key to a new one, in one database transaction, so that a
//! key that may have leaked can be retired. The new key is read from a file (never from the
//! command line, where other users of the machine could read it) and never printed.

use std::path::Path;

use anyhow::Context;
use domain::config::Catalog;
use store::instance_key::InstanceKey;

/// Re-seals with the key in `new_key_file` what the current key (found as `vigie serve` finds
/// it) sealed; nothing is written if one secret does not open with the current key. Returns
/// what to tell the operator.
pub async fn rotate(
    catalog: &Catalog,
    database_url: &str,
    new_key_file: &Path,
) -> anyhow::Result<String> {
    let old = crate::instance_key::load(&catalog.server, database_url)?.context(
        "this instance has no instance key (PostgreSQL without VIGIE_INSTANCE_KEY_FILE or \
         instance_key under [server]): no secret is sealed, there is nothing to rotate",
    )?;
    let text = zeroize::Zeroizing::new(
        std::fs::read_to_string(new_key_file)
            .with_context(|| format!("cannot read the new key file {}", new_key_file.display()))?,
    );
    let new = InstanceKey::parse(text.trim())
        .with_context(|| format!("the new key file {} is not valid", new_key_file.display()))?;
    let db = store::connect(database_url)
        .await
        .context("cannot open the database")?;
    let written = store::users::totp::reseal_totp(&db, &old, &new).await?;
    Ok(format!(
        "{written} sealed secret(s) now open with the key in {}. Put that key where Vigie reads \
         its instance key (VIGIE_INSTANCE_KEY_FILE, instance_key under [server], or the key file \
         beside the SQLite database) on every instance, then restart them: until then their \
         staff's second factors are refused.",
        new_key_file.display()
    ))
}
