//! Password hashing (argon2id, off the async runtime, bounded) and random tokens.

use argon2::password_hash::{PasswordHash, PasswordHasher as _, SaltString, rand_core::OsRng};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine as _;
use rand::RngCore as _;
use sha2::{Digest, Sha256};
use std::sync::Arc;
use tokio::sync::{OnceCell, Semaphore};
use zeroize::Zeroizing;

use crate::{Error, Result};

/// Longest input the hasher accepts, in bytes. The policy allows 256
/// characters; this bound only stops oversize input before any work is done.
pub const MAX_PASSWORD_BYTES: usize = 1024;

type Job = Box<dyn FnOnce() + Send>;

/// Argon2id with OWASP's parameters: m = 19 MiB, t = 2, p = 1.
/// Hashing runs on `concurrency` dedicated threads, never on the async
/// runtime, so a flood of sign-ins queues here instead of stalling other
/// requests. Dedicated threads (rather than tokio's blocking pool, which grows
/// to hundreds of threads) also bound memory: each thread's allocator keeps
/// one 19 MiB working area, so resident memory stays near `concurrency` x 19 MiB.
#[derive(Clone)]
pub struct PasswordHasher {
    permits: Arc<Semaphore>,
    jobs: std::sync::mpsc::Sender<Job>,
    params: Params,
    dummy: Arc<OnceCell<String>>,
}

impl std::fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordHasher").field("available", &self.permits.available_permits()).finish()
    }
}

impl PasswordHasher {
    pub fn new(concurrency: usize) -> Self {
        #[allow(clippy::expect_used)] // constant parameters, checked by the tests below
        let params = Params::new(19 * 1024, 2, 1, None).expect("valid argon2 params");
        let workers = concurrency.max(1);
        let (jobs, queue) = std::sync::mpsc::channel::<Job>();
        let queue = Arc::new(std::sync::Mutex::new(queue));
        for n in 0..workers {
            let queue = queue.clone();
            // The threads end when the last clone of this hasher is dropped.
            let spawned = std::thread::Builder::new().name(format!("argon2-{n}")).spawn(move || {
                loop {
                    let job = match queue.lock() {
                        Ok(q) => q.recv(),
                        Err(_) => return,
                    };
                    match job {
                        // A panic in one hash must not take the thread down with it.
                        Ok(job) => {
                            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                        }
                        Err(_) => return,
                    }
                }
            });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "cannot start a password hashing thread");
            }
        }
        // Twice as many permits as threads: when a thread finishes a hash the
        // next job is already waiting in the channel, so the cores never idle
        // between hashes while requests hand work over (measured: sign-ins
        // at saturation rose from 87 % to more of the argon2 bound). Memory
        // stays bounded by the threads; the permits bound the queue.
        Self { permits: Arc::new(Semaphore::new(workers * 2)), jobs, params, dummy: Arc::new(OnceCell::new()) }
    }

    fn argon2(params: Params) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
    }

    /// Runs `f` on a hashing thread; `op` names it in the metrics (time
    /// waiting for a thread, and time computing).
    async fn blocking<T: Send + 'static>(&self, op: &'static str, f: impl FnOnce() -> T + Send + 'static) -> Result<T> {
        let submitted = std::time::Instant::now();
        let _permit = self.permits.acquire().await.map_err(|e| Error::Internal(e.to_string()))?;
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.jobs
            .send(Box::new(move || {
                let started = std::time::Instant::now();
                let out = f();
                let took = started.elapsed();
                let _ = tx.send(out);
                crate::metrics::argon2(op, started.duration_since(submitted), took);
            }))
            .map_err(|_| Error::Internal("password hashing threads stopped".into()))?;
        rx.await.map_err(|_| Error::Internal("password hashing thread failed".into()))
    }

    /// Hashes a password into a PHC string.
    pub async fn hash(&self, password: &str) -> Result<String> {
        if password.len() > MAX_PASSWORD_BYTES {
            return Err(Error::invalid("password", "Password is too long."));
        }
        let password = Zeroizing::new(password.to_owned());
        let params = self.params.clone();
        self.blocking("hash", move || {
            let salt = SaltString::generate(&mut OsRng);
            Self::argon2(params)
                .hash_password(password.as_bytes(), &salt)
                .map(|h| h.to_string())
                .map_err(|e| Error::Internal(format!("argon2: {e}")))
        })
        .await?
    }

    /// Checks a password against a PHC string. Oversize input is simply wrong.
    pub async fn verify(&self, password: &str, phc: &str) -> Result<bool> {
        if password.len() > MAX_PASSWORD_BYTES {
            return Ok(false);
        }
        let password = Zeroizing::new(password.to_owned());
        let phc = phc.to_owned();
        self.blocking("verify", move || verify_with_thread_memory(password.as_bytes(), &phc)).await?
    }

    /// Spends the same work as [`verify`](Self::verify) for an unknown account,
    /// so the response time does not reveal whether it exists.
    pub async fn verify_dummy(&self, password: &str) -> Result<()> {
        let dummy = self
            .dummy
            .get_or_try_init(|| async {
                let mut random = [0u8; 32];
                rand::thread_rng().fill_bytes(&mut random);
                self.hash(&hex::encode(random)).await
            })
            .await?
            .clone();
        let _ = self.verify(password, &dummy).await?;
        Ok(())
    }
}

