//! From a document to a plan: which lists the operation reads, which columns of which
//! tables each needs, and what to write for every response key, in order.
//!
//! A plan is made only of what it understands. An operation with anything else (a
//! field it does not write itself, a directive, a fragment that would not apply, a
//! response key naming two different fields) has no plan, and the ordinary path runs
//! it, now and every time: `Plan::of` says `None`.
//!
//! Fields are collected as GraphQL's CollectFields does and async-graphql merges them:
//! each response key once, where it first appears, with the selections of every field of
//! that key merged below it.

use async_graphql::{
    Name, Positioned,
    parser::types::{
        ExecutableDocument, Field, OperationType, Selection, SelectionSet, VariableDefinition,
    },
};
use entity::{category, group, organization, ticket, user};
use sea_orm::IdenStatic;

use crate::domain::tickets::partial::{Offsets, Wanted};

use super::fields::{CategoryField, GroupField, OrganizationField, PersonField, TicketScalar};

/// A query the planned path answers.
#[derive(Debug)]
pub struct Plan {
    pub root: Vec<(Name, Root)>,
    /// How many root fields cost one each toward the complexity limit.
    pub fixed_complexity: usize,
    pub variables: Vec<Positioned<VariableDefinition>>,
    pub wanted: Wanted,
    pub offsets: Offsets,
    /// Where the ticket's id, priority and last change are in a row: a cursor's parts.
    pub cursor_at: [usize; 3],
}

#[derive(Debug)]
pub enum Root {
    Typename,
    List(List),
}

/// Which list a root field reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// `tickets`: what the caller may see.
    Tickets,
    /// `myTickets`: the caller's own requests.
    Mine,
}

#[derive(Debug)]
pub struct List {
    pub source: Source,
    /// The field as written, for its arguments (read with each request's variables).
    pub field: Field,
    /// The complexity of the fields below it, summed over every field of its key: the
    /// page's size times this is what it costs.
    pub child_complexity: usize,
    pub connection: Vec<(Name, Connection)>,
}

#[derive(Debug)]
pub enum Connection {
    Typename,
    Nodes(Node),
    Edges(Vec<(Name, EdgeField)>),
    PageInfo(Vec<(Name, PageInfoField)>),
}

#[derive(Debug)]
pub enum EdgeField {
    Typename,
    Cursor,
    Node(Node),
}

#[derive(Clone, Copy, Debug)]
pub enum PageInfoField {
    Typename,
    HasNextPage,
    HasPreviousPage,
    StartCursor,
    EndCursor,
}

pub type Node = Vec<(Name, TicketField)>;

#[derive(Debug)]
pub enum TicketField {
    Typename,
    /// The field, and where its column is among the ticket's.
    Scalar(TicketScalar, usize),
    Requester(Neighbour<PersonField>),
    Assignee(Neighbour<PersonField>),
    Group(Neighbour<GroupField>),
    Organization(Neighbour<OrganizationField>),
    Category(Neighbour<CategoryField>),
}

/// What is written of a ticket's neighbour. Positions count from where the neighbour's
/// columns start (`Offsets`).
#[derive(Debug)]
pub struct Neighbour<F> {
    /// Where its key is: NULL when the ticket has no such neighbour.
    pub key_at: usize,
    pub leaves: Vec<(Name, Leaf<F>)>,
}

/// A field of a ticket's neighbour, and where its column is.
#[derive(Clone, Copy, Debug)]
pub enum Leaf<F> {
    Typename,
    Field(F, usize),
}

/// A selection's fields by response key, in order of first appearance.
type Collected<'a> = Vec<(&'a Name, Vec<&'a Positioned<Field>>)>;

struct Planner<'a> {
    doc: &'a ExecutableDocument,
    wanted: Wanted,
}

impl Plan {
    /// The plan of the operation `operation_name` names in `doc` (or its only one), if
    /// the planned path can answer it.
    pub fn of(doc: &ExecutableDocument, operation_name: Option<&str>) -> Option<Plan> {
        let operation = crate::graphql::chosen_operation(doc, operation_name).ok()?;
        if operation.ty != OperationType::Query || !operation.directives.is_empty() {
            return None;
        }
        if operation
            .variable_definitions
            .iter()
            .any(|v| !v.node.directives.is_empty())
        {
            return None;
        }
        let mut planner = Planner {
            doc,
            wanted: Wanted::default(),
        };
        let mut collected = Vec::new();
        planner.collect(&operation.selection_set.node, "Query", &mut collected)?;
        let mut root = Vec::new();
        let mut fixed_complexity = 0;
        for (key, fields) in collected {
            let first = &fields[0].node;
            let source = match first.name.node.as_str() {
                "__typename" => {
                    fixed_complexity += fields.len();
                    root.push((key.clone(), Root::Typename));
                    continue;
                }
                "tickets" => Source::Tickets,
                "myTickets" => Source::Mine,
                _ => return None,
            };
            let allowed: &[&str] = match source {
                Source::Tickets => &["filter", "orderBy", "first", "after", "last", "before"],
                Source::Mine => &["status", "orderBy", "first", "after", "last", "before"],
            };
            if first
                .arguments
                .iter()
                .any(|(name, _)| !allowed.contains(&name.node.as_str()))
            {
                return None;
            }
            // Fields merged under one key must ask the same thing.
            if fields[1..]
                .iter()
                .any(|other| other.node.arguments != first.arguments)
            {
                return None;
            }
            let child_complexity = fields
                .iter()
                .map(|f| planner.complexity(&f.node.selection_set.node))
                .sum::<Option<usize>>()?;
            let connection = planner.connection(&fields)?;
            root.push((
                key.clone(),
                Root::List(List {
                    source,
                    field: first.clone(),
                    child_complexity,
                    connection,
                }),
            ));
        }
        let mut wanted = planner.wanted;
        // Always read: the key, and what any order's cursor is made of.
        let cursor_at = [
            ticket::Column::Id,
            ticket::Column::Priority,
            ticket::Column::UpdatedAt,
        ]
        .map(|column| add(&mut wanted.ticket, column));
        let offsets = wanted.offsets();
        Some(Plan {
            root,
            fixed_complexity,
            variables: operation.variable_definitions.clone(),
            wanted,
            offsets,
            cursor_at,
        })
    }
}

