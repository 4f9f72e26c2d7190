//! Encryption of stored LinkedIn tokens with `LEADSYNC_SECRET_KEY` (ChaCha20-Poly1305, a random
//! nonce per value). Stored form: `v1:` + base64(nonce || ciphertext).

use base64::Engine;
use chacha20poly1305::{
    ChaCha20Poly1305, KeyInit, Nonce,
    aead::{Aead, AeadCore, OsRng},
};

use crate::error::AppError;

/// hex(HMAC-SHA256(key = secret, message)): LinkedIn's webhook challenge answers and signatures.
pub fn hmac_hex(secret: &str, message: &[u8]) -> String {
    use hmac::{Hmac, Mac};
    let mut mac =
        <Hmac<sha2::Sha256> as Mac>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(message);
    hex::encode(mac.finalize().into_bytes())
}

#[derive(Clone)]
pub struct TokenCipher {
    cipher: ChaCha20Poly1305,
}

const PREFIX: &str = "v1:";

impl TokenCipher {
    pub fn new(key: &[u8; 32]) -> Self {
        Self {
            cipher: ChaCha20Poly1305::new(key.into()),
        }
    }

    pub fn encrypt(&self, plain: &str) -> String {
        let nonce = ChaCha20Poly1305::generate_nonce(&mut OsRng);
        let sealed = self
            .cipher
            .encrypt(&nonce, plain.as_bytes())
            .expect("encryption of a short value cannot fail");
        let mut bytes = nonce.to_vec();
        bytes.extend(sealed);
        format!(
            "{PREFIX}{}",
            base64::engine::general_purpose::STANDARD.encode(bytes)
        )
    }

    /// Fails (logged as internal) on a value sealed with another key or tampered with.
    pub fn decrypt(&self, stored: &str) -> Result<String, AppError> {
        let bad = || AppError::internal("a stored token does not decrypt with LEADSYNC_SECRET_KEY");
        let bytes = stored
            .strip_prefix(PREFIX)
            .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
            .ok_or_else(bad)?;
        if bytes.len() < 12 {
            return Err(bad());
        }
        let (nonce, sealed) = bytes.split_at(12);
        let nonce: [u8; 12] = nonce.try_into().map_err(|_| bad())?;
        let plain = self
            .cipher
            .decrypt(&Nonce::from(nonce), sealed)
            .map_err(|_| bad())?;
        String::from_utf8(plain).map_err(|_| bad())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_other_keys() {
        let a = TokenCipher::new(&[7; 32]);
        let b = TokenCipher::new(&[8; 32]);
        let sealed = a.encrypt("AQUvlL_DYEzvT2wz1QJiEPeLioeA");
        assert!(!sealed.contains("AQUvlL"));
        assert_ne!(
            sealed,
            a.encrypt("AQUvlL_DYEzvT2wz1QJiEPeLioeA"),
            "nonces differ"
        );
        assert_eq!(a.decrypt(&sealed).unwrap(), "AQUvlL_DYEzvT2wz1QJiEPeLioeA");
        assert!(b.decrypt(&sealed).is_err());
        assert!(a.decrypt("v1:AAAA").is_err());
    }
}
