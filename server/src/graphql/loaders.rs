//! DataLoaders: every relation a list can ask for is fetched in one query per page, not
//! one per row. A fresh set is made for each request, so nothing is cached across callers.

use std::{collections::HashMap, marker::PhantomData};

use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use entity::{
    calendar, category, ci_class, configuration_item, group, organization, relationship_type,
    service, sla_policy, user,
};
use sea_orm::{ColumnTrait, EntityTrait, Iterable, PrimaryKeyToColumn, QueryFilter, Value};

use crate::{db::Db, error::AppError};

/// Loads rows of `E` by their `i64` primary key.
pub struct ById<E> {
    db: Db,
    entity: PhantomData<fn() -> E>,
}

impl<E> Loader<i64> for ById<E>
where
    E: EntityTrait,
    E::Model: Clone + Send + Sync + 'static,
{
    type Value = E::Model;
    type Error = AppError;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, E::Model>, AppError> {
        let key = E::PrimaryKey::iter()
            .next()
            .expect("every table has a primary key")
            .into_column();
        let rows = E::find()
            .filter(key.is_in(keys.iter().copied()))
            .all(self.db.conn())
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(|row| match sea_orm::ModelTrait::get(&row, key) {
                Value::BigInt(Some(id)) => Some((id, row)),
                _ => None,
            })
            .collect())
    }
}

pub type Users = DataLoader<ById<user::Entity>, HashMapCache>;
pub type Groups = DataLoader<ById<group::Entity>, HashMapCache>;
pub type Organizations = DataLoader<ById<organization::Entity>, HashMapCache>;
pub type Categories = DataLoader<ById<category::Entity>, HashMapCache>;
pub type Calendars = DataLoader<ById<calendar::Entity>, HashMapCache>;
pub type SlaPolicies = DataLoader<ById<sla_policy::Entity>, HashMapCache>;
pub type Services = DataLoader<ById<service::Entity>, HashMapCache>;
pub type CiClasses = DataLoader<ById<ci_class::Entity>, HashMapCache>;
pub type ConfigurationItems = DataLoader<ById<configuration_item::Entity>, HashMapCache>;
pub type RelationshipTypes = DataLoader<ById<relationship_type::Entity>, HashMapCache>;

/// Cached for the request: a page primes it (see `tickets::prime_relations`) so that
/// the rows' own lookups find what they need whatever the batching timer does.
fn loader<E: EntityTrait>(db: &Db) -> DataLoader<ById<E>, HashMapCache>
where
    E::Model: Clone + Send + Sync + 'static,
{
    DataLoader::with_cache(
        ById {
            db: db.clone(),
            entity: PhantomData,
        },
        tokio::spawn,
        HashMapCache::default(),
    )
}

/// Adds a fresh set of loaders to a request.
pub fn attach(request: async_graphql::Request, db: &Db) -> async_graphql::Request {
    request
        .data::<Users>(loader(db))
        .data::<Groups>(loader(db))
        .data::<Organizations>(loader(db))
        .data::<Categories>(loader(db))
        .data::<Calendars>(loader(db))
        .data::<SlaPolicies>(loader(db))
        .data::<Services>(loader(db))
        .data::<CiClasses>(loader(db))
        .data::<ConfigurationItems>(loader(db))
        .data::<RelationshipTypes>(loader(db))
        .data::<crate::graphql::problems::TicketProblems>(DataLoader::with_cache(
            crate::graphql::problems::ProblemsByTicket(db.clone()),
            tokio::spawn,
            HashMapCache::default(),
        ))
        .data::<crate::graphql::cmdb::TicketItems>(DataLoader::with_cache(
            crate::graphql::cmdb::ItemsByTicket(db.clone()),
            tokio::spawn,
            HashMapCache::default(),
        ))
        .data::<crate::graphql::sla::Clocks>(DataLoader::with_cache(
            crate::graphql::sla::ClocksByTicket(db.clone()),
            tokio::spawn,
            HashMapCache::default(),
        ))
}

/// The group with this id, if there is an id, through the request's loader.
pub async fn group(
    ctx: &async_graphql::Context<'_>,
    id: Option<i64>,
) -> Result<Option<crate::graphql::desk::Group>, AppError> {
    match id {
        Some(id) => Ok(ctx
            .data_unchecked::<Groups>()
            .load_one(id)
            .await?
            .map(crate::graphql::desk::Group)),
        None => Ok(None),
    }
}

/// The user with this id, if there is an id, through the request's loader.
pub async fn user(
    ctx: &async_graphql::Context<'_>,
    id: Option<i64>,
) -> Result<Option<crate::graphql::users::User>, AppError> {
    match id {
        Some(id) => Ok(ctx
            .data_unchecked::<Users>()
            .load_one(id)
            .await?
            .map(crate::graphql::users::User)),
        None => Ok(None),
    }
}
