//! A release's deployment plan: its steps (one configuration item, one environment, the
//! version it moves to) in an order that respects the CMDB's dependencies: what an
//! item depends on is deployed before it. An order that would deploy the other way
//! round is refused, naming the two; dependencies that go round are refused with the
//! way round.

use chrono::{DateTime, Utc};
use entity::{configuration_item, release, release_item, user};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;

use super::{ReleaseStatus, StepState, VERSION_ATTRIBUTE, record, require_manager};
use crate::{
    auth::Caller,
    db::Db,
    domain::{
        cmdb::impact,
        events::{Actor, Topic},
        input::text,
        lookup::referenced,
        versioned,
    },
    error::{AppError, AppResult},
};

/// How far dependencies between a plan's items are followed.
const DEPTH: u32 = 10;
/// The most steps one plan holds.
pub const MAX_STEPS: usize = 200;

/// One step as the release manager plans it.
pub struct PlannedStep {
    pub configuration_item_id: i64,
    pub to_version: String,
    pub artefacts: String,
    pub environment: String,
    pub assignee_id: Option<i64>,
    pub expected_minutes: i32,
}

/// Replaces a release's deployment plan, while it is planned, built or tested. With
/// `arrange`, the steps are put in the order their dependencies need (the order given
/// otherwise kept); without it, the order given must already respect them. Release
/// managers.
///
/// # Errors
/// BAD_USER_INPUT for an order against the dependencies (naming both items), for
/// dependencies that go round (with the way round), or for fields that do not fit;
/// INVALID_TRANSITION once approved; CONFLICT for a stale version.
pub async fn plan(
    db: &Db,
    caller: &Caller,
    now: DateTime<Utc>,
    id: i64,
    version: i32,
    steps: Vec<PlannedStep>,
    arrange: bool,
) -> AppResult<(release::Model, Vec<release_item::Model>)> {
    require_manager(caller)?;
    if steps.len() > MAX_STEPS {
        return Err(AppError::bad_input(
            "steps",
            format!("plan at most {MAX_STEPS} steps"),
        ));
    }
    let txn = db.begin_write().await?;
    let row = versioned::current::<release::Entity>(&txn, id, version).await?;
    let status = ReleaseStatus::stored(&row.status)?;
    if !matches!(
        status,
        ReleaseStatus::Planning | ReleaseStatus::Building | ReleaseStatus::Testing
    ) {
        return Err(AppError::InvalidTransition {
            message: format!(
                "{} is {status}: its plan is fixed once it is approved",
                row.number
            ),
            allowed: vec![],
        });
    }
    let mut items = Vec::with_capacity(steps.len());
    for (n, step) in steps.iter().enumerate() {
        let item = referenced::<configuration_item::Entity>(
            &txn,
            step.configuration_item_id,
            &format!("steps.{n}.configurationItemId"),
            "configuration item",
        )
        .await?;
        text(&format!("steps.{n}.toVersion"), &step.to_version, 100, true)?;
        text(
            &format!("steps.{n}.environment"),
            &step.environment,
            100,
            true,
        )?;
        text(
            &format!("steps.{n}.artefacts"),
            &step.artefacts,
            2_000,
            false,
        )?;
        if !(0..=10_000).contains(&step.expected_minutes) {
            return Err(AppError::bad_input(
                format!("steps.{n}.expectedMinutes"),
                "give 0 to 10,000 minutes",
            ));
        }
        if let Some(person) = step.assignee_id {
            referenced::<user::Entity>(&txn, person, &format!("steps.{n}.assigneeId"), "person")
                .await?;
        }
        items.push(item);
    }
    // Step i comes before step j when j's item depends on i's (i's impact reaches j).
    let mut before = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let reached = impact::analyse(&txn, &[item.id], DEPTH).await?;
        for (j, other) in items.iter().enumerate() {
            if i != j && reached.reached.iter().any(|r| r.id == other.id) {
                before.push((i, j));
            }
        }
    }
    let names: Vec<String> = items.iter().map(|i| i.name.clone()).collect();
    let order = order_by_dependencies(&names, &before, arrange)
        .map_err(|message| AppError::bad_input("steps", message))?;
    release_item::Entity::delete_many()
        .filter(release_item::Column::ReleaseId.eq(row.id))
        .exec(&txn)
        .await?;
    let mut saved = Vec::with_capacity(order.len());
    for (position, index) in order.into_iter().enumerate() {
        let (step, item) = (&steps[index], &items[index]);
        let from = item
            .attributes
            .get(VERSION_ATTRIBUTE)
            .and_then(|v| v.as_str())
            .map(str::to_string);
        saved.push(
            release_item::ActiveModel {
                release_id: Set(row.id),
                position: Set(position as i32 + 1),
                configuration_item_id: Set(item.id),
                from_version: Set(from),
                to_version: Set(step.to_version.trim().to_string()),
                artefacts: Set(step.artefacts.trim().to_string()),
                environment: Set(step.environment.trim().to_string()),
                assignee_id: Set(step.assignee_id),
                expected_minutes: Set(step.expected_minutes),
                state: Set(StepState::Pending.as_str().into()),
                ..Default::default()
            }
            .insert(&txn)
            .await?,
        );
    }
    let touched = versioned::save::<release::Entity>(
        &txn,
        &row,
        <release::ActiveModel as Default>::default(),
        now,
    )
    .await?;
    record(
        &txn,
        &Actor::of(caller),
        now,
        Topic::ReleaseUpdated,
        &touched,
        json!({ "plan": saved.iter().map(|s| json!({ "position": s.position, "configurationItemId": s.configuration_item_id, "toVersion": s.to_version })).collect::<Vec<_>>() }),
    )
    .await?;
    txn.commit().await?;
    Ok((touched, saved))
}

