//! Offering a survey when a ticket is resolved, and making the token its mail carries.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Duration, Utc};
use entity::{survey, ticket};
use rand::RngCore;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseTransaction,
    EntityTrait, QueryFilter, sea_query::Expr,
};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::{
    auth::Caller,
    domain::{
        events::{Actor, Topic},
        settings::DeskSettings,
        tickets::commands::record,
    },
    error::AppResult,
};

/// Whether the desk surveys this resolution: by its settings and the ticket alone, so
/// that the same tickets are chosen however often it is asked.
fn chosen(desk: &DeskSettings, ticket: &ticket::Model, resolver: Option<i64>) -> bool {
    let Some(requester) = ticket.requester_id else {
        return false;
    };
    // Never a requester about their own work: the ticket's agent, or who resolved it.
    if Some(requester) == ticket.assignee_id || Some(requester) == resolver {
        return false;
    }
    if ticket
        .organization_id
        .is_some_and(|o| desk.survey_excluded_organization_ids.contains(&o))
        || ticket
            .service_id
            .is_some_and(|s| desk.survey_excluded_service_ids.contains(&s))
    {
        return false;
    }
    let digest = Sha256::digest(ticket.number.as_bytes());
    let draw = u64::from_be_bytes(digest[..8].try_into().expect("eight bytes")) % 100;
    (draw as i64) < desk.survey_share_percent
}

/// Offers the requester a survey of a ticket just resolved, inside the resolution's
/// transaction, when the desk surveys it and none was offered before. The resolution
/// passes the settings it read: a desk that surveys nobody costs no query here.
pub async fn offer(
    txn: &DatabaseTransaction,
    desk: &DeskSettings,
    resolver: &Caller,
    now: DateTime<Utc>,
    ticket: &ticket::Model,
) -> AppResult<Option<survey::Model>> {
    let actor = Actor::of(resolver);
    if !chosen(desk, ticket, actor.user_id) {
        return Ok(None);
    }
    let Some(requester_id) = ticket.requester_id else {
        return Ok(None);
    };
    let offered_before = survey::Entity::find()
        .filter(survey::Column::TicketId.eq(ticket.id))
        .one(txn)
        .await?;
    if offered_before.is_some() {
        return Ok(None);
    }
    let saved = survey::ActiveModel {
        ticket_id: Set(ticket.id),
        requester_id: Set(requester_id),
        token_hash: Set(None),
        group_id: Set(ticket.group_id),
        assignee_id: Set(ticket.assignee_id),
        organization_id: Set(ticket.organization_id),
        service_id: Set(ticket.service_id),
        offered_at: Set(now),
        expires_at: Set(now + Duration::days(desk.survey_expiry_days)),
        answered_at: Set(None),
        rating: Set(None),
        comment: Set(None),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    let payload = json!({ "surveyId": saved.id, "expiresAt": saved.expires_at.to_rfc3339() });
    record(
        txn,
        &actor,
        now,
        Topic::SurveyOffered,
        ticket,
        false,
        payload,
    )
    .await?;
    Ok(Some(saved))
}

/// A fresh token for the survey of `ticket_id`'s link, as the mail that carries it is
/// queued; only its hash is kept. None when the survey is answered or gone.
pub async fn link_token(
    conn: &impl ConnectionTrait,
    ticket_id: i64,
) -> AppResult<Option<(String, DateTime<Utc>)>> {
    let Some(row) = survey::Entity::find()
        .filter(survey::Column::TicketId.eq(ticket_id))
        .filter(survey::Column::AnsweredAt.is_null())
        .one(conn)
        .await?
    else {
        return Ok(None);
    };
    let mut bytes = [0u8; 24];
    rand::rng().fill_bytes(&mut bytes);
    let token = URL_SAFE_NO_PAD.encode(bytes);
    survey::Entity::update_many()
        .col_expr(survey::Column::TokenHash, Expr::value(hash(&token)))
        .filter(survey::Column::Id.eq(row.id))
        .exec(conn)
        .await?;
    Ok(Some((token, row.expires_at)))
}

/// How a token is kept: its SHA-256, hex.
pub(super) fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}
