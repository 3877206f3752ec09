//! Isolating the contacts Autopilot refuses in a batch (the method and its cost are in the
//! parent module's documentation).
//!
//! Groups of contacts (positions in the batch, in order) wait on a stack, each either unsent,
//! known to hold a refused contact (with the message of the smallest refused request that held
//! it), or the unsent rest of a request whose refusal named suspects. Halves set aside as probably clean wait in a pool, sent as one group once the stack is
//! empty.

use super::{BulkOutcome, Named, Rejection};
use crate::autopilot::AutopilotClient;
use crate::contact::Contact;
use crate::http_api::ApiError;

/// Pools refused before halves stop being set aside: past it, a batch holds many refused
/// contacts, and sending both halves of each refused range costs less.
const MAX_POOLS_REFUSED: usize = 4;

pub(super) async fn run(
    client: &AutopilotClient,
    list: Option<&str>,
    contacts: &[Contact],
) -> Result<BulkOutcome, ApiError> {
    let mut isolation = Isolation {
        client,
        list,
        contacts,
        outcome: BulkOutcome::default(),
        pending: Vec::new(),
        pool: Vec::new(),
        pools_refused: 0,
    };
    let mut next = Group::unsent((0..contacts.len()).collect(), false);
    loop {
        isolation.pending.push(next);
        while let Some(group) = isolation.pending.pop() {
            isolation.settle(group).await?;
        }
        if isolation.pool.is_empty() {
            break;
        }
        let mut pool = std::mem::take(&mut isolation.pool);
        pool.sort_unstable();
        next = Group::unsent(pool, true);
    }
    isolation.outcome.rejected.sort_by_key(|r| r.index);
    Ok(isolation.outcome)
}

/// Contacts of the batch, by position, and what is known of them.
struct Group {
    positions: Vec<usize>,
    known: Known,
    /// Sent as the pool of halves set aside.
    pool: bool,
}

enum Known {
    Unsent,
    /// Holds a refused contact: Autopilot's message refusing the smallest request that held it.
    Refused(String),
    /// The rest of a request whose refusal named contacts (`suspects`, in the order named, each
    /// with the message that named it): unsent. Taken, it proves the last suspect refused.
    Clearing(Vec<(usize, String)>),
}

impl Group {
    fn unsent(positions: Vec<usize>, pool: bool) -> Self {
        Self {
            positions,
            known: Known::Unsent,
            pool,
        }
    }

    fn refused(positions: Vec<usize>, message: String) -> Self {
        Self {
            positions,
            known: Known::Refused(message),
            pool: false,
        }
    }
}

/// Autopilot's answer to one request.
enum Answer {
    Taken,
    Refused {
        status: u16,
        message: String,
        named: Named,
    },
}

struct Isolation<'a> {
    client: &'a AutopilotClient,
    /// The list the contacts join.
    list: Option<&'a str>,
    contacts: &'a [Contact],
    outcome: BulkOutcome,
    pending: Vec<Group>,
    pool: Vec<usize>,
    pools_refused: usize,
}

