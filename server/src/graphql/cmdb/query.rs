//! Reading the CMDB: filters, classes, relationship types, items.

use async_graphql::{Context, ID, InputObject, Object};

use crate::{
    domain::cmdb::{self, ItemFilter},
    error::AppResult,
    graphql::{
        caller, ids,
        pagination::{self, Page, PageArgs},
        state,
    },
};

use super::{CiClass, CiStatus, ConfigurationItem, RelationshipType, prime_relations};

/// Items whose attribute has a value.
#[derive(InputObject, Default)]
pub struct CiAttributeFilter {
    /// The attribute's name.
    pub name: String,
    /// Compared without regard to case; numbers by value ("16" finds 16.0).
    pub value: String,
}

/// Which configuration items to list; every condition given must hold.
#[derive(InputObject, Default)]
pub struct ConfigurationItemFilter {
    /// Only items of this class.
    pub class_id: Option<ID>,
    /// Only items in this status.
    pub status: Option<CiStatus>,
    /// Only items of this organization.
    pub organization_id: Option<ID>,
    /// Only items of this service.
    pub service_id: Option<ID>,
    /// Words that must all appear in the name.
    pub search: Option<String>,
    /// Only items whose attribute has this value.
    pub attribute: Option<CiAttributeFilter>,
}

#[derive(Default)]
pub struct CmdbQuery;

#[Object]
impl CmdbQuery {
    /// Configuration item classes with their attributes. Agents.
    async fn ci_classes(&self, ctx: &Context<'_>) -> AppResult<Vec<CiClass>> {
        let rows = cmdb::classes(state(ctx).db.conn(), caller(ctx)).await?;
        Ok(rows.into_iter().map(CiClass).collect())
    }

    /// The kinds of relationship between configuration items. Agents.
    async fn relationship_types(&self, ctx: &Context<'_>) -> AppResult<Vec<RelationshipType>> {
        let rows = cmdb::relationship_types(state(ctx).db.conn(), caller(ctx)).await?;
        Ok(rows.into_iter().map(RelationshipType).collect())
    }

    /// Configuration items by name, filtered.
    #[graphql(complexity = "first.or(last).unwrap_or(20).max(1) as usize * child_complexity")]
    async fn configuration_items(
        &self,
        ctx: &Context<'_>,
        #[graphql(default, desc = "Which items to list; all when left out.")]
        filter: ConfigurationItemFilter,
        #[graphql(
            desc = "How many items to take from the start of the list (after `after`), 0 to 100; 20 unless given."
        )]
        first: Option<i32>,
        #[graphql(desc = "Take items after this cursor: the `endCursor` of the page before.")]
        after: Option<String>,
        #[graphql(
            desc = "How many items to take from the end of the list (before `before`), 0 to 100. Pass `first` or `last`, not both."
        )]
        last: Option<i32>,
        #[graphql(desc = "Take items before this cursor: the `startCursor` of the page after.")]
        before: Option<String>,
    ) -> AppResult<Page<ConfigurationItem>> {
        cmdb::require_reader(caller(ctx))?;
        let page = PageArgs::new(first, after, last, before).keyed()?;
        let filter = ItemFilter {
            class_id: ids::decode_opt(filter.class_id, "CiClass", "filter.classId")?,
            status: filter.status.map(Into::into),
            organization_id: ids::decode_opt(
                filter.organization_id,
                "Organization",
                "filter.organizationId",
            )?,
            service_id: ids::decode_opt(filter.service_id, "Service", "filter.serviceId")?,
            search: filter.search,
            attribute: filter.attribute.map(|a| (a.name, a.value)),
        };
        let rows = cmdb::list(state(ctx).db.conn(), &filter, &page).await?;
        prime_relations(ctx, &rows).await?;
        Ok(pagination::connection(
            &page,
            rows,
            |c| c.id,
            ConfigurationItem,
        ))
    }

    /// The item a discovery tool or partner system knows by this key.
    async fn configuration_item_by_key(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The key the item was imported or created with.")] external_key: String,
    ) -> AppResult<Option<ConfigurationItem>> {
        Ok(
            cmdb::item_by_key(state(ctx).db.conn(), caller(ctx), &external_key)
                .await?
                .map(ConfigurationItem),
        )
    }
}
