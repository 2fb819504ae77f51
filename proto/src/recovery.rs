//! Security questions: the list people choose from, and how answers are
//! normalised before hashing (so "Paris", " paris " and "PARIS!" match).

/// Questions on offer: `(id, text)`. Ids are stored; texts may be reworded.
pub const QUESTIONS: &[(&str, &str)] = &[
    ("first_pet", "What was the name of your first pet?"),
    ("childhood_street", "What was the name of the street you grew up on?"),
    ("first_school", "What was the name of your first school?"),
    ("parents_met", "In which city did your parents meet?"),
    ("childhood_friend", "What was the first name of your childhood best friend?"),
    ("first_concert", "What was the first concert you went to?"),
    ("first_car", "What was the make and model of your first car?"),
    ("favourite_teacher", "What was the surname of your favourite teacher?"),
];

/// How many questions a person answers.
pub const REQUIRED: usize = 2;

/// Shortest and longest answer accepted, in characters after normalising.
pub const ANSWER_MIN: usize = 2;
pub const ANSWER_MAX: usize = 100;

/// The text of question `id`.
pub fn question_text(id: &str) -> Option<&'static str> {
    QUESTIONS.iter().find(|(q, _)| *q == id).map(|(_, t)| *t)
}

/// An answer as it is hashed and compared: lower case, letters and digits
/// only, words separated by one space.
pub fn normalize_answer(raw: &str) -> String {
    let cleaned: String = raw.chars().map(|c| if c.is_alphanumeric() { c } else { ' ' }).collect::<String>().to_lowercase();
    cleaned.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Problems with a choice of questions and answers: `(field, message)`, where
/// field is `question1`, `answer1`, `question2` or `answer2`.
pub fn validate_choice(choices: &[(String, String)]) -> Vec<(String, String)> {
    let mut errors = Vec::new();
    if choices.len() != REQUIRED {
        errors.push(("question1".to_owned(), format!("Choose {REQUIRED} questions.")));
        return errors;
    }
    for (i, (question, answer)) in choices.iter().enumerate() {
        let n = i + 1;
        if question_text(question).is_none() {
            errors.push((format!("question{n}"), "Choose a question from the list.".to_owned()));
        } else if choices[..i].iter().any(|(q, _)| q == question) {
            errors.push((format!("question{n}"), "Choose two different questions.".to_owned()));
        }
        let len = normalize_answer(answer).chars().count();
        if len < ANSWER_MIN {
            errors.push((format!("answer{n}"), format!("Give an answer of at least {ANSWER_MIN} letters or digits.")));
        } else if len > ANSWER_MAX || answer.chars().count() > ANSWER_MAX * 2 {
            errors.push((format!("answer{n}"), format!("Use at most {ANSWER_MAX} characters.")));
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_least_six_questions_with_unique_ids() {
        assert!(QUESTIONS.len() >= 6);
        for (i, (id, _)) in QUESTIONS.iter().enumerate() {
            assert!(QUESTIONS[..i].iter().all(|(other, _)| other != id), "{id}");
        }
    }

    #[test]
    fn answers_ignore_case_spacing_and_punctuation() {
        assert_eq!(normalize_answer("  Rue de la Paix! "), "rue de la paix");
        assert_eq!(normalize_answer("RUE  de-la paix"), "rue de la paix");
        assert_eq!(normalize_answer("Ölsen"), "ölsen");
    }

    #[test]
    fn choices_are_checked() {
        let ok = vec![("first_pet".to_owned(), "Rex".to_owned()), ("first_car".to_owned(), "Fiat Panda".to_owned())];
        assert!(validate_choice(&ok).is_empty());
        let same = vec![("first_pet".to_owned(), "Rex".to_owned()), ("first_pet".to_owned(), "Max".to_owned())];
        assert_eq!(validate_choice(&same), vec![("question2".to_owned(), "Choose two different questions.".to_owned())]);
        let bad = vec![("nope".to_owned(), "!".to_owned()), ("first_car".to_owned(), "x".repeat(101))];
        let fields: Vec<_> = validate_choice(&bad).into_iter().map(|(f, _)| f).collect();
        assert_eq!(fields, ["question1", "answer1", "answer2"]);
        assert_eq!(validate_choice(&ok[..1]).len(), 1);
    }
}
