//! argon2id password hashing. Call these from a blocking thread: one hash costs tens of
//! milliseconds of CPU by design.

use std::sync::LazyLock;

use argon2::{Argon2, PasswordHasher, PasswordVerifier};

use super::model::Password;

/// Hashes with argon2id and the crate's defaults (19 MiB, t=2, p=1: the OWASP baseline),
/// returning a PHC string that carries its own salt and parameters.
pub fn hash(password: &Password) -> anyhow::Result<String> {
    let hash = Argon2::default()
        .hash_password(password.expose().as_bytes())
        .map_err(|e| anyhow::anyhow!("hashing a password failed: {e}"))?;
    Ok(hash.to_string())
}

/// True when `password` matches `hash`. A malformed hash never matches.
pub fn verify(password: &str, hash: &str) -> bool {
    PasswordVerifier::<str>::verify_password(&Argon2::default(), password.as_bytes(), hash).is_ok()
}

/// A hash verified against when the email is unknown, so that the answer takes as long as
/// for a known email. Its password does not matter: the outcome is always a failure.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    Password::parse("no account has this password".to_string())
        .ok()
        .and_then(|p| hash(&p).ok())
        .unwrap_or_default()
});

/// Spends the same work as a real verification, and always fails.
pub fn verify_dummy(password: &str) -> bool {
    let _ = verify(password, &DUMMY_HASH);
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_only_its_password() {
        let password = Password::parse("correct horse battery".into()).unwrap();
        let hashed = hash(&password).unwrap();
        assert!(hashed.starts_with("$argon2id$"));
        assert!(verify("correct horse battery", &hashed));
        assert!(!verify("correct horse battery!", &hashed));
        assert!(!verify("correct horse battery", "not a hash"));
        assert!(!verify_dummy("correct horse battery"));
        // Each hash has its own salt.
        assert_ne!(hashed, hash(&password).unwrap());
    }
}
