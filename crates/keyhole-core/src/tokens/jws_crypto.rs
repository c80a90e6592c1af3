//! The cryptography under `jsonwebtoken`, on ring: the library the TLS stack already uses, instead
//! of jsonwebtoken's RustCrypto backend, a second, pure-Rust copy of RSA, P-256, P-384 and Ed25519
//! that cost the app about 0.25 MB (`bench/README.md`, "Binary size").
//!
//! Keyhole accepts RS256, RS384 and RS512 only (`verify`), so those are what this verifies, with
//! ring's floor of 2048-bit moduli. Signing (RS* and HS*) is here for the tests and the sandbox,
//! which make tokens in the same process as the engine checks them.

use jsonwebtoken::crypto::{CryptoProvider, JwtSigner, JwtVerifier, KeyUtils};
use jsonwebtoken::errors::{Error, ErrorKind};
use jsonwebtoken::signature::{self, Signer, Verifier};
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey, DecodingKeyKind, EncodingKey};
use ring::{hmac, rand::SystemRandom, signature as ring_sig};

static PROVIDER: CryptoProvider = CryptoProvider {
    signer_factory: signer,
    verifier_factory: verifier,
    key_utils: KeyUtils::new_unimplemented(),
};

/// Makes ring jsonwebtoken's crypto provider for this process. The engine calls it before every
/// check; code that signs or checks tokens with jsonwebtoken itself in the same process (tests)
/// calls it first, since jsonwebtoken has no provider of its own here and panics without one.
/// The first install wins; calling it again is harmless.
pub fn install() {
    let _ = PROVIDER.install_default();
}

/// RSA moduli under this many bytes (2048 bits) are refused, as ring does.
const MIN_RSA_MODULUS_BYTES: usize = 256;

fn verifier(algorithm: &Algorithm, key: &DecodingKey) -> Result<Box<dyn JwtVerifier>, Error> {
    let params: &'static ring_sig::RsaParameters = match algorithm {
        Algorithm::RS256 => &ring_sig::RSA_PKCS1_2048_8192_SHA256,
        Algorithm::RS384 => &ring_sig::RSA_PKCS1_2048_8192_SHA384,
        Algorithm::RS512 => &ring_sig::RSA_PKCS1_2048_8192_SHA512,
        _ => return Err(ErrorKind::InvalidAlgorithm.into()),
    };
    if key.family() != AlgorithmFamily::Rsa {
        return Err(ErrorKind::InvalidKeyFormat.into());
    }
    let public = match key.kind() {
        DecodingKeyKind::RsaModulusExponent { n, e } => {
            if significant(n).len() < MIN_RSA_MODULUS_BYTES {
                return Err(ErrorKind::InvalidRsaKey("shorter than 2048 bits".into()).into());
            }
            RsaPublic::Components {
                n: n.clone(),
                e: e.clone(),
            }
        }
        // An RSAPublicKey in DER (from a PEM file); ring checks the modulus size itself.
        DecodingKeyKind::SecretOrDer(der) => RsaPublic::Der(der.clone()),
    };
    Ok(Box::new(RsaVerifier {
        algorithm: *algorithm,
        params,
        public,
    }))
}

/// `bytes` without leading zero bytes (JWK moduli may carry one).
fn significant(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    &bytes[start..]
}

enum RsaPublic {
    Components { n: Vec<u8>, e: Vec<u8> },
    Der(Vec<u8>),
}

struct RsaVerifier {
    algorithm: Algorithm,
    params: &'static ring_sig::RsaParameters,
    public: RsaPublic,
}

impl Verifier<Vec<u8>> for RsaVerifier {
    fn verify(&self, msg: &[u8], signature: &Vec<u8>) -> Result<(), signature::Error> {
        match &self.public {
            RsaPublic::Components { n, e } => {
                ring_sig::RsaPublicKeyComponents { n, e }.verify(self.params, msg, signature)
            }
            RsaPublic::Der(der) => {
                ring_sig::UnparsedPublicKey::new(self.params, der).verify(msg, signature)
            }
        }
        .map_err(|_| signature::Error::new())
    }
}

impl JwtVerifier for RsaVerifier {
    fn algorithm(&self) -> Algorithm {
        self.algorithm
    }
}

fn signer(algorithm: &Algorithm, key: &EncodingKey) -> Result<Box<dyn JwtSigner>, Error> {
    let signer: Box<dyn JwtSigner> = match algorithm {
        Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512 => {
            let hash = match algorithm {
                Algorithm::HS256 => hmac::HMAC_SHA256,
                Algorithm::HS384 => hmac::HMAC_SHA384,
                _ => hmac::HMAC_SHA512,
            };
            Box::new(HmacSigner {
                algorithm: *algorithm,
                key: hmac::Key::new(hash, key.as_bytes()),
            })
        }
        Algorithm::RS256 | Algorithm::RS384 | Algorithm::RS512 => {
            if key.family() != AlgorithmFamily::Rsa {
                return Err(ErrorKind::InvalidKeyFormat.into());
            }
            let pair = rsa_key_pair(key).map_err(|e| ErrorKind::InvalidRsaKey(e.to_string()))?;
            let padding: &'static dyn ring_sig::RsaEncoding = match algorithm {
                Algorithm::RS256 => &ring_sig::RSA_PKCS1_SHA256,
                Algorithm::RS384 => &ring_sig::RSA_PKCS1_SHA384,
                _ => &ring_sig::RSA_PKCS1_SHA512,
            };
            Box::new(RsaSigner {
                algorithm: *algorithm,
                pair,
                padding,
            })
        }
        _ => return Err(ErrorKind::InvalidAlgorithm.into()),
    };
    Ok(signer)
}