impl<'a> Planner<'a> {
    /// Collects `set`'s fields for an object of type `type_name` into `out`, merging
    /// fields of one response key.
    fn collect(
        &self,
        set: &'a SelectionSet,
        type_name: &str,
        out: &mut Collected<'a>,
    ) -> Option<()> {
        for selection in &set.items {
            match &selection.node {
                Selection::Field(field) => {
                    if !field.node.directives.is_empty() {
                        return None;
                    }
                    let key = &field.node.response_key().node;
                    match out.iter_mut().find(|(k, _)| *k == key) {
                        Some((_, fields)) => {
                            if fields[0].node.name.node != field.node.name.node {
                                return None;
                            }
                            fields.push(field);
                        }
                        None => out.push((key, vec![field])),
                    }
                }
                Selection::FragmentSpread(spread) => {
                    if !spread.node.directives.is_empty() {
                        return None;
                    }
                    let fragment = self.doc.fragments.get(&spread.node.fragment_name.node)?;
                    if !fragment.node.directives.is_empty()
                        || !applies(&fragment.node.type_condition.node.on.node, type_name)
                    {
                        return None;
                    }
                    self.collect(&fragment.node.selection_set.node, type_name, out)?;
                }
                Selection::InlineFragment(inline) => {
                    if !inline.node.directives.is_empty() {
                        return None;
                    }
                    if let Some(condition) = &inline.node.type_condition
                        && !applies(&condition.node.on.node, type_name)
                    {
                        return None;
                    }
                    self.collect(&inline.node.selection_set.node, type_name, out)?;
                }
            }
        }
        Some(())
    }