impl Isolation<'_> {
    async fn settle(&mut self, group: Group) -> Result<(), ApiError> {
        if group.positions.is_empty() {
            return Ok(());
        }
        match group.known {
            Known::Unsent => match self.send(&group.positions).await? {
                Answer::Taken => self.outcome.written += group.positions.len(),
                Answer::Refused {
                    status,
                    message,
                    named,
                } => self.refused_after(
                    group.positions,
                    status,
                    message,
                    &named,
                    (Vec::new(), group.pool),
                ),
            },
            Known::Clearing(mut suspects) => match self.send(&group.positions).await? {
                Answer::Taken => {
                    self.outcome.written += group.positions.len();
                    // Without it the request was taken, with it refused: it is refused.
                    if let Some((index, message)) = suspects.pop() {
                        self.reject(index, message);
                    }
                    self.retry_alone(suspects);
                }
                Answer::Refused {
                    status,
                    message,
                    named,
                } => {
                    self.refused_after(group.positions, status, message, &named, (suspects, false))
                }
            },
            Known::Refused(message) if group.positions.len() == 1 => {
                self.reject(group.positions[0], message);
            }
            Known::Refused(message) => self.split(group.positions, message).await?,
        }
        Ok(())
    }

    /// What follows a refused request of `positions`: `suspects` when it was the rest of a
    /// named refusal (none for any other request), `pool` when it was the pool of halves.
    fn refused_after(
        &mut self,
        positions: Vec<usize>,
        status: u16,
        message: String,
        named: &Named,
        (mut suspects, pool): (Vec<(usize, String)>, bool),
    ) {
        let request: Vec<&Contact> = positions.iter().map(|&i| &self.contacts[i]).collect();
        let culprits = if status == 413 {
            Vec::new()
        } else {
            named.within(&request)
        };
        if !culprits.is_empty() && culprits.len() < positions.len() {
            // The named are suspects until the rest is taken: an answer that counts from 1, or
            // names a neighbour, must not cost a good contact.
            let mut rest = Vec::with_capacity(positions.len() - culprits.len());
            for (at, &index) in positions.iter().enumerate() {
                if culprits.binary_search(&at).is_ok() {
                    suspects.push((index, message.clone()));
                } else {
                    rest.push(index);
                }
            }
            self.pending.push(Group {
                positions: rest,
                known: Known::Clearing(suspects),
                pool: false,
            });
            return;
        }
        self.retry_alone(suspects);
        self.refused(positions, status, message, pool);
    }

    /// Suspects nothing proved refused: each is sent alone, taken or refused on its own.
    fn retry_alone(&mut self, suspects: Vec<(usize, String)>) {
        for (index, _) in suspects.into_iter().rev() {
            self.pending.push(Group::unsent(vec![index], false));
        }
    }

    /// What follows a refused request of `positions` whose answer named none of them usefully.
    fn refused(&mut self, positions: Vec<usize>, status: u16, message: String, pool: bool) {
        if status == 413 {
            // A body too large says nothing of where a refused contact is: both halves are sent.
            if positions.len() == 1 {
                self.reject(positions[0], message);
            } else {
                self.count_split();
                let (first, second) = positions.split_at(positions.len() / 2);
                self.pending.push(Group::unsent(second.to_vec(), false));
                self.pending.push(Group::unsent(first.to_vec(), false));
            }
            return;
        }
        if pool {
            self.pools_refused += 1;
        }
        if positions.len() == 1 {
            self.reject(positions[0], message);
        } else {
            self.pending.push(Group::refused(positions, message));
        }
    }

    /// Sends the first half of a group known to hold a refused contact; the second is split
    /// unsent when the first is taken, else set aside (or sent, past [`MAX_POOLS_REFUSED`]).
    async fn split(&mut self, positions: Vec<usize>, message: String) -> Result<(), ApiError> {
        self.count_split();
        let (first, second) = positions.split_at(positions.len() / 2);
        match self.send(first).await? {
            Answer::Taken => {
                self.outcome.written += first.len();
                self.pending.push(Group::refused(second.to_vec(), message));
            }
            Answer::Refused {
                status,
                message,
                named,
            } => {
                if status == 413 || self.pools_refused >= MAX_POOLS_REFUSED {
                    self.pending.push(Group::unsent(second.to_vec(), false));
                } else {
                    self.pool.extend_from_slice(second);
                }
                self.refused_after(first.to_vec(), status, message, &named, (Vec::new(), false));
            }
        }
        Ok(())
    }

    async fn send(&self, positions: &[usize]) -> Result<Answer, ApiError> {
        let contacts = positions.iter().map(|&i| &self.contacts[i]);
        match self.client.post_contacts(self.list, contacts).await {
            Ok(()) => Ok(Answer::Taken),
            Err(ApiError::BatchRefused {
                status,
                message,
                answer,
                ..
            }) => Ok(Answer::Refused {
                status,
                message,
                named: Named::from_answer(&answer.0),
            }),
            Err(e) => Err(e),
        }
    }

    fn reject(&mut self, index: usize, message: String) {
        self.outcome.rejected.push(Rejection { index, message });
    }

    fn count_split(&self) {
        self.client.http.count_split();
    }
}
