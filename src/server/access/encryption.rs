//! What only this deployment can read: the sign-in a browser carries in its cookie (the PKCE verifier, the nonce,
//! the way back) and each session the store keeps (the provider's tokens among them) are encrypted and
//! authenticated with AES-256-GCM, under a key derived (HKDF-SHA256) from each `auth_session_secret`. The first
//! secret encrypts, every one decrypts: a rotation, as for the cookie's MAC. Each value is bound to its purpose
//! (the additional data), so a session's value moved under another name, or a sign-in presented as a session,
//! does not open.

use crate::server::shared_cache::seal::SealingKeys;
use base64::Engine;
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use ring::hkdf::{Salt, HKDF_SHA256};
use ring::rand::{SecureRandom, SystemRandom};

/// Fixed for this purpose: the same secret yields other keys for other uses (the cookie's MAC is HMAC over it).
const SALT: &[u8] = b"credit-dashboard session encryption";
const INFO: &[u8] = b"aes-256-gcm 1";

pub struct Encryption {
    keys: Vec<LessSafeKey>,
    random: SystemRandom,
}

impl std::fmt::Debug for Encryption {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "Encryption({} keys, not shown)", self.keys.len())
    }
}

impl Encryption {
    pub fn new(secrets: &SealingKeys) -> Self {
        let salt = Salt::new(HKDF_SHA256, SALT);
        let keys = secrets
            .secrets()
            .map(|secret| {
                let prk = salt.extract(secret);
                let okm = prk.expand(&[INFO], &AES_256_GCM).expect("AES-256's key length");
                LessSafeKey::new(UnboundKey::from(okm))
            })
            .collect();
        Encryption { keys, random: SystemRandom::new() }
    }

    /// `plain`, encrypted for `purpose` under the first secret: base64url of a random 96-bit nonce, the
    /// ciphertext and its tag.
    pub fn seal(&self, purpose: &str, plain: &[u8]) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        self.random.fill(&mut nonce).expect("the system's random numbers");
        let mut sealed = plain.to_vec();
        self.keys[0]
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(purpose.as_bytes()), &mut sealed)
            .expect("a value this small encrypts");
        let mut out = nonce.to_vec();
        out.append(&mut sealed);
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(out)
    }

    /// The plain value of `sealed`, if one of the secrets encrypted it for `purpose` and it is unaltered.
    pub fn open(&self, purpose: &str, sealed: &str) -> Option<Vec<u8>> {
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(sealed).ok()?;
        let (nonce, ciphertext) = (bytes.get(..NONCE_LEN)?, bytes.get(NONCE_LEN..)?);
        self.keys.iter().find_map(|key| {
            let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
            let mut buffer = ciphertext.to_vec();
            let plain = key.open_in_place(nonce, Aad::from(purpose.as_bytes()), &mut buffer).ok()?;
            Some(plain.to_vec())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIRST: &str = "a-first-secret-of-at-least-32-characters";
    const SECOND: &str = "another-secret-of-at-least-32-characters";

    fn encryption(secrets: &str) -> Encryption {
        Encryption::new(&SealingKeys::parse(secrets).unwrap())
    }

    #[test]
    fn a_sealed_value_hides_its_text_and_opens_only_for_its_purpose_unaltered() {
        let keys = encryption(FIRST);
        let sealed = keys.seal("sign-in", b"return to /?tz=Europe/Berlin");
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(&sealed).unwrap();
        assert!(!String::from_utf8_lossy(&bytes).contains("Berlin"), "encrypted, not only signed");
        assert_eq!(keys.open("sign-in", &sealed).as_deref(), Some(&b"return to /?tz=Europe/Berlin"[..]));
        assert_eq!(keys.open("session:x", &sealed), None, "another purpose");
        let mut altered = bytes.clone();
        *altered.last_mut().unwrap() ^= 1;
        let altered = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(altered);
        assert_eq!(keys.open("sign-in", &altered), None);
        assert_eq!(keys.open("sign-in", "not base64!"), None);
        assert_eq!(keys.open("sign-in", ""), None);
        assert_ne!(keys.seal("sign-in", b"same"), keys.seal("sign-in", b"same"), "a fresh nonce each time");
    }

    #[test]
    fn a_rotation_encrypts_with_the_first_secret_and_opens_with_every_one() {
        let old = encryption(FIRST);
        let rotating = encryption(&format!("{SECOND} {FIRST}"));
        assert_eq!(rotating.open("p", &old.seal("p", b"v")).as_deref(), Some(&b"v"[..]));
        assert_eq!(old.open("p", &rotating.seal("p", b"v")), None, "encrypted under the new one");
        assert_eq!(encryption(SECOND).open("p", &old.seal("p", b"v")), None);
    }
}
