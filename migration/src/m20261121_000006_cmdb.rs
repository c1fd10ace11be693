//! The CMDB: classes of configuration items with typed attributes, the items, their
//! typed and directed relationships, and an index of attribute values for filtering.

use sea_orm_migration::{prelude::*, schema::*};
use serde_json::json;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Groups {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Organizations {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Services {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum TicketConfigurationItems {
    Table,
    TicketId,
    ConfigurationItemId,
}

#[derive(DeriveIden)]
enum CiClasses {
    Table,
    Id,
    Name,
    Description,
    BusinessService,
    Attributes,
    CreatedAt,
}

#[derive(DeriveIden)]
enum RelationshipTypes {
    Table,
    Id,
    Name,
    ForwardLabel,
    ReverseLabel,
    Impact,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ConfigurationItems {
    Table,
    Id,
    ClassId,
    Name,
    NameLower,
    Status,
    Environment,
    OwnerGroupId,
    OrganizationId,
    ServiceId,
    Attributes,
    ExternalKey,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum CiAttributeValues {
    Table,
    ConfigurationItemId,
    Name,
    Value,
}

#[derive(DeriveIden)]
enum CiRelationships {
    Table,
    Id,
    SourceId,
    TargetId,
    TypeId,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(CiClasses::Table)
                    .col(big_pk_auto(CiClasses::Id))
                    .col(string(CiClasses::Name).unique_key())
                    .col(text(CiClasses::Description))
                    .col(boolean(CiClasses::BusinessService))
                    .col(json(CiClasses::Attributes))
                    .col(timestamp_with_time_zone(CiClasses::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RelationshipTypes::Table)
                    .col(big_pk_auto(RelationshipTypes::Id))
                    .col(string(RelationshipTypes::Name).unique_key())
                    .col(string(RelationshipTypes::ForwardLabel))
                    .col(string(RelationshipTypes::ReverseLabel))
                    .col(string(RelationshipTypes::Impact))
                    .col(timestamp_with_time_zone(RelationshipTypes::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ConfigurationItems::Table)
                    .col(big_pk_auto(ConfigurationItems::Id))
                    .col(big_integer(ConfigurationItems::ClassId))
                    .col(string(ConfigurationItems::Name))
                    .col(string(ConfigurationItems::NameLower))
                    .col(string(ConfigurationItems::Status))
                    .col(string(ConfigurationItems::Environment))
                    .col(big_integer_null(ConfigurationItems::OwnerGroupId))
                    .col(big_integer_null(ConfigurationItems::OrganizationId))
                    .col(big_integer_null(ConfigurationItems::ServiceId))
                    .col(json(ConfigurationItems::Attributes))
                    .col(string_null(ConfigurationItems::ExternalKey).unique_key())
                    .col(integer(ConfigurationItems::Version))
                    .col(timestamp_with_time_zone(ConfigurationItems::CreatedAt))
                    .col(timestamp_with_time_zone(ConfigurationItems::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ConfigurationItems::Table, ConfigurationItems::ClassId)
                            .to(CiClasses::Table, CiClasses::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(ConfigurationItems::Table, ConfigurationItems::OwnerGroupId)
                            .to(Groups::Table, Groups::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(
                                ConfigurationItems::Table,
                                ConfigurationItems::OrganizationId,
                            )
                            .to(Organizations::Table, Organizations::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(ConfigurationItems::Table, ConfigurationItems::ServiceId)
                            .to(Services::Table, Services::Id),
                    )
                    .to_owned(),
            )
            .await?;
        // Lists are ordered by (name_lower, id); each filter leads its own index.
        for (name, lead) in [
            ("idx_cis_name", None),
            ("idx_cis_class", Some(ConfigurationItems::ClassId)),
            ("idx_cis_status", Some(ConfigurationItems::Status)),
            (
                "idx_cis_organization",
                Some(ConfigurationItems::OrganizationId),
            ),
            ("idx_cis_service", Some(ConfigurationItems::ServiceId)),
            (
                "idx_cis_owner_group",
                Some(ConfigurationItems::OwnerGroupId),
            ),
        ] {
            let mut index = Index::create();
            index.name(name).table(ConfigurationItems::Table);
            if let Some(lead) = lead {
                index.col(lead);
            }
            index
                .col(ConfigurationItems::NameLower)
                .col(ConfigurationItems::Id);
            manager.create_index(index.to_owned()).await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(CiAttributeValues::Table)
                    .col(big_integer(CiAttributeValues::ConfigurationItemId))
                    .col(string(CiAttributeValues::Name))
                    .col(string(CiAttributeValues::Value))
                    .primary_key(
                        Index::create()
                            .col(CiAttributeValues::ConfigurationItemId)
                            .col(CiAttributeValues::Name),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(
                                CiAttributeValues::Table,
                                CiAttributeValues::ConfigurationItemId,
                            )
                            .to(ConfigurationItems::Table, ConfigurationItems::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_ci_attribute_values_lookup")
                    .table(CiAttributeValues::Table)
                    .col(CiAttributeValues::Name)
                    .col(CiAttributeValues::Value)
                    .col(CiAttributeValues::ConfigurationItemId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CiRelationships::Table)
                    .col(big_pk_auto(CiRelationships::Id))
                    .col(big_integer(CiRelationships::SourceId))
                    .col(big_integer(CiRelationships::TargetId))
                    .col(big_integer(CiRelationships::TypeId))
                    .col(timestamp_with_time_zone(CiRelationships::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(CiRelationships::Table, CiRelationships::SourceId)
                            .to(ConfigurationItems::Table, ConfigurationItems::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(CiRelationships::Table, CiRelationships::TargetId)
                            .to(ConfigurationItems::Table, ConfigurationItems::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(CiRelationships::Table, CiRelationships::TypeId)
                            .to(RelationshipTypes::Table, RelationshipTypes::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_ci_relationships_unique")
                    .table(CiRelationships::Table)
                    .col(CiRelationships::SourceId)
                    .col(CiRelationships::TargetId)
                    .col(CiRelationships::TypeId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_ci_relationships_target")
                    .table(CiRelationships::Table)
                    .col(CiRelationships::TargetId)
                    .col(CiRelationships::SourceId)
                    .to_owned(),
            )
            .await?;
        // A CI lists its tickets: the link table's key starts with the ticket.
        manager
            .create_index(
                Index::create()
                    .name("idx_ticket_cis_by_ci")
                    .table(TicketConfigurationItems::Table)
                    .col(TicketConfigurationItems::ConfigurationItemId)
                    .col(TicketConfigurationItems::TicketId)
                    .to_owned(),
            )
            .await?;

        let now = chrono::Utc::now();
        let mut classes = Query::insert();
        classes.into_table(CiClasses::Table).columns([
            CiClasses::Name,
            CiClasses::Description,
            CiClasses::BusinessService,
            CiClasses::Attributes,
            CiClasses::CreatedAt,
        ]);
        let attr = |name: &str, kind: &str| json!({ "name": name, "kind": kind });
        for (name, description, business, attributes) in [
            (
                "Business service",
                "What the business uses and would miss: payroll, online banking, email.",
                true,
                json!([]),
            ),
            (
                "Application",
                "Software that delivers a service.",
                false,
                json!([attr("vendor", "STRING"), attr("version", "STRING")]),
            ),
            (
                "Database",
                "A database or schema.",
                false,
                json!([attr("engine", "STRING"), attr("version", "STRING")]),
            ),
            (
                "Server",
                "A physical server.",
                false,
                json!([
                    attr("hostname", "STRING"),
                    attr("cpus", "NUMBER"),
                    attr("memoryGb", "NUMBER"),
                    attr("os", "STRING"),
                ]),
            ),
            (
                "Virtual machine",
                "A virtual machine on a host or in a cloud.",
                false,
                json!([
                    attr("hostname", "STRING"),
                    attr("cpus", "NUMBER"),
                    attr("memoryGb", "NUMBER"),
                    attr("os", "STRING"),
                ]),
            ),
            (
                "Network device",
                "A router, switch, firewall or load balancer.",
                false,
                json!([attr("ipAddress", "STRING"), attr("model", "STRING")]),
            ),
        ] {
            classes.values_panic([
                name.into(),
                description.into(),
                business.into(),
                attributes.into(),
                now.into(),
            ]);
        }
        manager.exec_stmt(classes).await?;

        let mut types = Query::insert();
        types.into_table(RelationshipTypes::Table).columns([
            RelationshipTypes::Name,
            RelationshipTypes::ForwardLabel,
            RelationshipTypes::ReverseLabel,
            RelationshipTypes::Impact,
            RelationshipTypes::CreatedAt,
        ]);
        // Impact says whose failure reaches whom: TO_SOURCE means the source suffers when
        // the target fails (an application depends on its database).
        for (name, forward, reverse, impact) in [
            ("DEPENDS_ON", "depends on", "used by", "TO_SOURCE"),
            ("RUNS_ON", "runs on", "hosts", "TO_SOURCE"),
            ("PART_OF", "part of", "has part", "TO_SOURCE"),
            ("CONNECTS_TO", "connects to", "connected from", "BOTH"),
        ] {
            types.values_panic([
                name.into(),
                forward.into(),
                reverse.into(),
                impact.into(),
                now.into(),
            ]);
        }
        manager.exec_stmt(types).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_ticket_cis_by_ci")
                    .table(TicketConfigurationItems::Table)
                    .to_owned(),
            )
            .await?;
        for table in [
            CiRelationships::Table.into_iden(),
            CiAttributeValues::Table.into_iden(),
            ConfigurationItems::Table.into_iden(),
            RelationshipTypes::Table.into_iden(),
            CiClasses::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
