//! Answering a survey: through its link (no sign-in: the token is the credential, and
//! the answer is the requester's) or signed in as the requester; once, before it expires.

use chrono::{DateTime, Utc};
use entity::{survey, ticket, user};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, sea_query::Expr};
use serde_json::json;

use super::{MAX_COMMENT_CHARS, offer::hash};
use crate::{
    auth::Caller,
    db::Db,
    domain::{
        events::{Actor, Topic},
        input::{identifier, text},
        tickets::{
            commands::{self, Transition, record},
            types::Status,
        },
        users::acting_as,
    },
    error::{AppError, AppResult},
};

/// What the requester answers.
#[derive(Clone, Debug)]
pub struct Answer {
    /// 1 (very unhappy) to 5 (very happy).
    pub rating: i16,
    pub comment: Option<String>,
    /// Open the ticket again: it is not solved after all.
    pub reopen: bool,
}

/// The survey a link's token names, with its ticket.
///
/// # Errors
/// NOT_FOUND for a token the desk does not know (or an empty one).
pub async fn by_token(
    conn: &impl ConnectionTrait,
    token: &str,
) -> AppResult<(survey::Model, ticket::Model)> {
    let token = identifier("token", "the token from the survey's link", token)?;
    let unknown = || {
        AppError::NotFound(
            "this survey link is not known: use the newest link the desk sent".into(),
        )
    };
    let row = survey::Entity::find()
        .filter(survey::Column::TokenHash.eq(hash(token)))
        .one(conn)
        .await?
        .ok_or_else(unknown)?;
    let ticket = ticket::Entity::find_by_id(row.ticket_id)
        .one(conn)
        .await?
        .ok_or_else(unknown)?;
    Ok((row, ticket))
}

/// Answers the survey a link names, as its requester.
///
/// # Errors
/// As `by_token`, and as for answering.
pub async fn answer_by_token(
    db: &Db,
    now: DateTime<Utc>,
    token: &str,
    answer: &Answer,
) -> AppResult<survey::Model> {
    let (row, _) = by_token(db.conn(), token).await?;
    let person = user::Entity::find_by_id(row.requester_id)
        .one(db.conn())
        .await?
        .ok_or_else(|| AppError::NotFound("the survey's requester is gone".into()))?;
    answer_for(db, &acting_as(&person, None), now, row, answer).await
}

/// Answers the survey of a ticket, signed in as its requester.
///
/// # Errors
/// NOT_FOUND when the caller was offered no survey of that ticket; as for answering.
pub async fn answer_as_requester(
    db: &Db,
    caller: &Caller,
    now: DateTime<Utc>,
    ticket_id: i64,
    answer: &Answer,
) -> AppResult<survey::Model> {
    let not_offered = || AppError::NotFound("you were offered no survey of that ticket".into());
    let Caller::Person(person) = caller else {
        return Err(not_offered());
    };
    let row = survey::Entity::find()
        .filter(survey::Column::TicketId.eq(ticket_id))
        .filter(survey::Column::RequesterId.eq(person.user_id))
        .one(db.conn())
        .await?
        .ok_or_else(not_offered)?;
    answer_for(db, caller, now, row, answer).await
}

/// Whether a survey may still be answered: CONFLICT once answered, FORBIDDEN once
/// expired. What the survey's page shows before it offers the form.
pub fn still_open(row: &survey::Model, now: DateTime<Utc>) -> AppResult<()> {
    if let Some(at) = row.answered_at {
        return Err(AppError::Conflict(format!(
            "this survey was answered already, on {}: thank you",
            at.format("%Y-%m-%d")
        )));
    }
    if now > row.expires_at {
        return Err(AppError::Forbidden(format!(
            "this survey expired on {}",
            row.expires_at.format("%Y-%m-%d")
        )));
    }
    Ok(())
}

/// As `still_open`; BAD_USER_INPUT for a rating outside 1 to 5 or a comment too long;
/// as reopening a ticket for `reopen`.
async fn answer_for(
    db: &Db,
    requester: &Caller,
    now: DateTime<Utc>,
    row: survey::Model,
    answer: &Answer,
) -> AppResult<survey::Model> {
    still_open(&row, now)?;
    if !(1..=5).contains(&answer.rating) {
        return Err(AppError::bad_input(
            "rating",
            "rate from 1 (very unhappy) to 5 (very happy)",
        ));
    }
    let comment = answer
        .comment
        .as_deref()
        .map(|c| text("comment", c, MAX_COMMENT_CHARS, false))
        .transpose()?
        .filter(|c| !c.is_empty());
    let mut reopened = false;
    if answer.reopen {
        let ticket = ticket::Entity::find_by_id(row.ticket_id)
            .one(db.conn())
            .await?
            .ok_or_else(|| AppError::NotFound("the survey's ticket is gone".into()))?;
        // The requester's own reopening, with their rights and within the window.
        commands::transition(
            db,
            requester,
            now,
            ticket.id,
            ticket.version,
            Transition {
                to: Status::InProgress,
                pending_reason: None,
                resolution_code: None,
                resolution_notes: None,
            },
        )
        .await?;
        reopened = true;
    }
    let txn = db.begin_write().await?;
    let written = survey::Entity::update_many()
        .col_expr(survey::Column::AnsweredAt, Expr::value(now))
        .col_expr(survey::Column::Rating, Expr::value(answer.rating))
        .col_expr(survey::Column::Comment, Expr::value(comment.clone()))
        .filter(survey::Column::Id.eq(row.id))
        .filter(survey::Column::AnsweredAt.is_null())
        .exec(&txn)
        .await?;
    if written.rows_affected == 0 {
        return Err(AppError::Conflict(
            "this survey was answered already: thank you".into(),
        ));
    }
    let ticket = ticket::Entity::find_by_id(row.ticket_id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::NotFound("the survey's ticket is gone".into()))?;
    let payload = json!({
        "surveyId": row.id,
        "rating": answer.rating,
        "comment": comment,
        "reopened": reopened,
    });
    record(
        &txn,
        &Actor::of(requester),
        now,
        Topic::SurveyAnswered,
        &ticket,
        true,
        payload,
    )
    .await?;
    txn.commit().await?;
    Ok(survey::Model {
        answered_at: Some(now),
        rating: Some(answer.rating),
        comment,
        ..row
    })
}

/// The survey offered for a ticket already found visible, if one was and the caller
/// may read it: its requester, and the desk (tokens with `tickets:read`). Colleagues
/// who share the ticket through their organization do not read each other's answers.
pub async fn survey_of(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    ticket_id: i64,
) -> AppResult<Option<survey::Model>> {
    let row = survey::Entity::find()
        .filter(survey::Column::TicketId.eq(ticket_id))
        .one(conn)
        .await?;
    let desk = caller
        .require_role_or_scope(crate::auth::Role::Agent, crate::auth::Scope::TicketsRead)
        .is_ok();
    Ok(row.filter(|s| desk || matches!(caller, Caller::Person(p) if p.user_id == s.requester_id)))
}
