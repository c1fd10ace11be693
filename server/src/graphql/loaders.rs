//! DataLoaders: every relation a list can ask for is fetched in one query per page, not
//! one per row. A fresh set is made for each request, so nothing is cached across callers.

use std::{
    collections::HashMap,
    marker::PhantomData,
    sync::{Arc, atomic::AtomicU64},
};

use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use entity::{
    attachment, calendar, category, change, change_vote, ci_class, ci_relationship,
    configuration_item, group, organization, problem, relationship_type, service, sla_policy,
    ticket, ticket_link, time_entry, user,
};
use sea_orm::EntityTrait;

use crate::{db::Db, domain::lookup, error::AppError};

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
        lookup::by_ids::<E>(self.db.conn(), keys).await
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
/// Tickets by id, for what points at other tickets (a link's other end): whoever shows
/// one checks it against the caller's scope.
pub type Tickets = DataLoader<ById<ticket::Entity>, HashMapCache>;

/// Declares a loader of each parent's child rows, from a domain function that finds
/// them for many parents in one go, and the request data type for it.
macro_rules! children {
    ($(#[$doc:meta])* $loader:ident as $alias:ident: $row:ty = $fetch:path) => {
        $(#[$doc])*
        pub struct $loader(Db);

        impl Loader<i64> for $loader {
            type Value = Vec<$row>;
            type Error = AppError;

            async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Vec<$row>>, AppError> {
                let mut found = $fetch(self.0.conn(), keys).await?;
                // A parent with no children is known to have none, not loaded again.
                for &key in keys {
                    found.entry(key).or_default();
                }
                Ok(found)
            }
        }

        pub type $alias = DataLoader<$loader, HashMapCache>;
    };
}

children!(
    /// The configuration items each ticket is about.
    ItemsByTicket as TicketItems: configuration_item::Model = crate::domain::cmdb::items_of_tickets
);
children!(
    /// The problems each ticket is linked to.
    ProblemsByTicket as TicketProblems: problem::Model = crate::domain::problems::problems_of_tickets
);
children!(
    /// Each configuration item's relationships, either way.
    RelationshipsByItem as ItemRelationships: ci_relationship::Model = crate::domain::cmdb::relationships_by_item
);
children!(
    /// Each configuration item's open tickets, all of them, for the first page of each.
    OpenTicketsByItem as ItemOpenTickets: ticket::Model = crate::domain::cmdb::open_tickets_by_item
);
children!(
    /// The changes touching each configuration item.
    ChangesByItem as ItemChanges: change::Model = crate::domain::changes::changes_by_item
);
children!(
    /// Each problem's incidents.
    IncidentsByProblem as ProblemIncidents: ticket::Model = crate::domain::problems::incidents_by_problem
);
children!(
    /// Each change's configuration items.
    ItemsByChange as ChangeItems: configuration_item::Model = crate::domain::changes::items_by_change
);
children!(
    /// Each ticket's links, either way.
    LinksByTicket as TicketLinks: ticket_link::Model = crate::domain::tickets::links::links_of_tickets
);
children!(
    /// Each ticket's time entries.
    EntriesByTicket as TicketTimeEntries: time_entry::Model = crate::domain::time_worked::entries_of_tickets
);
children!(
    /// Each ticket's files, its comments' included (internal ones too: the resolver
    /// shows them to the desk only).
    AttachmentsByTicket as TicketAttachments: attachment::Model = crate::domain::attachments::of_tickets_all
);
children!(
    /// Each article's files.
    AttachmentsByArticle as ArticleAttachments: attachment::Model = crate::domain::attachments::of_articles
);
children!(
    /// Each change's votes.
    VotesByChange as ChangeVotes: change_vote::Model = crate::domain::changes::votes_by_change
);

/// The child rows of `parent`, through the request's loader `L`.
pub async fn children_of<L, Row>(
    ctx: &async_graphql::Context<'_>,
    parent: i64,
) -> Result<Vec<Row>, AppError>
where
    L: Loader<i64, Value = Vec<Row>, Error = AppError>,
    Row: Clone + Send + Sync + 'static,
{
    Ok(ctx
        .data_unchecked::<DataLoader<L, HashMapCache>>()
        .load_one(parent)
        .await?
        .unwrap_or_default())
}

/// Batches run in tasks of their own; they count towards the request's statements.
fn grouped<L: Loader<i64>>(loader: L, statements: &Arc<AtomicU64>) -> DataLoader<L, HashMapCache> {
    let statements = statements.clone();
    DataLoader::with_cache(
        loader,
        move |batch| crate::db::spawn_counted(&statements, batch),
        HashMapCache::default(),
    )
}

/// Cached for the request: a ticket page feeds it the rows it joined, and other pages
/// prime it, so that the rows' own lookups find what they need whatever the batching
/// timer does.
fn loader<E: EntityTrait>(db: &Db, statements: &Arc<AtomicU64>) -> DataLoader<ById<E>, HashMapCache>
where
    E::Model: Clone + Send + Sync + 'static,
{
    grouped(
        ById {
            db: db.clone(),
            entity: PhantomData,
        },
        statements,
    )
}

/// Adds a fresh set of loaders to a request.
pub fn attach(
    request: async_graphql::Request,
    db: &Db,
    statements: &Arc<AtomicU64>,
    lasting: Lasting,
) -> async_graphql::Request {
    request
        .data(lasting)
        .data::<Users>(lasting.applied(loader(db, statements)))
        .data::<Groups>(lasting.applied(loader(db, statements)))
        .data::<Organizations>(lasting.applied(loader(db, statements)))
        .data::<Categories>(lasting.applied(loader(db, statements)))
        .data::<Calendars>(lasting.applied(loader(db, statements)))
        .data::<SlaPolicies>(lasting.applied(loader(db, statements)))
        .data::<Services>(lasting.applied(loader(db, statements)))
        .data::<CiClasses>(lasting.applied(loader(db, statements)))
        .data::<ConfigurationItems>(lasting.applied(loader(db, statements)))
        .data::<RelationshipTypes>(lasting.applied(loader(db, statements)))
        .data::<TicketProblems>(lasting.applied(grouped(ProblemsByTicket(db.clone()), statements)))
        .data::<TicketItems>(lasting.applied(grouped(ItemsByTicket(db.clone()), statements)))
        .data::<ItemRelationships>(
            lasting.applied(grouped(RelationshipsByItem(db.clone()), statements)),
        )
        .data::<ItemOpenTickets>(
            lasting.applied(grouped(OpenTicketsByItem(db.clone()), statements)),
        )
        .data::<ItemChanges>(lasting.applied(grouped(ChangesByItem(db.clone()), statements)))
        .data::<ProblemIncidents>(
            lasting.applied(grouped(IncidentsByProblem(db.clone()), statements)),
        )
        .data::<ChangeItems>(lasting.applied(grouped(ItemsByChange(db.clone()), statements)))
        .data::<ChangeVotes>(lasting.applied(grouped(VotesByChange(db.clone()), statements)))
        .data::<Tickets>(lasting.applied(loader(db, statements)))
        .data::<TicketLinks>(lasting.applied(grouped(LinksByTicket(db.clone()), statements)))
        .data::<TicketTimeEntries>(
            lasting.applied(grouped(EntriesByTicket(db.clone()), statements)),
        )
        .data::<TicketAttachments>(
            lasting.applied(grouped(AttachmentsByTicket(db.clone()), statements)),
        )
        .data::<ArticleAttachments>(
            lasting.applied(grouped(AttachmentsByArticle(db.clone()), statements)),
        )
        .data::<crate::graphql::sla::Clocks>(lasting.applied(grouped(
            crate::graphql::sla::ClocksByTicket(db.clone()),
            statements,
        )))
}

/// How long the operation the loaders serve lasts; also in the request's data, for
/// whoever would feed the loaders.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Lasting {
    /// One response: the loaders cache what they load for it.
    Once,
    /// A subscription, answering event after event: the loaders still batch what one
    /// response asks for, but remember nothing between responses, which would show a
    /// ticket's clocks or problems as they were at the first event.
    Stream,
}

impl Lasting {
    fn applied<L: Send + Sync + 'static>(
        self,
        loader: DataLoader<L, HashMapCache>,
    ) -> DataLoader<L, HashMapCache> {
        loader.enable_all_cache(self == Lasting::Once);
        loader
    }
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
