//! `ca keystore passwd`: change a key file's password. The authority hands out
//! key files with the password 123456 and tells people to change it; this does,
//! for our files and the authority's alike. The new file is written beside the
//! old one, opened again with the new password, and only then put in its place.

use super::enroll::{secret, MIN_PASSWORD_LEN};
use crate::error::{CliError, CliResult};
use crate::output::Output;
use ca_core::pkcs12::{self, Entry, Protection};
use serde::Serialize;
use std::path::Path;

/// A key file whose password was changed.
#[derive(Serialize)]
pub struct Changed {
    file: String,
    encryption: Protection,
}

impl Output for Changed {
    fn human(&self) -> String {
        format!("the password of {} is changed ({:?})", self.file, self.encryption)
    }
}

/// Run `ca keystore passwd`.
pub fn passwd(file: &Path, old_file: Option<&Path>, new_file: Option<&Path>, legacy: bool) -> CliResult<Changed> {
    let old = secret(old_file, "CA_KEY_PASSWORD", "--password-file")?;
    let new = secret(new_file, "CA_NEW_KEY_PASSWORD", "--new-password-file")?;
    if new.chars().count() < MIN_PASSWORD_LEN {
        return Err(CliError::refused("weak_password", format!("the new password must have at least {MIN_PASSWORD_LEN} characters")));
    }
    if *new == *old {
        return Err(CliError::refused("same_password", "the new password is the old one"));
    }
    let bytes = std::fs::read(file).map_err(|e| CliError::reading(file, e))?;
    let store = pkcs12::read(&bytes, &old)?;
    let local_key_id = store.key_id.clone().unwrap_or_default();
    let name = store.friendly_name.clone().unwrap_or_else(|| hex::encode(&local_key_id));
    let entry = Entry {
        key_pkcs8: &store.key_pkcs8,
        certificate: &store.certificate,
        chain: &store.chain,
        friendly_name: &name,
        local_key_id: &local_key_id,
    };
    let written = if legacy { pkcs12::write_legacy(&entry, &new)? } else { pkcs12::write(&entry, &new)? };
    // Opened again before anything is replaced: the same key and certificate.
    let check = pkcs12::read(&written, &new)?;
    if check.key_pkcs8 != store.key_pkcs8 || check.certificate != store.certificate {
        return Err(CliError::internal(
            "keystore_check",
            "the rewritten file does not hold the same key and certificate; nothing was changed",
        ));
    }
    let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = file.with_file_name(format!(".{name}.new-{}", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    super::enroll::write_private(&tmp, &written)?;
    if let Err(e) = std::fs::rename(&tmp, file) {
        let _ = std::fs::remove_file(&tmp);
        return Err(CliError::writing(file, e));
    }
    Ok(Changed { file: file.display().to_string(), encryption: check.protection })
}
