//! Values in Redis authenticated with `shared_cache_secret`: whoever can write to Redis (another application,
//! an operator's mistake, an attacker on its network) cannot make a replica serve, record or alert on numbers
//! no replica computed. Each value is written as `sealed 1 <HMAC-SHA256 in hex>\n<value>`, the MAC over the
//! key's name and the value, so a value moved to another key does not verify either. Several secrets are
//! accepted at once, for a rotation: the first signs, every one verifies.

use hmac::{Hmac, Mac};
use sha2::Sha256;

const SEALED: &[u8] = b"sealed 1 ";
/// A secret shorter than this is refused: HMAC-SHA256's own block of security.
const SHORTEST_SECRET: usize = 32;
const MAC_HEX: usize = 64;

#[derive(Clone)]
pub struct SealingKeys(Vec<Vec<u8>>);

/// Why a list of secrets cannot be used; never shows any of them.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    #[error("at least one secret")]
    Missing,
    #[error("secret {0} is shorter than 32 characters")]
    TooShort(usize),
}

impl std::fmt::Debug for SealingKeys {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "SealingKeys({} secrets, not shown)", self.0.len())
    }
}

/// Why a value read back is not one to use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Unsealed<'a> {
    Value(&'a [u8]),
    /// Not sealed, or sealed under no secret of ours, or edited since.
    Unauthenticated(&'static str),
}

impl SealingKeys {
    /// `shared_cache_secret`: secrets separated by spaces (or commas), each at least 32 characters.
    pub fn parse(text: &str) -> Result<SealingKeys, SecretError> {
        let secrets: Vec<Vec<u8>> = text
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|secret| !secret.is_empty())
            .map(|secret| secret.as_bytes().to_vec())
            .collect();
        if secrets.is_empty() {
            return Err(SecretError::Missing);
        }
        if let Some(position) = secrets.iter().position(|secret| secret.len() < SHORTEST_SECRET) {
            return Err(SecretError::TooShort(position + 1));
        }
        Ok(SealingKeys(secrets))
    }

    /// `value` as written under `key`, with its MAC under the first secret.
    pub fn seal(&self, key: &str, value: &[u8]) -> Vec<u8> {
        let mac = mac_of(&self.0[0], key, value).finalize().into_bytes();
        let mut sealed = Vec::with_capacity(SEALED.len() + MAC_HEX + 1 + value.len());
        sealed.extend_from_slice(SEALED);
        sealed.extend_from_slice(hex::encode(mac).as_bytes());
        sealed.push(b'\n');
        sealed.extend_from_slice(value);
        sealed
    }

    /// The value read under `key`, if one of the secrets sealed it there (compared in constant time).
    pub fn unseal<'a>(&self, key: &str, read: &'a [u8]) -> Unsealed<'a> {
        let Some(rest) = read.strip_prefix(SEALED) else { return Unsealed::Unauthenticated("not sealed") };
        let (Some(mac), Some(b'\n')) = (rest.get(..MAC_HEX), rest.get(MAC_HEX)) else {
            return Unsealed::Unauthenticated("not sealed");
        };
        let Ok(mac) = hex::decode(mac) else { return Unsealed::Unauthenticated("not sealed") };
        let value = &rest[MAC_HEX + 1..];
        match self.0.iter().any(|secret| mac_of(secret, key, value).verify_slice(&mac).is_ok()) {
            true => Unsealed::Value(value),
            false => Unsealed::Unauthenticated("sealed under no secret of this replica, or edited since"),
        }
    }
}

impl SealingKeys {
    /// The MAC of `value` under `key` with the first secret, in hex: a signed cookie.
    pub fn sign(&self, key: &str, value: &[u8]) -> String {
        hex::encode(mac_of(&self.0[0], key, value).finalize().into_bytes())
    }

    /// The secrets, the first (the one that signs) first: what other keys are derived from.
    pub fn secrets(&self) -> impl Iterator<Item = &[u8]> {
        self.0.iter().map(Vec::as_slice)
    }

    /// Whether `mac` (hex) is `value`'s MAC under `key` with one of the secrets (compared in constant time).
    pub fn verifies(&self, key: &str, value: &[u8], mac: &str) -> bool {
        let Ok(mac) = hex::decode(mac) else { return false };
        self.0.iter().any(|secret| mac_of(secret, key, value).verify_slice(&mac).is_ok())
    }
}

/// Without a secret: the value, whether or not a replica that has one sealed it.
pub fn unsealed_without_keys(read: &[u8]) -> &[u8] {
    match read.strip_prefix(SEALED) {
        Some(rest) if rest.get(MAC_HEX) == Some(&b'\n') => &rest[MAC_HEX + 1..],
        _ => read,
    }
}

fn mac_of(secret: &[u8], key: &str, value: &[u8]) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes a key of any length");
    mac.update(&(key.len() as u64).to_be_bytes());
    mac.update(key.as_bytes());
    mac.update(value);
    mac
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIRST: &str = "a-first-secret-of-at-least-32-characters";
    const SECOND: &str = "another-secret-of-at-least-32-characters";

    #[test]
    fn a_sealed_value_opens_under_its_key_only_and_unedited() {
        let keys = SealingKeys::parse(FIRST).unwrap();
        let sealed = keys.seal("{p}:period:abc", b"credit-dashboard period 1\n{}");
        assert_eq!(keys.unseal("{p}:period:abc", &sealed), Unsealed::Value(b"credit-dashboard period 1\n{}"));
        assert!(matches!(keys.unseal("{p}:period:abd", &sealed), Unsealed::Unauthenticated(_)), "another key");
        let mut edited = sealed.clone();
        *edited.last_mut().unwrap() = b']';
        assert!(matches!(keys.unseal("{p}:period:abc", &edited), Unsealed::Unauthenticated(_)), "edited");
        let plain: &[u8] = b"credit-dashboard period 1\n{}";
        assert_eq!(keys.unseal("{p}:period:abc", plain), Unsealed::Unauthenticated("not sealed"));
        let other = SealingKeys::parse(SECOND).unwrap();
        assert!(matches!(other.unseal("{p}:period:abc", &sealed), Unsealed::Unauthenticated(_)), "another secret");
        assert_eq!(unsealed_without_keys(&sealed), plain);
        assert_eq!(unsealed_without_keys(plain), plain);
    }

    #[test]
    fn a_rotation_signs_with_the_first_secret_and_accepts_every_one() {
        let old = SealingKeys::parse(FIRST).unwrap();
        let rotating = SealingKeys::parse(&format!("{SECOND} {FIRST}")).unwrap();
        let by_old = old.seal("k", b"v");
        assert_eq!(rotating.unseal("k", &by_old), Unsealed::Value(b"v"));
        let by_rotating = rotating.seal("k", b"v");
        assert!(matches!(old.unseal("k", &by_rotating), Unsealed::Unauthenticated(_)), "signed by the new one");
    }

    #[test]
    fn short_or_missing_secrets_are_refused_without_quoting_them() {
        assert!(SealingKeys::parse("").is_err());
        let refused = SealingKeys::parse(&format!("{FIRST} tooshort")).unwrap_err().to_string();
        assert!(refused.contains("secret 2") && !refused.contains("tooshort"), "{refused}");
        assert!(!format!("{:?}", SealingKeys::parse(FIRST).unwrap()).contains(FIRST));
    }
}
