//! Changing the CMDB: classes, relationship types, items, relationships and imports;
//! each mutation decodes its input and calls one domain command.

use crate::graphql::command::{acting, versioned};
use async_graphql::{Context, ID, InputObject, Json, MaybeUndefined, Object, SimpleObject};
use serde_json::{Map, Value};

use crate::domain::cmdb::types as vocabulary;
use crate::{
    domain::{
        cmdb::{
            self, ClassFields, Draft, ItemChanges, RelationshipTypeFields,
            attributes::AttributeDefinition,
            import::{self, ImportFile, ItemRow, RelationshipRow},
        },
        tickets::commands,
    },
    error::AppResult,
    graphql::{
        ids,
        tickets::{Ticket, TicketPayload},
    },
};

use super::{
    CiAttributeDefinition, CiClass, CiRelationship, CiStatus, ConfigurationItem, ImpactDirection,
    ImportConfigurationItemsInput, ImportReport, RelationshipType,
};

/// What `saveCiClass` takes.
#[derive(InputObject)]
pub struct SaveCiClassInput {
    /// The id of the ci class to change; leave it out to create one.
    pub id: Option<ID>,
    /// The class name, e.g. "Server".
    pub name: String,
    /// What items of this class are.
    #[graphql(default)]
    pub description: String,
    /// Its items are business services: impact analysis lists them as such.
    #[graphql(default)]
    pub business_service: bool,
    /// The attributes its items carry.
    #[graphql(default)]
    pub attributes: Vec<CiAttributeDefinition>,
}

/// What a mutation on a configuration item class returns: the class as it is after the change.
#[derive(SimpleObject)]
pub struct CiClassPayload {
    /// The ci class as it is after the change.
    pub ci_class: CiClass,
}

/// What `saveRelationshipType` takes.
#[derive(InputObject)]
pub struct SaveRelationshipTypeInput {
    /// The id of the relationship type to change; leave it out to create one.
    pub id: Option<ID>,
    /// Stored upper-case with underscores: "Backs up" becomes BACKS_UP.
    pub name: String,
    /// How the relationship reads from source to target, e.g. "runs on".
    pub forward_label: String,
    /// How it reads from target to source, e.g. "hosts".
    pub reverse_label: String,
    /// Which way failure spreads along relationships of this type.
    #[graphql(default_with = "ImpactDirection::ToSource")]
    pub impact: ImpactDirection,
    /// A pool: the source fails only when every item it relates to by this type has
    /// failed (two load-balanced servers), not when one has. Availability reads it.
    #[graphql(default)]
    pub redundant: bool,
}

/// What a mutation on a relationship type returns: the type as it is after the change.
#[derive(SimpleObject)]
pub struct RelationshipTypePayload {
    /// The relationship type as it is after the change.
    pub relationship_type: RelationshipType,
}

/// What `createConfigurationItem` takes.
#[derive(InputObject)]
pub struct CreateConfigurationItemInput {
    /// The id of the class.
    pub class_id: ID,
    /// Its name, unique within nothing: use the id or external key to tell items apart.
    pub name: String,
    /// Its lifecycle status.
    #[graphql(default_with = "CiStatus::Active")]
    pub status: CiStatus,
    /// PRODUCTION, STAGING, TEST…: free text, up to 50 characters.
    #[graphql(default)]
    pub environment: String,
    /// The id of the owner group.
    pub owner_group_id: Option<ID>,
    /// The id of the organization.
    pub organization_id: Option<ID>,
    /// The id of the service.
    pub service_id: Option<ID>,
    /// Values by attribute name, checked against the class.
    #[graphql(default)]
    pub attributes: Json<Map<String, Value>>,
    /// The key a discovery tool or partner system knows it by, unique; imports match on it.
    pub external_key: Option<String>,
}

/// What `updateConfigurationItem` takes.
#[derive(InputObject)]
pub struct UpdateConfigurationItemInput {
    /// The id of the configuration item.
    pub id: ID,
    /// The version you read.
    pub version: i32,
    /// The id of the class.
    pub class_id: Option<ID>,
    /// Its name, unique within nothing: use the id or external key to tell items apart.
    pub name: Option<String>,
    /// Its lifecycle status.
    pub status: Option<CiStatus>,
    /// PRODUCTION, STAGING, TEST… as free text.
    pub environment: Option<String>,
    /// Null clears it.
    pub owner_group_id: MaybeUndefined<ID>,
    /// The id of the organization.
    pub organization_id: MaybeUndefined<ID>,
    /// The id of the service.
    pub service_id: MaybeUndefined<ID>,
    /// Replaces all attribute values.
    pub attributes: Option<Json<Map<String, Value>>>,
    /// The key a discovery tool or partner system knows it by.
    pub external_key: MaybeUndefined<String>,
}

