use serde::{Deserialize, Serialize};

use crate::error::FieldError;
pub use crate::features::reauth::ReauthOptions;

/// A security question: id and text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Question {
    pub id: String,
    pub text: String,
}

/// Every question on offer.
pub fn all_questions() -> Vec<Question> {
    proto::recovery::QUESTIONS.iter().map(|(id, text)| Question { id: (*id).into(), text: (*text).into() }).collect()
}

/// The Recovery page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recovery {
    pub recovery_email: Option<String>,
    pub recovery_email_verified: bool,
    /// The questions the person answered (empty: none).
    pub questions: Vec<Question>,
    pub reauth: ReauthOptions,
}

/// The security-question form as submitted.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuestionsForm {
    #[serde(default)]
    pub question1: String,
    #[serde(default)]
    pub answer1: String,
    #[serde(default)]
    pub question2: String,
    #[serde(default)]
    pub answer2: String,
}

impl QuestionsForm {
    pub fn choices(&self) -> Vec<(String, String)> {
        vec![(self.question1.clone(), self.answer1.clone()), (self.question2.clone(), self.answer2.clone())]
    }
}

/// The one check of the question form (browser and server).
pub fn validate_questions(f: &QuestionsForm) -> Vec<FieldError> {
    proto::recovery::validate_choice(&f.choices()).into_iter().map(|(field, m)| FieldError::new(&field, m)).collect()
}

/// What the reset page asks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResetInfo {
    pub username: String,
    pub questions: Vec<Question>,
    pub password_min_length: usize,
    /// The account has a passkey or an authenticator app, which the next
    /// sign-in still asks for.
    pub keeps_second_factor: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_question_form_is_checked_field_by_field() {
        let f = QuestionsForm { question1: "first_pet".into(), answer1: "Rex".into(), question2: "first_pet".into(), answer2: "".into() };
        let fields: Vec<_> = validate_questions(&f).into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["question2", "answer2"]);
        assert_eq!(all_questions().len(), proto::recovery::QUESTIONS.len());
    }
}
