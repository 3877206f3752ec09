//! An API's limits and cost model ([`Limits`]), the one place requests are counted: the plan
//! sizes removal chunks with it, a chunk is cut into requests with it ([`Limits::batches`]),
//! and the report's requests, its rate-limit floor and the cost estimate count with it
//! ([`Limits::requests`]). Autopilot: 100 contacts a request and a request per removal. Ortto:
//! up to 100 people a request, removals among them.

use serde::{Deserialize, Serialize};
use std::ops::Range;

/// What one request of an API carries at most, and whether removals share requests with
/// upserts. Stored in each plan, so an export is cut into the same requests however long it
/// takes to finish.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// Contacts (and removals sharing the request) in one request.
    pub batch_size: usize,
    /// Bytes in one request's body.
    pub max_body_bytes: usize,
    /// Removals in one request.
    pub removals_per_request: usize,
    /// Whether removals and upserts go in the same requests, `batch_size` of them together.
    pub removals_share_requests: bool,
}

/// One request's share of a chunk: positions of its removals and of its contacts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    pub removals: Range<usize>,
    pub contacts: Range<usize>,
}

impl Batch {
    /// Removals and contacts it carries.
    pub fn items(&self) -> usize {
        self.removals.len() + self.contacts.len()
    }
}

impl Limits {
    /// Removals carried by one request at most (never more than a request's batch).
    fn removals_each(&self) -> usize {
        let each = self.removals_per_request.max(1);
        if self.removals_share_requests {
            each.min(self.batch_size.max(1))
        } else {
            each
        }
    }

    /// The requests `removals` removals and `contacts` contacts are sent in, in order: the
    /// removals first, then the contacts; each within the limits. Always the same for the same
    /// counts, so stored progress can name requests by position.
    pub fn batches(&self, removals: usize, contacts: usize) -> Vec<Batch> {
        let size = self.batch_size.max(1);
        let each = self.removals_each();
        let mut batches =
            Vec::with_capacity(self.requests(removals as u64, contacts as u64) as usize);
        let (mut r, mut c) = (0, 0);
        while r < removals || c < contacts {
            let take_r = each.min(removals - r);
            let room = if take_r == 0 || self.removals_share_requests {
                size - take_r.min(size)
            } else {
                0
            };
            let take_c = room.min(contacts - c);
            batches.push(Batch {
                removals: r..r + take_r,
                contacts: c..c + take_c,
            });
            (r, c) = (r + take_r, c + take_c);
        }
        batches
    }

    /// How many requests [`Limits::batches`] makes of `removals` and `contacts`.
    pub fn requests(&self, removals: u64, contacts: u64) -> u64 {
        let size = self.batch_size.max(1) as u64;
        let each = self.removals_each() as u64;
        let with_removals = removals.div_ceil(each);
        let carried = if self.removals_share_requests {
            contacts.min(with_removals * size - removals)
        } else {
            0
        };
        with_removals + (contacts - carried).div_ceil(size)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn limits(batch_size: usize, removals_per_request: usize, share: bool) -> Limits {
        Limits {
            batch_size,
            max_body_bytes: 2 * 1024 * 1024,
            removals_per_request,
            removals_share_requests: share,
        }
    }

    #[test]
    fn a_request_per_removal_then_contacts_by_the_hundred() {
        let one_each = limits(100, 1, false);
        let batches = one_each.batches(2, 250);
        let shown: Vec<(Range<usize>, Range<usize>)> = batches
            .into_iter()
            .map(|b| (b.removals, b.contacts))
            .collect();
        assert_eq!(
            shown,
            [
                (0..1, 0..0),
                (1..2, 0..0),
                (2..2, 0..100),
                (2..2, 100..200),
                (2..2, 200..250)
            ]
        );
        assert_eq!(one_each.requests(2, 250), 5);
        // The demo's 100,000 profiles in two overlapping segments of 60,000 each.
        assert_eq!(one_each.requests(0, 120_000), 1_200);
        assert_eq!(one_each.requests(1_000, 1_000), 1_010);
    }

    #[test]
    fn removals_sharing_requests_cost_one_request_a_hundred_changes() {
        let shared = limits(100, 100, true);
        assert_eq!(shared.requests(1_000, 1_000), 20);
        assert_eq!(shared.requests(50, 60), 2);
        let batches = shared.batches(50, 60);
        assert_eq!(batches[0].removals, 0..50);
        assert_eq!(batches[0].contacts, 0..50);
        assert_eq!(batches[1].contacts, 50..60);
        assert!(shared.batches(0, 0).is_empty());
    }

    proptest! {
        #[test]
        fn batches_carry_every_item_once_in_order_within_the_limits(
            removals in 0usize..700,
            contacts in 0usize..700,
            batch_size in 1usize..150,
            removals_per_request in 1usize..150,
            share: bool,
        ) {
            let limits = limits(batch_size, removals_per_request, share);
            let batches = limits.batches(removals, contacts);
            prop_assert_eq!(batches.len() as u64, limits.requests(removals as u64, contacts as u64));
            let (mut r, mut c) = (0, 0);
            for batch in &batches {
                prop_assert!(batch.items() > 0);
                prop_assert_eq!(batch.removals.start, r);
                prop_assert_eq!(batch.contacts.start, c);
                prop_assert!(batch.removals.len() <= removals_per_request);
                prop_assert!(batch.contacts.len() <= batch_size);
                if share {
                    prop_assert!(batch.items() <= batch_size);
                } else {
                    prop_assert!(batch.removals.is_empty() || batch.contacts.is_empty());
                }
                (r, c) = (batch.removals.end, batch.contacts.end);
            }
            prop_assert_eq!((r, c), (removals, contacts));
        }
    }
}
