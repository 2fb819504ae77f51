//! Login flows: an ordered list of steps; each step offers authenticator
//! options, any one of which completes it. Stored as versioned JSON data (admins
//! edit it), validated here, and evaluated at every sign-in.
//!
//! ```text
//!  step 1: password | passkey          (always)
//!  step 2: totp | backup_code          (only when the user has enrolled one)
//! ```
//! A passkey with user verification is itself multi-factor, so it also
//! completes any later step that offers a second factor.

use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// An authenticator option.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    Password,
    Passkey,
    Totp,
    BackupCode,
}

impl Method {
    pub const ALL: [Method; 4] = [Method::Password, Method::Passkey, Method::Totp, Method::BackupCode];

    /// Whether it can identify a person on its own (a first factor).
    pub fn is_first_factor(self) -> bool {
        matches!(self, Method::Password | Method::Passkey)
    }

    /// Whether it proves possession (a second factor after a first one).
    pub fn is_second_factor(self) -> bool {
        matches!(self, Method::Passkey | Method::Totp | Method::BackupCode)
    }

    pub fn label(self) -> &'static str {
        match self {
            Method::Password => "Password",
            Method::Passkey => "Passkey",
            Method::Totp => "Authenticator app (TOTP)",
            Method::BackupCode => "Backup code",
        }
    }

    /// RFC 8176 `amr` values this method contributes.
    pub fn amr(self) -> &'static [&'static str] {
        match self {
            Method::Password => &["pwd"],
            Method::Passkey => &["hwk", "user"],
            Method::Totp => &["otp"],
            Method::BackupCode => &["otp"],
        }
    }
}

/// When a step beyond the first applies.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Condition {
    /// Every sign-in.
    #[default]
    Always,
    /// Only when the person has enrolled one of the step's options.
    IfEnrolled,
    /// Only for administrators.
    IfAdmin,
    /// Only from a device not seen before for this person.
    IfNewDevice,
}

impl Condition {
    pub fn label(self) -> &'static str {
        match self {
            Condition::Always => "Always",
            Condition::IfEnrolled => "Only when the user has enrolled one of these",
            Condition::IfAdmin => "Only for administrators",
            Condition::IfNewDevice => "Only from a device not seen before",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    pub options: Vec<Method>,
    #[serde(default)]
    pub when: Condition,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Flow {
    pub steps: Vec<Step>,
}

pub const MAX_STEPS: usize = 5;

impl Flow {
    /// My Account's flow as shipped.
    pub fn default_my_account() -> Self {
        Flow {
            steps: vec![
                Step { options: vec![Method::Password, Method::Passkey], when: Condition::Always },
                Step { options: vec![Method::Totp, Method::BackupCode], when: Condition::IfEnrolled },
            ],
        }
    }

    /// Checks the structural rules; returns every problem, each tied to a step
    /// (`None` for the flow as a whole).
    pub fn validate(&self) -> Vec<FlowProblem> {
        let mut problems = Vec::new();
        if self.steps.is_empty() {
            problems.push(FlowProblem { step: None, message: "Add at least one step.".into() });
        }
        if self.steps.len() > MAX_STEPS {
            problems.push(FlowProblem { step: None, message: format!("Use at most {MAX_STEPS} steps.") });
        }
        for (i, step) in self.steps.iter().enumerate() {
            let n = i + 1;
            if step.options.is_empty() {
                problems.push(FlowProblem { step: Some(i), message: format!("Step {n} has no options.") });
                continue;
            }
            let unique: BTreeSet<_> = step.options.iter().collect();
            if unique.len() != step.options.len() {
                problems.push(FlowProblem { step: Some(i), message: format!("Step {n} lists an option twice.") });
            }
            if i == 0 {
                if !step.options.iter().any(|m| m.is_first_factor()) {
                    problems.push(FlowProblem {
                        step: Some(0),
                        message: "Step 1 must offer a password or a passkey: it has to identify the person.".into(),
                    });
                }
                if let Some(m) = step.options.iter().find(|m| !m.is_first_factor()) {
                    problems.push(FlowProblem {
                        step: Some(0),
                        message: format!("{} cannot be offered in step 1: it only works after the person is identified.", m.label()),
                    });
                }
                if step.when != Condition::Always {
                    problems.push(FlowProblem { step: Some(0), message: "Step 1 always applies.".into() });
                }
            }
        }
        problems
    }
}

impl Step {
    /// One line for people: "Password or Passkey (always)".
    pub fn describe(&self) -> String {
        let options: Vec<&str> = self.options.iter().map(|m| m.label()).collect();
        let options = if options.is_empty() { "no options".to_owned() } else { options.join(" or ") };
        format!("{options} ({})", self.when.short_label())
    }
}

impl Condition {
    pub const ALL: [Condition; 4] = [Condition::Always, Condition::IfEnrolled, Condition::IfAdmin, Condition::IfNewDevice];

    /// A few words, for summaries.
    pub fn short_label(self) -> &'static str {
        match self {
            Condition::Always => "always",
            Condition::IfEnrolled => "when enrolled",
            Condition::IfAdmin => "administrators only",
            Condition::IfNewDevice => "new devices only",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Condition::Always => "always",
            Condition::IfEnrolled => "if_enrolled",
            Condition::IfAdmin => "if_admin",
            Condition::IfNewDevice => "if_new_device",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Password => "password",
            Method::Passkey => "passkey",
            Method::Totp => "totp",
            Method::BackupCode => "backup_code",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == s)
    }
}

impl Flow {
    /// Step by step, for people.
    pub fn describe(&self) -> Vec<String> {
        self.steps.iter().enumerate().map(|(i, s)| format!("Step {}: {}", i + 1, s.describe())).collect()
    }