/// The order of `names.len()` steps in which every `(i, j)` of `before` has i first.
/// With `arrange`, the steps are sorted so (the given order kept where nothing decides);
/// without it, the given order must hold already. The error says which pair is wrong,
/// or the way round a cycle.
pub fn order_by_dependencies(
    names: &[String],
    before: &[(usize, usize)],
    arrange: bool,
) -> Result<Vec<usize>, String> {
    let n = names.len();
    if let Some(cycle) = find_cycle(n, before) {
        let path: Vec<&str> = cycle.iter().map(|&i| names[i].as_str()).collect();
        return Err(format!(
            "the items depend on each other in a circle ({}): no order deploys each after what it needs",
            path.join(" → ")
        ));
    }
    if !arrange {
        if let Some(&(i, j)) = before.iter().find(|(i, j)| i > j) {
            return Err(format!(
                "'{}' (step {}) depends on '{}' (step {}): deploy '{}' first",
                names[j],
                j + 1,
                names[i],
                i + 1,
                names[i]
            ));
        }
        return Ok((0..n).collect());
    }
    // Kahn's algorithm, always taking the earliest step that is free.
    let mut waiting: Vec<usize> = vec![0; n];
    for &(_, j) in before {
        waiting[j] += 1;
    }
    let mut done = vec![false; n];
    let mut order = Vec::with_capacity(n);
    while order.len() < n {
        let next = (0..n)
            .find(|&k| !done[k] && waiting[k] == 0)
            .expect("no cycle, so a step is always free");
        done[next] = true;
        order.push(next);
        for &(i, j) in before {
            if i == next {
                waiting[j] -= 1;
            }
        }
    }
    Ok(order)
}

/// A cycle in the `before` graph, as the steps along it and back to the first.
fn find_cycle(n: usize, before: &[(usize, usize)]) -> Option<Vec<usize>> {
    fn visit(
        at: usize,
        before: &[(usize, usize)],
        state: &mut [u8],
        path: &mut Vec<usize>,
    ) -> Option<Vec<usize>> {
        state[at] = 1;
        path.push(at);
        for &(i, j) in before {
            if i != at {
                continue;
            }
            if state[j] == 1 {
                let from = path.iter().position(|&p| p == j).unwrap_or(0);
                let mut cycle = path[from..].to_vec();
                cycle.push(j);
                return Some(cycle);
            }
            if state[j] == 0
                && let Some(cycle) = visit(j, before, state, path)
            {
                return Some(cycle);
            }
        }
        path.pop();
        state[at] = 2;
        None
    }
    let mut state = vec![0u8; n];
    for start in 0..n {
        if state[start] == 0 {
            let mut path = Vec::new();
            if let Some(cycle) = visit(start, before, &mut state, &mut path) {
                return Some(cycle);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_dependency_goes_first_and_the_wrong_order_is_refused() {
        // The app (0) depends on the database (1): 1 before 0.
        let steps = names(&["Mail app", "Mail store"]);
        assert_eq!(
            order_by_dependencies(&steps, &[(1, 0)], true).unwrap(),
            [1, 0]
        );
        let refused = order_by_dependencies(&steps, &[(1, 0)], false).unwrap_err();
        assert!(
            refused.contains("'Mail app' (step 1) depends on 'Mail store' (step 2)"),
            "{refused}"
        );
        assert_eq!(
            order_by_dependencies(&names(&["Mail store", "Mail app"]), &[(0, 1)], false).unwrap(),
            [0, 1]
        );
    }

    #[test]
    fn unrelated_steps_keep_their_order_and_a_circle_is_refused_with_its_way_round() {
        let steps = names(&["a", "b", "c"]);
        assert_eq!(
            order_by_dependencies(&steps, &[(2, 0)], true).unwrap(),
            [1, 2, 0]
        );
        let refused = order_by_dependencies(&steps, &[(0, 1), (1, 2), (2, 0)], true).unwrap_err();
        assert!(refused.contains("a → b → c → a"), "{refused}");
    }
}
