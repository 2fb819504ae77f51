//! The metrics the services record, through the `metrics` facade: each call
//! is a no-op unless the server installed an exporter (see the server's
//! `metrics` module, which also describes these names for Prometheus).

use metrics::{Unit, counter, describe_counter, describe_histogram, histogram};
use std::time::Duration;

pub const SIGN_INS: &str = "latchkey_sign_ins_total";
pub const SECOND_FACTOR_FAILURES: &str = "latchkey_second_factor_failures_total";
pub const RATE_LIMITED: &str = "latchkey_rate_limited_total";
pub const ARGON2_QUEUE_WAIT: &str = "latchkey_argon2_queue_wait_seconds";
pub const ARGON2_HASH: &str = "latchkey_argon2_hash_seconds";
pub const MAIL_FAILURES: &str = "latchkey_mail_failures_total";

/// Gives each metric its help text, and unlabelled counters a first 0 (so
/// they are there before the first event).
pub fn describe() {
    describe_counter!(SIGN_INS, "Sign-in proofs checked, by method (amr: pwd, hwk, otp) and outcome (success, failure).");
    describe_counter!(SECOND_FACTOR_FAILURES, "Wrong answers at a sign-in step after the first.");
    describe_counter!(RATE_LIMITED, "Requests refused by a rate limit, by limit.");
    describe_histogram!(ARGON2_QUEUE_WAIT, Unit::Seconds, "Time a password hash waited for a hashing thread, by op (hash, verify).");
    describe_histogram!(ARGON2_HASH, Unit::Seconds, "Time spent computing a password hash, by op (hash, verify).");
    describe_counter!(MAIL_FAILURES, "Mail send attempts that failed (each is retried with back-off).");
    counter!(SECOND_FACTOR_FAILURES).absolute(0);
    counter!(MAIL_FAILURES).absolute(0);
}

/// A sign-in proof by `method` (an `amr` value) was checked.
pub(crate) fn sign_in(method: &'static str, success: bool) {
    counter!(SIGN_INS, "method" => method, "outcome" => if success { "success" } else { "failure" }).increment(1);
}

pub(crate) fn second_factor_failed() {
    counter!(SECOND_FACTOR_FAILURES).increment(1);
}

/// The limit named `limit` refused a request.
pub(crate) fn rate_limited(limit: &'static str) {
    counter!(RATE_LIMITED, "limit" => limit).increment(1);
}

pub(crate) fn argon2(op: &'static str, queued: Duration, took: Duration) {
    histogram!(ARGON2_QUEUE_WAIT, "op" => op).record(queued.as_secs_f64());
    histogram!(ARGON2_HASH, "op" => op).record(took.as_secs_f64());
}

pub(crate) fn mail_failed() {
    counter!(MAIL_FAILURES).increment(1);
}
