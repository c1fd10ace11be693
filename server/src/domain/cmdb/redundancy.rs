//! Which items fail when some have, where a relationship type may be redundant: an item
//! related to a pool by a redundant type (two load-balanced servers) fails only when
//! every member of that pool has failed; through any other type that carries impact,
//! one failed provider is enough. The graph around the failed items is read once (the
//! impact analysis finds who could suffer), then any number of "what if these were
//! down" questions are answered in memory: availability asks one per change of state.

use std::collections::{HashMap, HashSet};

use entity::relationship_type;
use sea_orm::{ConnectionTrait, EntityTrait};

use super::{impact, relationships_of, types::ImpactDirection};
use crate::error::AppResult;

/// One thing an item needs: a provider, through a relationship type.
#[derive(Clone, Copy, Debug)]
struct Need {
    provider: i64,
    type_id: i64,
    redundant: bool,
}

/// What each item that could suffer needs.
#[derive(Debug, Default)]
pub struct Dependencies {
    needs: HashMap<i64, Vec<Need>>,
}

impl Dependencies {
    /// The dependencies of everything a failure of `items` could reach.
    pub async fn around(conn: &impl ConnectionTrait, items: &[i64]) -> AppResult<Dependencies> {
        if items.is_empty() {
            return Ok(Dependencies::default());
        }
        let reached = impact::analyse(conn, items, impact::MAX_DEPTH).await?;
        let mut ids: Vec<i64> = reached.reached.iter().map(|r| r.id).collect();
        ids.extend_from_slice(items);
        ids.sort_unstable();
        ids.dedup();
        let types: HashMap<i64, relationship_type::Model> = relationship_type::Entity::find()
            .all(conn)
            .await?
            .into_iter()
            .map(|t| (t.id, t))
            .collect();
        let mut graph = Dependencies::default();
        for edge in relationships_of(conn, &ids).await? {
            let Some(kind) = types.get(&edge.type_id) else {
                continue;
            };
            let need = |provider| Need {
                provider,
                type_id: kind.id,
                redundant: kind.redundant,
            };
            if kind.impact == ImpactDirection::ToSource.as_str()
                || kind.impact == ImpactDirection::Both.as_str()
            {
                graph
                    .needs
                    .entry(edge.source_id)
                    .or_default()
                    .push(need(edge.target_id));
            }
            if kind.impact == ImpactDirection::Both.as_str() {
                graph
                    .needs
                    .entry(edge.target_id)
                    .or_default()
                    .push(need(edge.source_id));
            }
        }
        Ok(graph)
    }

    /// Built from edges directly: `(dependant, provider, type, redundant)`.
    #[cfg(test)]
    fn of(edges: &[(i64, i64, i64, bool)]) -> Dependencies {
        let mut graph = Dependencies::default();
        for &(dependant, provider, type_id, redundant) in edges {
            graph.needs.entry(dependant).or_default().push(Need {
                provider,
                type_id,
                redundant,
            });
        }
        graph
    }

    /// Everything that has failed when `down` has: `down` and what fails through it.
    pub fn failed_with(&self, down: &HashSet<i64>) -> HashSet<i64> {
        let mut failed = down.clone();
        loop {
            let mut more = Vec::new();
            for (&item, needs) in &self.needs {
                if failed.contains(&item) {
                    continue;
                }
                let hard = needs
                    .iter()
                    .any(|n| !n.redundant && failed.contains(&n.provider));
                let pool_gone = || {
                    let mut pools: HashMap<i64, bool> = HashMap::new();
                    for n in needs.iter().filter(|n| n.redundant) {
                        let all = pools.entry(n.type_id).or_insert(true);
                        *all &= failed.contains(&n.provider);
                    }
                    pools.values().any(|&all| all)
                };
                if hard || pool_gone() {
                    more.push(item);
                }
            }
            if more.is_empty() {
                return failed;
            }
            failed.extend(more);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pool_fails_only_when_all_its_members_have() {
        // shop (1) runs on app (2), balanced across web-a (3) and web-b (4); app needs db (5).
        let graph = Dependencies::of(&[
            (1, 2, 10, false),
            (2, 3, 20, true),
            (2, 4, 20, true),
            (2, 5, 10, false),
        ]);
        let down = |ids: &[i64]| graph.failed_with(&ids.iter().copied().collect());
        assert!(!down(&[3]).contains(&1));
        assert!(!down(&[4]).contains(&1));
        assert!(down(&[3, 4]).contains(&1));
        assert!(down(&[5]).contains(&1));
        assert!(down(&[2]).contains(&1));
        assert_eq!(down(&[]).len(), 0);
    }
}
