//! A window onto a list in keyset order: what a page of any list asks of the database.
//!
//! A list has one order (its sort key, then the id to break ties). A window holds the
//! bounds a client gave (`after` and `before`, keys of rows it has seen) and which end
//! the page is taken from: the start for `first`, the end for `last`. Reading from the
//! end fetches in reverse order, so both directions use the same index and stop after
//! `size + 1` rows; the extra row only says whether more lie beyond the page.

use sea_orm::{ColumnTrait, EntityTrait, Order, QueryFilter, QueryOrder, QuerySelect, Select};

/// Which rows of a list a page covers. `K` is the key a cursor carries: an id for lists
/// in id order, the cursor text for lists that sort by other columns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Window<K = i64> {
    /// Only rows strictly after this key in list order.
    pub after: Option<K>,
    /// Only rows strictly before this key in list order.
    pub before: Option<K>,
    /// Take the page from the end of the bounded list (`last`) rather than its start.
    pub from_end: bool,
    /// How many rows the page holds at most.
    pub size: u64,
}

impl<K> Window<K> {
    /// The first `size` rows of the whole list.
    pub fn first(size: u64) -> Self {
        Self {
            after: None,
            before: None,
            from_end: false,
            size,
        }
    }

    /// How many rows to fetch: one more than the page, to learn whether more follow.
    pub fn fetch(&self) -> u64 {
        self.size + 1
    }

    /// The order to fetch in, for a list that runs in `order`: reversed when the page is
    /// taken from the end.
    pub fn fetch_order(&self, order: Order) -> Order {
        match (order, self.from_end) {
            (Order::Asc, false) | (Order::Desc, true) => Order::Asc,
            _ => Order::Desc,
        }
    }

    /// Puts rows fetched in `fetch_order` back into list order, keeping at most one page,
    /// and says whether rows lie beyond the page on the side it was read from.
    pub fn settle<Row>(&self, mut rows: Vec<Row>) -> (Vec<Row>, bool) {
        let more = rows.len() as u64 > self.size;
        rows.truncate(self.size as usize);
        if self.from_end {
            rows.reverse();
        }
        (rows, more)
    }
}

impl Window<i64> {
    /// Bounds, orders and limits `query` for a list that runs by `id` in `order`. The
    /// query must not be ordered already: the window decides the fetch order.
    pub fn apply<E: EntityTrait>(
        &self,
        mut query: Select<E>,
        id: E::Column,
        order: Order,
    ) -> Select<E> {
        let ascending = matches!(order, Order::Asc);
        if let Some(after) = self.after {
            query = query.filter(if ascending {
                id.gt(after)
            } else {
                id.lt(after)
            });
        }
        if let Some(before) = self.before {
            query = query.filter(if ascending {
                id.lt(before)
            } else {
                id.gt(before)
            });
        }
        query
            .order_by(id, self.fetch_order(order))
            .limit(self.fetch())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_from_the_end_is_fetched_reversed_and_returned_in_list_order() {
        let window = Window::<i64> {
            after: None,
            before: Some(10),
            from_end: true,
            size: 2,
        };
        assert!(matches!(window.fetch_order(Order::Asc), Order::Desc));
        assert!(matches!(window.fetch_order(Order::Desc), Order::Asc));
        let (rows, more) = window.settle(vec![9, 8, 7]);
        assert_eq!(rows, vec![8, 9]);
        assert!(more);
    }

    #[test]
    fn a_short_page_says_nothing_lies_beyond_it() {
        let window = Window::<i64>::first(5);
        assert!(matches!(window.fetch_order(Order::Desc), Order::Desc));
        assert_eq!(window.settle(vec![1, 2]), (vec![1, 2], false));
    }
}