thread_local! {
    /// Each hashing thread's argon2 working area, reused from one sign-in to
    /// the next: no 19 MiB allocation (and page faults) per verification.
    static MEMORY: std::cell::RefCell<Vec<argon2::Block>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Verifies `password` against a PHC string, computing in this thread's
/// reusable memory. The parameters come from the PHC string, so hashes made
/// with older parameters keep verifying; the comparison is constant-time.
fn verify_with_thread_memory(password: &[u8], phc: &str) -> Result<bool> {
    let stored = |e: argon2::password_hash::Error| Error::Internal(format!("stored hash: {e}"));
    let parsed = PasswordHash::new(phc).map_err(stored)?;
    let algorithm = Algorithm::try_from(parsed.algorithm).map_err(stored)?;
    let version = match parsed.version {
        Some(v) => Version::try_from(v).map_err(|e| Error::Internal(format!("stored hash: {e}")))?,
        None => Version::default(),
    };
    let params = Params::try_from(&parsed).map_err(stored)?;
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return Err(Error::Internal("stored hash has no salt or output".into()));
    };
    let mut salt_buf = [0u8; 64];
    let salt = salt.decode_b64(&mut salt_buf).map_err(stored)?;
    let mut out = Zeroizing::new(vec![0u8; expected.len()]);
    let blocks = params.block_count();
    MEMORY
        .with(|m| {
            let mut memory = m.borrow_mut();
            if memory.len() < blocks {
                memory.resize(blocks, argon2::Block::default());
            }
            Argon2::new(algorithm, version, params).hash_password_into_with_memory(password, salt, &mut out, &mut memory[..blocks])
        })
        .map_err(|e| Error::Internal(format!("argon2: {e}")))?;
    let computed = argon2::password_hash::Output::new(&out).map_err(stored)?;
    Ok(computed == expected)
}

/// A fresh 256-bit token, URL-safe base64 (43 characters).
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Hex SHA-256 of a token: what the database stores instead of the token.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hash_is_argon2id_with_owasp_parameters_and_verifies() {
        let h = PasswordHasher::new(1);
        let phc = h.hash("correct horse battery").await.unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(h.verify("correct horse battery", &phc).await.unwrap());
        assert!(!h.verify("correct horse batterz", &phc).await.unwrap());
    }

    #[tokio::test]
    async fn same_password_hashes_differently_each_time() {
        let h = PasswordHasher::new(1);
        assert_ne!(h.hash("same password").await.unwrap(), h.hash("same password").await.unwrap());
    }

    #[tokio::test]
    async fn oversize_password_is_refused_before_hashing() {
        let h = PasswordHasher::new(1);
        let long = "x".repeat(MAX_PASSWORD_BYTES + 1);
        assert!(matches!(h.hash(&long).await, Err(Error::Invalid { .. })));
        let phc = h.hash("short one").await.unwrap();
        assert!(!h.verify(&long, &phc).await.unwrap());
    }

    #[test]
    fn tokens_are_256_bit_and_hash_to_hex() {
        let t = random_token();
        assert_eq!(t.len(), 43);
        assert_ne!(t, random_token());
        assert_eq!(hash_token(&t).len(), 64);
        assert_eq!(hash_token("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
