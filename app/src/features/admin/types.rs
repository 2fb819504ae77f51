use proto::flow::{Condition, Flow, Method, Step};
use serde::{Deserialize, Serialize};

/// An application in the console's list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppSummary {
    /// Stable id, used in the console's paths (`myaccount`).
    pub id: String,
    pub name: String,
    pub description: String,
    /// Where people open it.
    pub access_url: String,
    pub enabled: bool,
    /// Shipped with Latchkey (cannot be deleted).
    pub built_in: bool,
}

/// Who changed something, and when (formatted for the admin).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    pub by: String,
    pub at: String,
}

/// My Account's configuration page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MyAccountApp {
    pub app: AppSummary,
    /// The last time the portal was switched on or off.
    pub switched: Option<Change>,
}

/// One saved version of a login flow.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlowVersion {
    /// 0: the built-in default.
    pub version: i32,
    pub saved: Option<Change>,
    /// Step by step, for people.
    pub steps: Vec<String>,
    /// What this version changed from the one before it.
    pub changes: Vec<String>,
    pub current: bool,
}

/// The Login Flow tab: the flow in force and its history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginFlowInfo {
    /// The version in force; send it back when saving (stale saves are refused).
    pub version: i32,
    pub flow: Flow,
    /// Newest first, ending with the built-in default.
    pub history: Vec<FlowVersion>,
}

/// Why a console change is refused to an administrator signed in with one
/// factor, and what to do about it.
pub const NEEDS_TWO_FACTORS: &str = "Changes in the console need two factors. You signed in with a password only: \
     add an authenticator app or a passkey in Security, then confirm it's you with it (or sign in again with it).";

/// The administrator using the console.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminMe {
    pub name: String,
    /// This session used two factors or a passkey: console changes work.
    pub multi_factor: bool,
}

/// One row of the login-flow form without JavaScript (`steps[i][…]`): a
/// checkbox per authenticator option, present when ticked, and when the
/// step applies.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlainStep {
    pub password: Option<String>,
    pub passkey: Option<String>,
    pub totp: Option<String>,
    pub backup_code: Option<String>,
    pub when: Option<String>,
}

impl PlainStep {
    fn ticked(&self, m: Method) -> bool {
        match m {
            Method::Password => self.password.is_some(),
            Method::Passkey => self.passkey.is_some(),
            Method::Totp => self.totp.is_some(),
            Method::BackupCode => self.backup_code.is_some(),
        }
    }

    /// The flow the form's rows describe: rows with no option ticked are left
    /// out (that is how the form adds and removes steps); the first step
    /// always applies. Whether the flow is usable is checked afterwards, as
    /// for the editor's (`Flow::validate`).
    pub fn flow(rows: &[PlainStep]) -> Result<Flow, crate::error::FieldError> {
        let mut steps = Vec::new();
        for row in rows.iter().take(proto::flow::MAX_STEPS + 1) {
            let options: Vec<Method> = Method::ALL.into_iter().filter(|m| row.ticked(*m)).collect();
            if options.is_empty() {
                continue;
            }
            let when = match row.when.as_deref() {
                _ if steps.is_empty() => Condition::Always,
                None | Some("") => Condition::Always,
                Some(w) => Condition::parse(w)
                    .ok_or_else(|| crate::error::FieldError::new("flow", format!("Choose when step {} applies.", steps.len() + 1)))?,
            };
            steps.push(Step { options, when });
        }
        Ok(Flow { steps })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(options: &[&str], when: &str) -> PlainStep {
        let on = |m: &str| options.contains(&m).then(|| "on".to_owned());
        PlainStep {
            password: on("password"),
            passkey: on("passkey"),
            totp: on("totp"),
            backup_code: on("backup_code"),
            when: Some(when.to_owned()),
        }
    }

    #[test]
    fn the_plain_form_rows_make_the_flow_and_empty_rows_drop_out() {
        let rows = [row(&[], "always"), row(&["password", "passkey"], "if_admin"), row(&[], "always"), row(&["totp"], "if_enrolled")];
        let flow = PlainStep::flow(&rows).unwrap();
        assert_eq!(
            flow,
            Flow {
                steps: vec![
                    Step { options: vec![Method::Password, Method::Passkey], when: Condition::Always },
                    Step { options: vec![Method::Totp], when: Condition::IfEnrolled },
                ]
            },
            "the first step always applies, whatever the form said"
        );
        assert!(PlainStep::flow(&[row(&["password"], "always"), row(&["totp"], "sometimes")]).is_err());
        assert!(PlainStep::flow(&[]).unwrap().steps.is_empty());
    }
}