/// An RSA private key as jsonwebtoken holds it: PKCS#1 DER (from a PEM file), or PKCS#8.
fn rsa_key_pair(key: &EncodingKey) -> Result<ring_sig::RsaKeyPair, ring::error::KeyRejected> {
    let der = key.as_bytes();
    ring_sig::RsaKeyPair::from_der(der).or_else(|_| ring_sig::RsaKeyPair::from_pkcs8(der))
}

struct HmacSigner {
    algorithm: Algorithm,
    key: hmac::Key,
}

impl Signer<Vec<u8>> for HmacSigner {
    fn try_sign(&self, msg: &[u8]) -> Result<Vec<u8>, signature::Error> {
        Ok(hmac::sign(&self.key, msg).as_ref().to_vec())
    }
}

impl JwtSigner for HmacSigner {
    fn algorithm(&self) -> Algorithm {
        self.algorithm
    }
}

struct RsaSigner {
    algorithm: Algorithm,
    pair: ring_sig::RsaKeyPair,
    padding: &'static dyn ring_sig::RsaEncoding,
}

impl Signer<Vec<u8>> for RsaSigner {
    fn try_sign(&self, msg: &[u8]) -> Result<Vec<u8>, signature::Error> {
        let mut out = vec![0; self.pair.public().modulus_len()];
        self.pair
            .sign(self.padding, &SystemRandom::new(), msg, &mut out)
            .map_err(|_| signature::Error::new())?;
        Ok(out)
    }
}

impl JwtSigner for RsaSigner {
    fn algorithm(&self) -> Algorithm {
        self.algorithm
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{decode, encode, Header, Validation};
    use serde_json::{json, Map, Value};

    const KEY_A: &str = include_str!("testdata/rsa_a.pem");
    const KEY_B: &str = include_str!("testdata/rsa_b.pem");

    /// The public half of a test key as a JWK-style (n, e) decoding key, via ring.
    fn public_of(pem: &str) -> DecodingKey {
        let key = EncodingKey::from_rsa_pem(pem.as_bytes()).expect("test key");
        let pair = rsa_key_pair(&key).expect("test key parses");
        let public = ring::rsa::PublicKeyComponents::<Vec<u8>>::from(pair.public());
        DecodingKey::from_rsa_raw_components(&public.n, &public.e)
    }

    fn sign(alg: Algorithm, pem: &str) -> String {
        install();
        let key = EncodingKey::from_rsa_pem(pem.as_bytes()).expect("test key");
        encode(&Header::new(alg), &json!({"sub": "user_1"}), &key).expect("signs")
    }

    fn check(token: &str, alg: Algorithm, key: &DecodingKey) -> Result<(), ErrorKind> {
        let mut validation = Validation::new(alg);
        validation.required_spec_claims.clear();
        validation.validate_exp = false;
        decode::<Map<String, Value>>(token, key, &validation)
            .map(|_| ())
            .map_err(|e| e.into_kind())
    }

    #[test]
    fn rs256_rs384_rs512_round_trip_and_a_wrong_key_or_a_changed_byte_fails() {
        let key_a = public_of(KEY_A);
        let key_b = public_of(KEY_B);
        for alg in [Algorithm::RS256, Algorithm::RS384, Algorithm::RS512] {
            let token = sign(alg, KEY_A);
            assert_eq!(check(&token, alg, &key_a), Ok(()), "{alg:?}");
            assert_eq!(
                check(&token, alg, &key_b),
                Err(ErrorKind::InvalidSignature),
                "{alg:?} under another key"
            );
            // Flip one bit of the signature's last full byte.
            let (head, sig) = token.rsplit_once('.').expect("three parts");
            let mut sig = sig.as_bytes().to_vec();
            let i = sig.len() - 2;
            sig[i] = if sig[i] == b'A' { b'B' } else { b'A' };
            let tampered = format!("{head}.{}", String::from_utf8(sig).expect("ascii"));
            assert_eq!(
                check(&tampered, alg, &key_a),
                Err(ErrorKind::InvalidSignature),
                "{alg:?} tampered"
            );
        }
    }

    #[test]
    fn algorithms_keyhole_does_not_accept_are_not_verified() {
        install();
        let key_a = public_of(KEY_A);
        for alg in [
            Algorithm::PS256,
            Algorithm::ES256,
            Algorithm::EdDSA,
            Algorithm::HS256,
        ] {
            assert_eq!(
                verifier(&alg, &key_a).err().map(|e| e.into_kind()),
                Some(ErrorKind::InvalidAlgorithm),
                "{alg:?}"
            );
        }
    }

    #[test]
    fn an_rsa_modulus_under_2048_bits_is_refused_by_name() {
        // A 1024-bit modulus (any odd 128-byte value does for the size rule).
        let n = [&[0xc5u8][..], &[0x11; 127]].concat();
        let key = DecodingKey::from_rsa_raw_components(&n, &[1, 0, 1]);
        match verifier(&Algorithm::RS256, &key)
            .err()
            .map(|e| e.into_kind())
        {
            Some(ErrorKind::InvalidRsaKey(why)) => assert!(why.contains("2048"), "{why}"),
            other => panic!("expected InvalidRsaKey, got {other:?}"),
        }
        // A leading zero byte does not count towards the size.
        let padded = [&[0u8][..], &n].concat();
        let key = DecodingKey::from_rsa_raw_components(&padded, &[1, 0, 1]);
        assert!(matches!(
            verifier(&Algorithm::RS256, &key)
                .err()
                .map(|e| e.into_kind()),
            Some(ErrorKind::InvalidRsaKey(_))
        ));
    }
}
