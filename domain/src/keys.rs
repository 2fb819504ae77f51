//! The server key: encrypts secrets at rest (TOTP seeds) with AES-256-GCM and
//! keys the hashes of backup codes (HMAC-SHA-256), so a copy of the database
//! alone reveals neither. Two sub-keys are derived from one 256-bit master key.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use rand::RngCore as _;
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::{Error, Result};

type HmacSha256 = Hmac<Sha256>;

pub struct Keys {
    aead: Aes256Gcm,
    mac_key: Zeroizing<[u8; 32]>,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keys(<redacted>)")
    }
}

fn derive(master: &[u8; 32], label: &[u8]) -> Zeroizing<[u8; 32]> {
    let mut m = <HmacSha256 as KeyInit>::new_from_slice(master).unwrap_or_else(|_| unreachable_key());
    m.update(label);
    let out = m.finalize().into_bytes();
    let mut key = Zeroizing::new([0u8; 32]);
    key.copy_from_slice(&out);
    key
}

#[allow(clippy::panic)] // HMAC accepts keys of any length; this cannot happen
fn unreachable_key() -> HmacSha256 {
    panic!("HMAC rejected a 32-byte key")
}

impl Keys {
    pub fn from_master(master: &[u8; 32]) -> Self {
        let enc = derive(master, b"latchkey/v1/encryption");
        let aead = Aes256Gcm::new_from_slice(enc.as_slice()).unwrap_or_else(|_| unreachable_cipher());
        Self { aead, mac_key: derive(master, b"latchkey/v1/mac") }
    }

    /// A fresh random key (tests, and the first start that writes the key file).
    pub fn generate_master() -> Zeroizing<[u8; 32]> {
        let mut k = Zeroizing::new([0u8; 32]);
        rand::thread_rng().fill_bytes(k.as_mut_slice());
        k
    }

    /// Seals `plaintext`, bound to `context` (e.g. "totp"): a value sealed for
    /// one purpose does not open for another. Output: base64url(nonce ‖ ciphertext).
    pub fn seal(&self, plaintext: &[u8], context: &str) -> Result<String> {
        let mut nonce = [0u8; 12];
        rand::thread_rng().fill_bytes(&mut nonce);
        let ct = self
            .aead
            .encrypt(&Nonce::from(nonce), Payload { msg: plaintext, aad: context.as_bytes() })
            .map_err(|_| Error::Internal("encryption failed".into()))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ct);
        Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(out))
    }

    pub fn open(&self, sealed: &str, context: &str) -> Result<Zeroizing<Vec<u8>>> {
        let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(sealed)
            .map_err(|_| Error::Internal("sealed value is not base64".into()))?;
        if raw.len() < 12 + 16 {
            return Err(Error::Internal("sealed value too short".into()));
        }
        let (nonce, ct) = raw.split_at(12);
        let mut n = [0u8; 12];
        n.copy_from_slice(nonce);
        self.aead
            .decrypt(&Nonce::from(n), Payload { msg: ct, aad: context.as_bytes() })
            .map(Zeroizing::new)
            .map_err(|_| Error::Internal("cannot decrypt a stored secret (wrong server key?)".into()))
    }

    /// Loads the master key from `LATCHKEY_SECRET_KEY`-style base64 text.
    pub fn from_base64(text: &str) -> Result<Self> {
        let raw = Zeroizing::new(
            base64::engine::general_purpose::STANDARD
                .decode(text.trim())
                .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(text.trim()))
                .map_err(|_| Error::Internal("the server key is not base64".into()))?,
        );
        let master: [u8; 32] =
            raw.as_slice().try_into().map_err(|_| Error::Internal(format!("the server key must be 32 bytes, not {}", raw.len())))?;
        Ok(Self::from_master(&master))
    }

    /// Reads the key file, or creates it (mode 0600) with a fresh key when it
    /// does not exist yet. Returns the keys and whether the file was created.
    pub fn load_or_create(path: &std::path::Path) -> Result<(Self, bool)> {
        match std::fs::read_to_string(path) {
            Ok(text) => Ok((Self::from_base64(&text)?, false)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir).map_err(|e| Error::Internal(format!("cannot create {}: {e}", dir.display())))?;
                }
                let master = Self::generate_master();
                let text = Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(master.as_slice()));
                match write_private(path, text.as_bytes()) {
                    Ok(()) => Ok((Self::from_master(&master), true)),
                    // Another process starting at the same moment created it first: use theirs.
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Self::load_or_create(path),
                    Err(e) => Err(Error::Internal(format!("cannot write {}: {e}", path.display()))),
                }
            }
            Err(e) => Err(Error::Internal(format!("cannot read {}: {e}", path.display()))),
        }
    }

    /// Hex HMAC-SHA-256 of `data` under the server's MAC key.
    pub fn mac(&self, data: &[u8]) -> String {
        let mut m = <HmacSha256 as KeyInit>::new_from_slice(self.mac_key.as_slice()).unwrap_or_else(|_| unreachable_key());
        m.update(data);
        hex::encode(m.finalize().into_bytes())
    }
}