/// What a mutation on a configuration item returns: the item as it is after the change.
#[derive(SimpleObject)]
pub struct ConfigurationItemPayload {
    /// The configuration item as it is after the change.
    pub configuration_item: ConfigurationItem,
}

/// What `relateConfigurationItems` takes.
#[derive(InputObject)]
pub struct RelateConfigurationItemsInput {
    /// The id of the source.
    pub source_id: ID,
    /// The id of the target.
    pub target_id: ID,
    /// A relationship type's name: "source DEPENDS_ON target".
    pub r#type: String,
}

/// What relating configuration items returns: the relationship made.
#[derive(SimpleObject)]
pub struct CiRelationshipPayload {
    /// The relationship as it is after the change.
    pub relationship: CiRelationship,
}

/// What `setTicketConfigurationItems` takes.
#[derive(InputObject)]
pub struct SetTicketConfigurationItemsInput {
    /// The id of the ticket.
    pub ticket_id: ID,
    /// The version you read.
    pub version: i32,
    /// The whole set: items left out are unlinked.
    pub configuration_item_ids: Vec<ID>,
}

#[derive(Default)]
pub struct CmdbMutation;

#[Object]
impl CmdbMutation {
    /// Adds a class (no id) or redefines one. Admins only.
    async fn save_ci_class(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the fields of the input type.")] input: SaveCiClassInput,
    ) -> AppResult<CiClassPayload> {
        let on = acting(ctx);
        let attributes = input
            .attributes
            .into_iter()
            .enumerate()
            .map(|(i, a)| {
                Ok(AttributeDefinition {
                    name: a.name,
                    kind: a.kind.into(),
                    required: a.required,
                    choices: a.choices,
                    reference_class_id: ids::decode_opt(
                        a.reference_class_id,
                        "CiClass",
                        &format!("attributes.{i}.referenceClassId"),
                    )?,
                    unit: a.unit,
                    threshold: a.threshold,
                })
            })
            .collect::<AppResult<Vec<_>>>()?;
        let fields = ClassFields {
            name: input.name,
            description: input.description,
            business_service: input.business_service,
            attributes,
        };
        let id = ids::decode_opt(input.id, "CiClass", "id")?;
        Ok(CiClassPayload {
            ci_class: CiClass(cmdb::save_class(on.db, on.caller, on.now, id, fields).await?),
        })
    }

    /// Adds a relationship type (no id) or changes one. Admins only.
    async fn save_relationship_type(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the fields of the input type.")]
        input: SaveRelationshipTypeInput,
    ) -> AppResult<RelationshipTypePayload> {
        let on = acting(ctx);
        let fields = RelationshipTypeFields {
            name: input.name,
            forward_label: input.forward_label,
            reverse_label: input.reverse_label,
            impact: input.impact.into(),
            redundant: input.redundant,
        };
        let id = ids::decode_opt(input.id, "RelationshipType", "id")?;
        Ok(RelationshipTypePayload {
            relationship_type: RelationshipType(
                cmdb::save_relationship_type(on.db, on.caller, on.now, id, fields).await?,
            ),
        })
    }

    /// Admins, and tokens with `cmdb:write`.
    async fn create_configuration_item(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the fields of the input type.")]
        input: CreateConfigurationItemInput,
    ) -> AppResult<ConfigurationItemPayload> {
        let on = acting(ctx);
        let draft = Draft {
            class_id: ids::decode_as(&input.class_id, "CiClass", "classId")?,
            name: input.name,
            status: input.status.into(),
            environment: input.environment,
            owner_group_id: ids::decode_opt(input.owner_group_id, "Group", "ownerGroupId")?,
            organization_id: ids::decode_opt(
                input.organization_id,
                "Organization",
                "organizationId",
            )?,
            service_id: ids::decode_opt(input.service_id, "Service", "serviceId")?,
            attributes: input.attributes.0,
            external_key: input.external_key,
        };
        let row = cmdb::create_item(on.db, on.caller, on.now, draft).await?;
        Ok(ConfigurationItemPayload {
            configuration_item: ConfigurationItem(row),
        })
    }

