//! Suppliers (admins keep them, the desk reads them), and handing a ticket to one.

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use entity::supplier;

use crate::{
    auth::Role,
    domain::{
        suppliers::{self, Contact, SupplierFields},
        tickets::commands,
    },
    error::AppResult,
    graphql::{
        caller, command::acting, desk::UserPayload, ids, instant::Instant, loaders, state,
        tickets::Ticket, users::User,
    },
};

/// Someone to call at a supplier.
#[derive(SimpleObject, InputObject, Clone)]
#[graphql(input_name = "SupplierContactInput")]
pub struct SupplierContact {
    /// Their name.
    pub name: String,
    /// Their address.
    pub email: Option<String>,
    /// Their telephone number.
    pub phone: Option<String>,
    /// What they do for the desk: "service manager", "24x7 hotline".
    pub role: Option<String>,
}

/// A third party the desk hands work to under an underpinning contract.
pub struct Supplier(pub supplier::Model);

/// A supplier for `node(id:)`: the desk's.
pub async fn load_node(ctx: &Context<'_>, id: i64) -> AppResult<Supplier> {
    suppliers::get(state(ctx).db.conn(), caller(ctx), id)
        .await
        .map(Supplier)
}

/// A third party the desk hands work to under an underpinning contract.
#[Object]
impl Supplier {
    /// The globally unique id.
    pub async fn id(&self) -> ID {
        ids::encode("Supplier", self.0.id)
    }
    /// Its version, for `saveSupplier`.
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// Its name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// What it does for the desk.
    async fn description(&self) -> &str {
        &self.0.description
    }
    /// Who at the desk manages the relationship: told of the contract's breaches.
    async fn manager(&self, ctx: &Context<'_>) -> AppResult<Option<User>> {
        loaders::user(ctx, self.0.manager_id).await
    }
    /// Whom to call there.
    async fn contacts(&self) -> Vec<SupplierContact> {
        suppliers::contacts_of(&self.0)
            .into_iter()
            .map(|c| SupplierContact {
                name: c.name,
                email: c.email,
                phone: c.phone,
                role: c.role,
            })
            .collect()
    }
    /// When it was recorded.
    async fn created_at(&self) -> Instant {
        Instant(self.0.created_at)
    }
}

/// What `saveSupplier` takes.
#[derive(InputObject)]
pub struct SaveSupplierInput {
    /// Absent to create one.
    pub id: Option<ID>,
    /// With `id`: the version read.
    pub version: Option<i32>,
    /// Its name, unique.
    pub name: String,
    /// What it does for the desk.
    #[graphql(default)]
    pub description: String,
    /// Who at the desk manages the relationship.
    pub manager_id: Option<ID>,
    /// Whom to call there.
    #[graphql(default)]
    pub contacts: Vec<SupplierContact>,
}

/// What `setUserSupplier` takes.
#[derive(InputObject)]
pub struct SetUserSupplierInput {
    /// The person.
    pub user_id: ID,
    /// The supplier they work for; null for none.
    pub supplier_id: Option<ID>,
}

/// What `handTicketToSupplier` takes.
#[derive(InputObject)]
pub struct HandTicketToSupplierInput {
    /// The ticket.
    pub ticket_id: ID,
    /// The version read.
    pub version: i32,
    /// The supplier; null takes the ticket back.
    pub supplier_id: Option<ID>,
}

#[derive(Default)]
pub struct SupplierQuery;

#[Object]
impl SupplierQuery {
    /// Every supplier, by name. The desk's people.
    async fn suppliers(&self, ctx: &Context<'_>) -> AppResult<Vec<Supplier>> {
        let rows = suppliers::list(state(ctx).db.conn(), caller(ctx)).await?;
        Ok(rows.into_iter().map(Supplier).collect())
    }
}

#[derive(Default)]
pub struct SupplierMutation;

#[Object]
impl SupplierMutation {
    /// Creates a supplier (no id) or changes one. Admins.
    async fn save_supplier(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the fields of the input type.")] input: SaveSupplierInput,
    ) -> AppResult<Supplier> {
        let on = acting(ctx);
        on.caller.require_role(Role::Admin)?;
        let id = match ids::decode_opt(input.id, "Supplier", "id")? {
            Some(id) => Some((
                id,
                input.version.ok_or_else(|| {
                    crate::error::AppError::bad_input(
                        "version",
                        "give the version you read to change a supplier",
                    )
                })?,
            )),
            None => None,
        };
        let fields = SupplierFields {
            name: input.name,
            description: input.description,
            manager_id: ids::decode_opt(input.manager_id, "User", "managerId")?,
            contacts: input
                .contacts
                .into_iter()
                .map(|c| Contact {
                    name: c.name,
                    email: c.email,
                    phone: c.phone,
                    role: c.role,
                })
                .collect(),
        };
        Ok(Supplier(
            suppliers::save(on.db, on.caller, on.now, id, fields).await?,
        ))
    }

    /// Hands a ticket to a supplier, or takes it back (null): while the supplier holds
    /// it, its underpinning contract's clock runs. Agents.
    async fn hand_ticket_to_supplier(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the fields of the input type.")]
        input: HandTicketToSupplierInput,
    ) -> AppResult<Ticket> {
        let on = acting(ctx);
        let ticket_id = ids::decode_as(&input.ticket_id, "Ticket", "ticketId")?;
        let supplier_id = ids::decode_opt(input.supplier_id, "Supplier", "supplierId")?;
        let row = commands::hand_to_supplier(
            on.db,
            on.caller,
            on.now,
            ticket_id,
            input.version,
            supplier_id,
        )
        .await?;
        Ok(Ticket(row))
    }

    /// Makes a person one of a supplier's people (or no supplier's): they see the
    /// tickets handed to that supplier, as an organization's requesters see its
    /// tickets, and never internal notes. Admins.
    async fn set_user_supplier(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the fields of the input type.")]
        input: SetUserSupplierInput,
    ) -> AppResult<UserPayload> {
        let user_id = ids::decode_as(&input.user_id, "User", "userId")?;
        let supplier = ids::decode_opt(input.supplier_id, "Supplier", "supplierId")?;
        Ok(UserPayload {
            user: User(
                suppliers::set_user_supplier(&state(ctx).db, caller(ctx), user_id, supplier)
                    .await?,
            ),
        })
    }
}