/// Creates `path` readable by its owner only, whole or not at all; never
/// overwrites (an existing `path` is `AlreadyExists`). The bytes go to a
/// private temporary file beside it first, which is then hard-linked into
/// place, so a reader never sees a half-written file (a mail file picked up
/// while being written, a key file read by a process starting beside the
/// one creating it).
pub(crate) fn write_private(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.{}.tmp", uuid::Uuid::new_v4().simple()));
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let write = |to: &std::path::Path| {
        opts.open(to).and_then(|mut f| {
            f.write_all(bytes)?;
            f.sync_all()
        })
    };
    let linked = write(&tmp).map(|()| std::fs::hard_link(&tmp, path));
    let _ = std::fs::remove_file(&tmp);
    match linked? {
        // A file system without hard links (some network or FUSE mounts):
        // still private and never overwriting, written in place.
        Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => write(path),
        other => other,
    }
}

#[allow(clippy::panic)] // AES-256 takes exactly the 32 bytes derive() returns
fn unreachable_cipher() -> Aes256Gcm {
    panic!("AES-256-GCM rejected a 32-byte key")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_with_the_same_key_and_context() {
        let k = Keys::from_master(&Keys::generate_master());
        let sealed = k.seal(b"JBSWY3DPEHPK3PXP", "totp").unwrap();
        assert!(!sealed.contains("JBSWY3DPEHPK3PXP"));
        assert_eq!(k.open(&sealed, "totp").unwrap().as_slice(), b"JBSWY3DPEHPK3PXP");
        assert!(k.open(&sealed, "other").is_err());
        let other = Keys::from_master(&Keys::generate_master());
        assert!(other.open(&sealed, "totp").is_err());
        assert_ne!(k.seal(b"x", "totp").unwrap(), k.seal(b"x", "totp").unwrap(), "fresh nonce each time");
    }

    #[test]
    fn the_key_file_is_created_private_once_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/secret.key");
        let (a, created) = Keys::load_or_create(&path).unwrap();
        assert!(created);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        let (b, created) = Keys::load_or_create(&path).unwrap();
        assert!(!created);
        assert_eq!(a.mac(b"x"), b.mac(b"x"), "the same key comes back");
        std::fs::write(dir.path().join("bad.key"), "not base64!").unwrap();
        assert!(Keys::load_or_create(&dir.path().join("bad.key")).is_err());
    }

    /// Threat: two processes started together (a server and its CLI, two
    /// instances) each creating a key, so one of them fails to start, reads a
    /// half-written file, or seals data the other cannot open.
    #[test]
    fn processes_creating_the_key_at_once_end_up_with_one_key() {
        for round in 0..20 {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("secret.key");
            let barrier = std::sync::Arc::new(std::sync::Barrier::new(6));
            let starts: Vec<_> = (0..6)
                .map(|_| {
                    let (path, barrier) = (path.clone(), barrier.clone());
                    std::thread::spawn(move || {
                        barrier.wait();
                        Keys::load_or_create(&path)
                    })
                })
                .collect();
            let results: Vec<_> = starts.into_iter().map(|t| t.join().unwrap().unwrap_or_else(|e| panic!("round {round}: {e}"))).collect();
            assert_eq!(results.iter().filter(|(_, created)| *created).count(), 1, "exactly one process created it");
            let on_disk = Keys::load_or_create(&path).unwrap().0;
            assert!(results.iter().all(|(k, _)| k.mac(b"x") == on_disk.mac(b"x")), "everyone uses the key on disk");
            let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
            assert_eq!(names, vec![std::ffi::OsString::from("secret.key")], "no temporary files are left");
        }
    }

    #[test]
    fn macs_are_keyed() {
        let a = Keys::from_master(&[1u8; 32]);
        let b = Keys::from_master(&[2u8; 32]);
        assert_eq!(a.mac(b"code"), a.mac(b"code"));
        assert_ne!(a.mac(b"code"), b.mac(b"code"));
        assert_eq!(a.mac(b"code").len(), 64);
    }
}