    /// What changed from `old` to `self`, step by step (by position).
    pub fn changes_from(&self, old: &Flow) -> Vec<String> {
        let mut out = Vec::new();
        for i in 0..self.steps.len().max(old.steps.len()) {
            let n = i + 1;
            match (old.steps.get(i), self.steps.get(i)) {
                (Some(a), Some(b)) if a != b => out.push(format!("Step {n}: {} → {}", a.describe(), b.describe())),
                (None, Some(b)) => out.push(format!("Step {n} added: {}", b.describe())),
                (Some(a), None) => out.push(format!("Step {n} removed: {}", a.describe())),
                _ => {}
            }
        }
        out
    }
}

/// Why a person with `subject` cannot complete `flow` from a new device: the
/// first step that stops every path, or `None` when some path completes.
pub fn blocking_step(flow: &Flow, subject: &Subject) -> Option<usize> {
    if can_complete(flow, subject) {
        return None;
    }
    let worst = Subject { new_device: true, ..subject.clone() };
    let Some(first) = flow.steps.first() else { return Some(0) };
    let Some(m) = first.options.iter().find(|m| worst.enrolled.contains(m)) else { return Some(0) };
    let mut done = vec![*m];
    loop {
        match next(flow, &worst, &done) {
            Next::Complete => return None,
            Next::Blocked { index } => return Some(index),
            Next::Step { options, .. } => done.push(options[0]),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlowProblem {
    pub step: Option<usize>,
    pub message: String,
}

/// What is known about the person signing in.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Subject {
    /// Methods the person can use (has a password, passkeys, TOTP, unused backup codes).
    pub enrolled: BTreeSet<Method>,
    pub is_admin: bool,
    pub new_device: bool,
}

/// Where a sign-in stands after the methods in `done`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Next {
    /// Every applicable step is complete.
    Complete,
    /// Step `index` is next; `options` are those the person can use.
    Step { index: usize, options: Vec<Method> },
    /// A step applies but the person has none of its options.
    Blocked { index: usize },
}

fn applies(step: &Step, s: &Subject) -> bool {
    match step.when {
        Condition::Always => true,
        Condition::IfEnrolled => step.options.iter().any(|m| s.enrolled.contains(m)),
        Condition::IfAdmin => s.is_admin,
        Condition::IfNewDevice => s.new_device,
    }
}

fn satisfied(step: &Step, done: &[Method]) -> bool {
    let strong_passkey = done.contains(&Method::Passkey);
    step.options.iter().any(|m| done.contains(m)) || (strong_passkey && step.options.iter().any(|m| m.is_second_factor()))
}

/// The next thing a person must do, given the methods already completed.
pub fn next(flow: &Flow, subject: &Subject, done: &[Method]) -> Next {
    for (index, step) in flow.steps.iter().enumerate() {
        // Step 1 identifies the person: it is complete once anything is done.
        if index == 0 && !done.is_empty() {
            continue;
        }
        if !applies(step, subject) || satisfied(step, done) {
            continue;
        }
        let options: Vec<Method> = step.options.iter().copied().filter(|m| index == 0 || subject.enrolled.contains(m)).collect();
        return if options.is_empty() { Next::Blocked { index } } else { Next::Step { index, options } };
    }
    Next::Complete
}

/// Whether a person with `subject` could sign in at all (from any device):
/// used to refuse changes that would lock someone out.
pub fn can_complete(flow: &Flow, subject: &Subject) -> bool {
    let worst = Subject { new_device: true, ..subject.clone() };
    let first = match flow.steps.first() {
        Some(s) => s,
        None => return false,
    };
    // Try each first-step method the person has; any path that completes is enough.
    first.options.iter().filter(|m| worst.enrolled.contains(m)).any(|m| {
        let mut done = vec![*m];
        loop {
            match next(flow, &worst, &done) {
                Next::Complete => return true,
                Next::Blocked { .. } => return false,
                Next::Step { options, .. } => done.push(options[0]),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use Method::*;

    fn subject(enrolled: &[Method]) -> Subject {
        Subject { enrolled: enrolled.iter().copied().collect(), ..Default::default() }
    }

    #[test]
    fn the_default_flow_is_valid() {
        assert!(Flow::default_my_account().validate().is_empty());
    }

    #[test]
    fn default_flow_for_each_combination_of_enrolled_methods() {
        let f = Flow::default_my_account();
        // Password only: one step.
        let s = subject(&[Password]);
        assert_eq!(next(&f, &s, &[]), Next::Step { index: 0, options: vec![Password, Passkey] });
        assert_eq!(next(&f, &s, &[Password]), Next::Complete);
        // Password + TOTP: TOTP is asked for (backup code not enrolled, so not offered).
        let s = subject(&[Password, Totp]);
        assert_eq!(next(&f, &s, &[Password]), Next::Step { index: 1, options: vec![Totp] });
        assert_eq!(next(&f, &s, &[Password, Totp]), Next::Complete);
        // Password + TOTP + backup codes: either.
        let s = subject(&[Password, Totp, BackupCode]);
        assert_eq!(next(&f, &s, &[Password]), Next::Step { index: 1, options: vec![Totp, BackupCode] });
        assert_eq!(next(&f, &s, &[Password, BackupCode]), Next::Complete);
        // Backup codes only (TOTP removed): still asked.
        let s = subject(&[Password, BackupCode]);
        assert_eq!(next(&f, &s, &[Password]), Next::Step { index: 1, options: vec![BackupCode] });
        // A passkey with user verification completes both steps.
        let s = subject(&[Password, Passkey, Totp]);
        assert_eq!(next(&f, &s, &[Passkey]), Next::Complete);
        // Password then passkey-only people: password + TOTP path unaffected.
        let s = subject(&[Passkey]);
        assert_eq!(next(&f, &s, &[Passkey]), Next::Complete);
    }

    #[test]
    fn required_steps_without_enrolled_options_block() {
        let f = Flow {
            steps: vec![Step { options: vec![Password], when: Condition::Always }, Step { options: vec![Totp], when: Condition::Always }],
        };
        assert_eq!(next(&f, &subject(&[Password]), &[Password]), Next::Blocked { index: 1 });
        assert!(!can_complete(&f, &subject(&[Password])));
        assert!(can_complete(&f, &subject(&[Password, Totp])));
    }

    #[test]
    fn conditions_apply_to_admins_and_new_devices_only() {
        let f = Flow {
            steps: vec![
                Step { options: vec![Password], when: Condition::Always },
                Step { options: vec![Totp], when: Condition::IfAdmin },
                Step { options: vec![BackupCode], when: Condition::IfNewDevice },
            ],
        };
        let mut s = subject(&[Password, Totp, BackupCode]);
        assert_eq!(next(&f, &s, &[Password]), Next::Complete);
        s.is_admin = true;
        assert_eq!(next(&f, &s, &[Password]), Next::Step { index: 1, options: vec![Totp] });
        s.new_device = true;
        assert_eq!(next(&f, &s, &[Password, Totp]), Next::Step { index: 2, options: vec![BackupCode] });
    }

    #[test]
    fn can_complete_considers_every_first_factor() {
        let f = Flow::default_my_account();
        assert!(can_complete(&f, &subject(&[Passkey])));
        assert!(can_complete(&f, &subject(&[Password])));
        assert!(!can_complete(&f, &subject(&[Totp])), "no first factor");
    }

    #[test]
    fn validation_rules() {
        let step = |o: &[Method], when| Step { options: o.to_vec(), when };
        let cases: Vec<(Flow, usize)> = vec![
            (Flow { steps: vec![] }, 1),
            (Flow { steps: vec![step(&[Totp], Condition::Always)] }, 2),
            (Flow { steps: vec![step(&[Password, Totp], Condition::Always)] }, 1),
            (Flow { steps: vec![step(&[Password], Condition::Always), step(&[], Condition::Always)] }, 1),
            (Flow { steps: vec![step(&[Password, Password], Condition::Always)] }, 1),
            (Flow { steps: vec![step(&[Password], Condition::IfAdmin)] }, 1),
            (Flow { steps: (0..6).map(|_| step(&[Password], Condition::Always)).collect() }, 1),
        ];
        for (flow, n) in cases {
            assert_eq!(flow.validate().len(), n, "{flow:?}: {:?}", flow.validate());
        }
    }

    #[test]
    fn names_round_trip_with_the_json_form() {
        for m in Method::ALL {
            assert_eq!(Method::parse(m.as_str()), Some(m));
            assert_eq!(serde_json::to_value(m).unwrap(), serde_json::Value::from(m.as_str()));
        }
        for c in Condition::ALL {
            assert_eq!(Condition::parse(c.as_str()), Some(c));
            assert_eq!(serde_json::to_value(c).unwrap(), serde_json::Value::from(c.as_str()));
        }
        assert_eq!(Method::parse("sms"), None);
    }

    #[test]
    fn changes_are_described_step_by_step() {
        let old = Flow::default_my_account();
        assert!(old.changes_from(&old).is_empty());
        let mut new = old.clone();
        new.steps[1].when = Condition::Always;
        new.steps.push(Step { options: vec![Passkey], when: Condition::IfNewDevice });
        assert_eq!(
            new.changes_from(&old),
            vec![
                "Step 2: Authenticator app (TOTP) or Backup code (when enrolled) → Authenticator app (TOTP) or Backup code (always)",
                "Step 3 added: Passkey (new devices only)",
            ]
        );
        assert_eq!(old.changes_from(&new).last().unwrap(), "Step 3 removed: Passkey (new devices only)");
        assert_eq!(old.describe()[0], "Step 1: Password or Passkey (always)");
    }

    #[test]
    fn the_blocking_step_is_named() {
        let f = Flow {
            steps: vec![Step { options: vec![Password], when: Condition::Always }, Step { options: vec![Totp], when: Condition::Always }],
        };
        assert_eq!(blocking_step(&f, &subject(&[Password])), Some(1));
        assert_eq!(blocking_step(&f, &subject(&[Passkey])), Some(0));
        assert_eq!(blocking_step(&f, &subject(&[Password, Totp])), None);
    }

    #[test]
    fn json_shape_is_stable_and_strict() {
        let json =
            r#"{"steps":[{"options":["password","passkey"],"when":"always"},{"options":["totp","backup_code"],"when":"if_enrolled"}]}"#;
        let f: Flow = serde_json::from_str(json).unwrap();
        assert_eq!(f, Flow::default_my_account());
        assert!(serde_json::from_str::<Flow>(r#"{"steps":[{"options":["sms"]}]}"#).is_err());
        assert!(serde_json::from_str::<Flow>(r#"{"steps":[],"extra":1}"#).is_err());
    }
}