    /// The fields of every field in `fields` (one response key), collected together.
    fn below(&self, fields: &[&'a Positioned<Field>], type_name: &str) -> Option<Collected<'a>> {
        let mut out = Vec::new();
        for field in fields {
            if !field.node.arguments.is_empty() {
                return None;
            }
            self.collect(&field.node.selection_set.node, type_name, &mut out)?;
        }
        Some(out)
    }

    fn connection(&mut self, fields: &[&'a Positioned<Field>]) -> Option<Vec<(Name, Connection)>> {
        let mut out = Vec::new();
        let mut collected = Vec::new();
        for field in fields {
            self.collect(
                &field.node.selection_set.node,
                "TicketConnection",
                &mut collected,
            )?;
        }
        for (key, fields) in collected {
            let planned = match fields[0].node.name.node.as_str() {
                "__typename" => Connection::Typename,
                "nodes" => Connection::Nodes(self.node(&fields)?),
                "edges" => {
                    let mut edge = Vec::new();
                    for (key, fields) in self.below(&fields, "TicketEdge")? {
                        let planned = match fields[0].node.name.node.as_str() {
                            "__typename" => EdgeField::Typename,
                            "cursor" => EdgeField::Cursor,
                            "node" => EdgeField::Node(self.node(&fields)?),
                            _ => return None,
                        };
                        edge.push((key.clone(), planned));
                    }
                    Connection::Edges(edge)
                }
                "pageInfo" => {
                    let mut info = Vec::new();
                    for (key, fields) in self.below(&fields, "PageInfo")? {
                        let planned = match fields[0].node.name.node.as_str() {
                            "__typename" => PageInfoField::Typename,
                            "hasNextPage" => PageInfoField::HasNextPage,
                            "hasPreviousPage" => PageInfoField::HasPreviousPage,
                            "startCursor" => PageInfoField::StartCursor,
                            "endCursor" => PageInfoField::EndCursor,
                            _ => return None,
                        };
                        info.push((key.clone(), planned));
                    }
                    Connection::PageInfo(info)
                }
                _ => return None,
            };
            out.push((key.clone(), planned));
        }
        Some(out)
    }

    fn node(&mut self, fields: &[&'a Positioned<Field>]) -> Option<Node> {
        let mut node = Vec::new();
        for (key, fields) in self.below(fields, "Ticket")? {
            let name = fields[0].node.name.node.as_str();
            let planned = match name {
                "__typename" => TicketField::Typename,
                // A person's id also decides what of them the caller may see.
                "requester" => TicketField::Requester(self.neighbour(
                    &fields,
                    ticket::Column::RequesterId,
                    |wanted| &mut wanted.requester,
                )?),
                "assignee" => TicketField::Assignee(self.neighbour(
                    &fields,
                    ticket::Column::AssigneeId,
                    |wanted| &mut wanted.assignee,
                )?),
                "group" => TicketField::Group(self.neighbour(
                    &fields,
                    ticket::Column::GroupId,
                    |wanted| &mut wanted.group,
                )?),
                "organization" => TicketField::Organization(self.neighbour(
                    &fields,
                    ticket::Column::OrganizationId,
                    |wanted| &mut wanted.organization,
                )?),
                "category" => TicketField::Category(self.neighbour(
                    &fields,
                    ticket::Column::CategoryId,
                    |wanted| &mut wanted.category,
                )?),
                other => {
                    let scalar = TicketScalar::named(other)?;
                    if fields.iter().any(|f| !f.node.arguments.is_empty()) {
                        return None;
                    }
                    TicketField::Scalar(scalar, add(&mut self.wanted.ticket, scalar.column()))
                }
            };
            node.push((key.clone(), planned));
        }
        Some(node)
    }

    /// A neighbour joined on the ticket's `on`, with the leaf fields selected of it, each
    /// placed among the neighbour's columns (`columns` of the plan's), its key first.
    fn neighbour<F: NeighbourField>(
        &mut self,
        fields: &[&'a Positioned<Field>],
        on: ticket::Column,
        columns: fn(&mut Wanted) -> &mut Vec<F::Column>,
    ) -> Option<Neighbour<F>> {
        let collected = self.below(fields, F::TYPE_NAME)?;
        add(&mut self.wanted.ticket, on);
        let columns = columns(&mut self.wanted);
        let key_at = add(columns, F::KEY);
        let leaves = collected
            .into_iter()
            .map(|(key, fields)| {
                if fields.iter().any(|f| {
                    !f.node.arguments.is_empty() || !f.node.selection_set.node.items.is_empty()
                }) {
                    return None;
                }
                let leaf = match fields[0].node.name.node.as_str() {
                    "__typename" => Leaf::Typename,
                    name => {
                        let field = F::named(name)?;
                        Leaf::Field(field, add(columns, field.column()))
                    }
                };
                Some((key.clone(), leaf))
            })
            .collect::<Option<_>>()?;
        Some(Neighbour { key_at, leaves })
    }

    /// What the fields of `set` cost as async-graphql's complexity rule counts them:
    /// one each and what is below, fragments counted where they are spread. None of the
    /// fields a plan writes below a list has a cost of its own.
    fn complexity(&self, set: &SelectionSet) -> Option<usize> {
        let mut total = 0;
        for selection in &set.items {
            total += match &selection.node {
                Selection::Field(field) => 1 + self.complexity(&field.node.selection_set.node)?,
                Selection::FragmentSpread(spread) => {
                    let fragment = self.doc.fragments.get(&spread.node.fragment_name.node)?;
                    self.complexity(&fragment.node.selection_set.node)?
                }
                Selection::InlineFragment(inline) => {
                    self.complexity(&inline.node.selection_set.node)?
                }
            };
        }
        Some(total)
    }
}

/// Whether a fragment on `condition` applies to an object of type `type_name`: its own
/// type, or `Node`, which the ticket and its neighbours implement.
fn applies(condition: &str, type_name: &str) -> bool {
    condition == type_name
        || (condition == "Node"
            && matches!(
                type_name,
                "Ticket" | "User" | "Group" | "Organization" | "Category"
            ))
}

/// Where `column` is in `columns`, added at the end if it is not there yet: a column's
/// place never changes once given.
fn add<C: IdenStatic>(columns: &mut Vec<C>, column: C) -> usize {
    match columns.iter().position(|c| c.as_str() == column.as_str()) {
        Some(at) => at,
        None => {
            columns.push(column);
            columns.len() - 1
        }
    }
}

/// A field of a table joined beside the ticket.
pub trait NeighbourField: Copy {
    type Column: IdenStatic;
    /// The GraphQL type the neighbour is.
    const TYPE_NAME: &'static str;
    /// The table's key.
    const KEY: Self::Column;
    fn named(name: &str) -> Option<Self>;
    fn column(self) -> Self::Column;
}

macro_rules! neighbour_field {
    ($field:ty, $table:ident, $type_name:literal) => {
        impl NeighbourField for $field {
            type Column = $table::Column;
            const TYPE_NAME: &'static str = $type_name;
            const KEY: $table::Column = $table::Column::Id;
            fn named(name: &str) -> Option<Self> {
                <$field>::named(name)
            }
            fn column(self) -> $table::Column {
                <$field>::column(self)
            }
        }
    };
}

neighbour_field!(PersonField, user, "User");
neighbour_field!(GroupField, group, "Group");
neighbour_field!(OrganizationField, organization, "Organization");
neighbour_field!(CategoryField, category, "Category");
