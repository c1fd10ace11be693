//! A change's risk from its questionnaire and the criticality of the services at risk.
//! Pure: each factor scores points, the total sets the level, and the reasons say how.

use serde::{Deserialize, Serialize};

use crate::domain::{catalog::types::Criticality, named::named_enum};

named_enum!(
    /// LOW, MEDIUM or HIGH: each question's answer, and the level a change is assessed at.
    #[derive(Deserialize)]
    #[serde(rename_all = "SCREAMING_SNAKE_CASE")]
    Grade {
        Low = "LOW",
        Medium = "MEDIUM",
        High = "HIGH",
    }
);

impl Grade {
    fn points(self) -> u32 {
        match self {
            Grade::Low => 1,
            Grade::Medium => 2,
            Grade::High => 3,
        }
    }
}

/// The risk questionnaire a change is assessed with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Answers {
    /// How much of the business notices the change.
    pub impact: Grade,
    /// How hard it is to carry out.
    pub complexity: Grade,
    /// How hard it is to undo.
    pub rollback_difficulty: Grade,
}

/// The most critical service at risk, from the CMDB's impact analysis.
pub struct ServiceAtRisk<'a> {
    pub name: &'a str,
    pub criticality: Criticality,
}

fn criticality_points(criticality: Criticality) -> u32 {
    match criticality {
        Criticality::Critical => 4,
        Criticality::High => 3,
        Criticality::Medium => 2,
        Criticality::Low => 1,
    }
}

/// The risk level and the reasons for it.
pub fn assess(answers: &Answers, most_critical: Option<ServiceAtRisk<'_>>) -> (Grade, Vec<String>) {
    let plural = |n: u32| if n == 1 { "point" } else { "points" };
    let mut reasons = Vec::new();
    let mut score = 0;
    for (question, grade) in [
        ("impact", answers.impact),
        ("complexity", answers.complexity),
        ("rollback difficulty", answers.rollback_difficulty),
    ] {
        let points = grade.points();
        score += points;
        reasons.push(format!(
            "{question} {}: {points} {}",
            grade.as_str(),
            plural(points)
        ));
    }
    let criticality = match &most_critical {
        Some(service) => {
            let points = criticality_points(service.criticality);
            reasons.push(format!(
                "most critical service at risk: {} ({}): {points} {}",
                service.name,
                service.criticality,
                plural(points)
            ));
            points
        }
        None => {
            reasons.push("no service at risk in the CMDB: 1 point".into());
            1
        }
    };
    score += criticality;
    let mut level = match score {
        10.. => Grade::High,
        7..=9 => Grade::Medium,
        _ => Grade::Low,
    };
    reasons.push(format!(
        "score {score} of 13: {} (LOW up to 6, MEDIUM 7 to 9, HIGH 10 or more)",
        level.as_str()
    ));
    // A change that is hard to undo on a critical service is high risk whatever it scores.
    if level != Grade::High && criticality == 4 && answers.rollback_difficulty == Grade::High {
        level = Grade::High;
        reasons.push("HIGH: hard to roll back on a CRITICAL service".into());
    }
    (level, reasons)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answers(impact: Grade, complexity: Grade, rollback: Grade) -> Answers {
        Answers {
            impact,
            complexity,
            rollback_difficulty: rollback,
        }
    }

    #[test]
    fn a_small_change_off_the_critical_path_is_low() {
        let (level, reasons) = assess(&answers(Grade::Low, Grade::Low, Grade::Medium), None);
        assert_eq!(level, Grade::Low);
        assert_eq!(reasons.len(), 5);
        assert!(reasons[4].starts_with("score 5 of 13"), "{reasons:?}");
    }

    #[test]
    fn the_criticality_of_the_services_at_risk_raises_the_level() {
        let a = answers(Grade::Medium, Grade::Medium, Grade::Low);
        assert_eq!(assess(&a, None).0, Grade::Low);
        let banking = ServiceAtRisk {
            name: "Online banking",
            criticality: Criticality::Critical,
        };
        let (level, reasons) = assess(&a, Some(banking));
        assert_eq!(level, Grade::Medium);
        assert!(
            reasons
                .iter()
                .any(|r| r.contains("Online banking (CRITICAL): 4 points"))
        );
    }

    #[test]
    fn hard_to_undo_on_a_critical_service_is_high_whatever_the_score() {
        let banking = ServiceAtRisk {
            name: "Online banking",
            criticality: Criticality::Critical,
        };
        let (level, reasons) = assess(&answers(Grade::Low, Grade::Low, Grade::High), Some(banking));
        assert_eq!(level, Grade::High);
        assert!(reasons.last().unwrap().contains("hard to roll back"));
    }

    #[test]
    fn everything_high_is_high() {
        let (level, _) = assess(&answers(Grade::High, Grade::High, Grade::High), None);
        assert_eq!(level, Grade::High);
    }
}
