//! What breaks when an item fails, and the graph around an item.
//!
//! Both walk the relationships breadth first, one query per level: the first time an
//! item is reached is by a shortest path, items reached again (a diamond, a cycle) are
//! not walked twice, and the depth limit bounds the number of queries.

use std::collections::{HashMap, HashSet};

use entity::{ci_relationship, configuration_item as ci, relationship_type};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::error::{AppError, AppResult};

use super::types::ImpactDirection;

/// How many relationships impact analysis follows at most.
pub const MAX_DEPTH: u32 = 50;
/// How many relationships a drawn graph reaches out at most.
pub const MAX_GRAPH_DEPTH: u32 = 6;
/// A drawing with more nodes than this helps nobody; the graph says it was cut.
pub const MAX_GRAPH_NODES: usize = 1000;

/// An item reached from the failed ones.
#[derive(Clone, Debug)]
pub struct Reached {
    pub id: i64,
    pub depth: u32,
    /// From the failed item to this one, both included.
    pub path: Vec<i64>,
    /// How each step of the path relates, read from the reached side ("used by").
    pub via: Vec<String>,
}

/// What a failure of some items reaches, and through what.
pub struct Impact {
    /// In order of depth, then of discovery.
    pub reached: Vec<Reached>,
    pub items: HashMap<i64, ci::Model>,
    /// More items depend on the last level than the depth limit let through.
    pub truncated: bool,
}

/// A depth a client asked for, if it is 1 to `max`.
///
/// # Errors
/// BAD_USER_INPUT naming `field` otherwise.
pub fn check_depth(field: &str, depth: i32, max: u32) -> AppResult<u32> {
    if depth < 1 || depth as u32 > max {
        return Err(AppError::bad_input(
            field,
            format!("give a depth from 1 to {max}, not {depth}"),
        ));
    }
    Ok(depth as u32)
}

/// One step of the walk: from, to, and how `to` relates to `from`.
type Step = (i64, i64, String);

/// Which relationship types carry a failure, and which way.
struct Directions {
    /// A failure of the target reaches the source.
    to_source: Vec<i64>,
    /// A failure of the source reaches the target too.
    to_target: Vec<i64>,
    labels: HashMap<i64, relationship_type::Model>,
}

impl Directions {
    async fn load(conn: &impl ConnectionTrait) -> AppResult<Directions> {
        let types = relationship_type::Entity::find().all(conn).await?;
        let ids = |impacts: &[ImpactDirection]| {
            types
                .iter()
                .filter(|t| impacts.iter().any(|i| i.as_str() == t.impact))
                .map(|t| t.id)
                .collect()
        };
        Ok(Directions {
            to_source: ids(&[ImpactDirection::ToSource, ImpactDirection::Both]),
            to_target: ids(&[ImpactDirection::Both]),
            labels: types.iter().map(|t| (t.id, t.clone())).collect(),
        })
    }

    /// Who suffers from a failure of one of `frontier`, and through what.
    async fn dependants(
        &self,
        conn: &impl ConnectionTrait,
        frontier: &[i64],
    ) -> AppResult<Vec<Step>> {
        let mut steps = Vec::new();
        for chunk in frontier.chunks(500) {
            let edges = ci_relationship::Entity::find()
                .filter(
                    Condition::any()
                        .add(
                            Condition::all()
                                .add(ci_relationship::Column::TargetId.is_in(chunk.to_vec()))
                                .add(ci_relationship::Column::TypeId.is_in(self.to_source.clone())),
                        )
                        .add(
                            Condition::all()
                                .add(ci_relationship::Column::SourceId.is_in(chunk.to_vec()))
                                .add(ci_relationship::Column::TypeId.is_in(self.to_target.clone())),
                        ),
                )
                .order_by_asc(ci_relationship::Column::Id)
                .all(conn)
                .await?;
            let in_chunk: HashSet<i64> = chunk.iter().copied().collect();
            for edge in edges {
                let kind = &self.labels[&edge.type_id];
                if in_chunk.contains(&edge.target_id) && self.to_source.contains(&edge.type_id) {
                    steps.push((edge.target_id, edge.source_id, kind.forward_label.clone()));
                }
                if in_chunk.contains(&edge.source_id) && self.to_target.contains(&edge.type_id) {
                    steps.push((edge.source_id, edge.target_id, kind.reverse_label.clone()));
                }
            }
        }
        Ok(steps)
    }
}