    /// Admins, and tokens with `cmdb:write`.
    async fn update_configuration_item(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the fields of the input type.")]
        input: UpdateConfigurationItemInput,
    ) -> AppResult<ConfigurationItemPayload> {
        let on = acting(ctx);
        let target = versioned(&input.id, input.version, "ConfigurationItem")?;
        let changes = ItemChanges {
            class_id: ids::decode_opt(input.class_id, "CiClass", "classId")?,
            name: input.name,
            status: input.status.map(Into::into),
            environment: input.environment,
            owner_group_id: ids::decode_maybe(input.owner_group_id, "Group", "ownerGroupId")?,
            organization_id: ids::decode_maybe(
                input.organization_id,
                "Organization",
                "organizationId",
            )?,
            service_id: ids::decode_maybe(input.service_id, "Service", "serviceId")?,
            attributes: input.attributes.map(|a| a.0),
            external_key: ids::change_of(input.external_key),
        };
        let row =
            cmdb::update_item(on.db, on.caller, on.now, target.id, target.version, changes).await?;
        Ok(ConfigurationItemPayload {
            configuration_item: ConfigurationItem(row),
        })
    }

    /// Admins, and tokens with `cmdb:write`.
    async fn relate_configuration_items(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the fields of the input type.")]
        input: RelateConfigurationItemsInput,
    ) -> AppResult<CiRelationshipPayload> {
        let on = acting(ctx);
        let source = ids::decode_as(&input.source_id, "ConfigurationItem", "sourceId")?;
        let target = ids::decode_as(&input.target_id, "ConfigurationItem", "targetId")?;
        let row = cmdb::relate(on.db, on.caller, on.now, source, target, &input.r#type).await?;
        Ok(CiRelationshipPayload {
            relationship: CiRelationship(row),
        })
    }

    /// Removes a relationship; returns it as it was.
    async fn unrelate_configuration_items(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The relationship's id.")] relationship_id: ID,
    ) -> AppResult<CiRelationshipPayload> {
        let on = acting(ctx);
        let id = ids::decode_as(&relationship_id, "CiRelationship", "relationshipId")?;
        let row = cmdb::unrelate(on.db, on.caller, on.now, id).await?;
        Ok(CiRelationshipPayload {
            relationship: CiRelationship(row),
        })
    }

    /// Upserts many items and relationships by external key, for discovery tools and
    /// partner systems. Every row is checked first; with rejected rows nothing is
    /// written unless `applyValid` is true. Admins, and tokens with `cmdb:write`.
    async fn import_configuration_items(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the fields of the input type.")]
        input: ImportConfigurationItemsInput,
    ) -> AppResult<ImportReport> {
        let on = acting(ctx);
        let file = ImportFile {
            items: input
                .items
                .into_iter()
                .map(|row| ItemRow {
                    external_key: row.external_key,
                    class: row.class,
                    name: row.name,
                    status: vocabulary::CiStatus::from(row.status).into(),
                    environment: row.environment,
                    owner_group: row.owner_group,
                    organization: row.organization,
                    service: row.service,
                    attributes: row.attributes.0,
                })
                .collect(),
            relationships: input
                .relationships
                .into_iter()
                .map(|row| RelationshipRow {
                    source: row.source,
                    target: row.target,
                    kind: row.r#type,
                })
                .collect(),
        };
        let report = import::run(on.db, on.caller, on.now, file, input.apply_valid).await?;
        Ok(report.into())
    }

    /// Sets the configuration items a ticket is about. Agents and `tickets:write` tokens.
    async fn set_ticket_configuration_items(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the fields of the input type.")]
        input: SetTicketConfigurationItemsInput,
    ) -> AppResult<TicketPayload> {
        let on = acting(ctx);
        let ticket_id = ids::decode_as(&input.ticket_id, "Ticket", "ticketId")?;
        let items = ids::decode_all(
            &input.configuration_item_ids,
            "ConfigurationItem",
            "configurationItemIds",
        )?;
        let row = commands::link_configuration_items(
            on.db,
            on.caller,
            on.now,
            ticket_id,
            input.version,
            &items,
        )
        .await?;
        Ok(TicketPayload {
            ticket: Ticket(row),
        })
    }
}