/// The items that suffer when any of `failed` fails: dependants found by following
/// relationships against their impact direction, to `max_depth` steps.
pub async fn analyse(
    conn: &impl ConnectionTrait,
    failed: &[i64],
    max_depth: u32,
) -> AppResult<Impact> {
    let directions = Directions::load(conn).await?;
    let mut seen: HashSet<i64> = failed.iter().copied().collect();
    let mut reached: Vec<Reached> = Vec::new();
    let roots: Vec<Reached> = failed
        .iter()
        .map(|&id| Reached {
            id,
            depth: 0,
            path: vec![id],
            via: vec![],
        })
        .collect();
    let mut frontier: Vec<Reached> = roots;
    let mut truncated = false;
    for depth in 1..=max_depth + 1 {
        if frontier.is_empty() {
            break;
        }
        let by_id: HashMap<i64, &Reached> = frontier.iter().map(|r| (r.id, r)).collect();
        let ids: Vec<i64> = frontier.iter().map(|r| r.id).collect();
        let steps = directions.dependants(conn, &ids).await?;
        if depth > max_depth {
            truncated = steps.iter().any(|(_, to, _)| !seen.contains(to));
            break;
        }
        let mut next = Vec::new();
        for (from, to, label) in steps {
            if !seen.insert(to) {
                continue;
            }
            let parent = by_id[&from];
            let mut path = parent.path.clone();
            path.push(to);
            let mut via = parent.via.clone();
            via.push(label);
            let item = Reached {
                id: to,
                depth,
                path,
                via,
            };
            reached.push(item.clone());
            next.push(item);
        }
        frontier = next;
    }
    let mut ids: Vec<i64> = seen.into_iter().collect();
    ids.sort_unstable();
    let items = load(conn, &ids).await?;
    Ok(Impact {
        reached,
        items,
        truncated,
    })
}

/// Items by id, in chunks the databases accept.
pub async fn load(conn: &impl ConnectionTrait, ids: &[i64]) -> AppResult<HashMap<i64, ci::Model>> {
    let mut items = HashMap::new();
    for chunk in ids.chunks(500) {
        for item in ci::Entity::find()
            .filter(ci::Column::Id.is_in(chunk.iter().copied()))
            .all(conn)
            .await?
        {
            items.insert(item.id, item);
        }
    }
    Ok(items)
}

/// The items around one item and the relationships between them.
pub struct Graph {
    /// Item and its distance from the centre.
    pub nodes: Vec<(ci::Model, u32)>,
    pub edges: Vec<ci_relationship::Model>,
    pub truncated: bool,
}

/// The items within `depth` relationships of `centre`, either way, and the
/// relationships between them: ready to draw.
pub async fn graph(conn: &impl ConnectionTrait, centre: i64, depth: u32) -> AppResult<Graph> {
    let mut distance: HashMap<i64, u32> = HashMap::from([(centre, 0)]);
    let mut order = vec![centre];
    let mut frontier = vec![centre];
    let mut truncated = false;
    'walk: for level in 1..=depth {
        let edges = super::relationships_of(conn, &frontier).await?;
        let mut next = Vec::new();
        for edge in edges {
            for id in [edge.source_id, edge.target_id] {
                if distance.contains_key(&id) {
                    continue;
                }
                if order.len() >= MAX_GRAPH_NODES {
                    truncated = true;
                    break 'walk;
                }
                distance.insert(id, level);
                order.push(id);
                next.push(id);
            }
        }
        if next.is_empty() {
            break;
        }
        frontier = next;
    }
    let items = load(conn, &order).await?;
    let edges = super::relationships_of(conn, &order)
        .await?
        .into_iter()
        .filter(|e| distance.contains_key(&e.source_id) && distance.contains_key(&e.target_id))
        .collect();
    let nodes = order
        .iter()
        .filter_map(|id| items.get(id).map(|item| (item.clone(), distance[id])))
        .collect();
    Ok(Graph {
        nodes,
        edges,
        truncated,
    })
}

/// `items` and everything they depend on (their providers, through relationships that
/// carry impact), `depth` steps down, at most `most` items: what delivers a service.
pub async fn providers(
    conn: &impl ConnectionTrait,
    items: Vec<i64>,
    depth: usize,
    most: usize,
) -> AppResult<Vec<i64>> {
    let carrying: HashSet<i64> = relationship_type::Entity::find()
        .all(conn)
        .await?
        .into_iter()
        .filter(|t| t.impact != ImpactDirection::None.as_str())
        .map(|t| t.id)
        .collect();
    let mut seen: HashSet<i64> = items.iter().copied().collect();
    let mut frontier = items;
    for _ in 0..depth {
        if frontier.is_empty() || seen.len() >= most {
            break;
        }
        let from: HashSet<i64> = frontier.iter().copied().collect();
        let mut next = Vec::new();
        for edge in super::relationships_of(conn, &frontier).await? {
            if carrying.contains(&edge.type_id)
                && from.contains(&edge.source_id)
                && seen.insert(edge.target_id)
            {
                next.push(edge.target_id);
            }
        }
        frontier = next;
    }
    let mut all: Vec<i64> = seen.into_iter().collect();
    all.sort_unstable();
    Ok(all)
}
