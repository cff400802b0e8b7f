//! The background check of a source's read replicas: which are reachable, still replicas, and
//! within `maxReplicaLag` of the primary.
//!
//! Lag is measured by position, not by the replica's replay timestamp (`now() -
//! pg_last_xact_replay_timestamp()` grows while the primary is idle, so an idle primary would
//! make every replica look late). Each round samples the primary's WAL position
//! (`pg_current_wal_lsn()`) with the time it was read; a replica that has replayed up to a sample
//! taken at time `t` holds everything the primary had at `t`, so its lag is at most `now - t`.
//! When the primary cannot be read, a replica counts as caught up when it has replayed all it
//! received, else by its replay timestamp. One round every `maxReplicaLag / 5` (from 100 ms to
//! 1 s), on connections of its own, never on a call's path.

use super::replicas::{Member, Shared};
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{ConnectOptions, Connection};
use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// What a replica says of itself.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct ReplicaState {
    pub in_recovery: bool,
    /// Bytes of WAL replayed (`pg_last_wal_replay_lsn()`).
    pub replayed: Option<i64>,
    /// It has replayed everything it received.
    pub caught_up: bool,
    /// Seconds since the last transaction it replayed committed on the primary.
    pub replay_age: Option<f64>,
}

/// Whether a replica serves reads, or why not.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Verdict {
    Serves,
    Skipped(String),
    /// Not enough history yet to tell: keep what was decided before.
    Unknown,
}

/// Judges a replica from its state and the primary's positions over the window, newest last.
pub(super) fn judge(
    state: &ReplicaState,
    samples: &VecDeque<(Instant, i64)>,
    now: Instant,
    max_lag: Duration,
) -> Verdict {
    if !state.in_recovery {
        return Verdict::Skipped("it is not in recovery (not a replica, or promoted)".into());
    }
    let Some(replayed) = state.replayed else {
        return Verdict::Skipped("it reports no replayed position".into());
    };
    let Some((oldest, _)) = samples.front() else {
        // The primary cannot be read: judge by the replica alone.
        return if state.caught_up || state.replay_age.is_some_and(|a| a <= max_lag.as_secs_f64()) {
            Verdict::Serves
        } else {
            Verdict::Skipped(match state.replay_age {
                Some(age) => format!("it lags {age:.1} s behind (more than {:?})", max_lag),
                None => "it has replayed nothing yet".into(),
            })
        };
    };
    match samples.iter().rev().find(|(_, position)| *position <= replayed) {
        Some((at, _)) => {
            let lag = now.saturating_duration_since(*at);
            if lag <= max_lag {
                Verdict::Serves
            } else {
                Verdict::Skipped(format!("it lags {:.1} s behind (more than {:?})", lag.as_secs_f64(), max_lag))
            }
        }
        None if now.saturating_duration_since(*oldest) >= max_lag => Verdict::Skipped(format!(
            "it has not replayed what the primary had {:.1} s ago (more than {:?})",
            now.saturating_duration_since(*oldest).as_secs_f64(),
            max_lag
        )),
        None => Verdict::Unknown,
    }
}

/// How often the replicas are checked.
fn interval(max_lag: Duration) -> Duration {
    (max_lag / 5).clamp(Duration::from_millis(100), Duration::from_secs(1))
}

/// The primary's WAL position in bytes.
async fn primary_position(connection: &mut Option<PgConnection>, options: &PgConnectOptions) -> Result<i64, String> {
    let c = connected(connection, options).await?;
    let position =
        sqlx::query_scalar::<_, i64>("SELECT (pg_current_wal_lsn() - '0/0'::pg_lsn)::int8").fetch_one(&mut *c).await;
    position.map_err(|e| forget(connection, e))
}

async fn replica_state(
    connection: &mut Option<PgConnection>,
    options: &PgConnectOptions,
) -> Result<ReplicaState, String> {
    let c = connected(connection, options).await?;
    let row: Result<(bool, Option<i64>, Option<bool>, Option<f64>), _> = sqlx::query_as(
        "SELECT pg_is_in_recovery(), (pg_last_wal_replay_lsn() - '0/0'::pg_lsn)::int8, \
         pg_last_wal_receive_lsn() <= pg_last_wal_replay_lsn(), \
         EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())::float8",
    )
    .fetch_one(&mut *c)
    .await;
    let (in_recovery, replayed, caught_up, replay_age) = row.map_err(|e| forget(connection, e))?;
    Ok(ReplicaState { in_recovery, replayed, caught_up: caught_up.unwrap_or(false), replay_age })
}

/// The check's own connection, made when there is none, within 2 s.
async fn connected<'c>(
    connection: &'c mut Option<PgConnection>,
    options: &PgConnectOptions,
) -> Result<&'c mut PgConnection, String> {
    if connection.is_none() {
        let made = tokio::time::timeout(Duration::from_secs(2), options.connect()).await;
        *connection = Some(made.map_err(|_| "no answer within 2 s".to_string())?.map_err(|e| message(&e))?);
    }
    Ok(connection.as_mut().expect("connected above"))
}

/// Drops a connection after an error (the next round connects again), giving the error's text.
fn forget(connection: &mut Option<PgConnection>, e: sqlx::Error) -> String {
    if let Some(c) = connection.take() {
        tokio::spawn(c.close_hard());
    }
    message(&e)
}

fn message(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Database(db) => db.message().to_string(),
        other => other.to_string(),
    }
}

/// Checks the replicas for as long as the source is open (the task is aborted when it closes).
pub(super) async fn watch(shared: Arc<Shared>) {
    let every = interval(shared.max_lag);
    let keep = shared.max_lag + every * 2;
    let mut primary: Option<PgConnection> = None;
    let mut connections: Vec<Option<PgConnection>> = shared.members.iter().map(|_| None).collect();
    let mut samples: VecDeque<(Instant, i64)> = VecDeque::new();
    let mut reasons: Vec<Option<String>> = shared.members.iter().map(|_| Some("not checked yet".into())).collect();
    loop {
        let sampled = Instant::now();
        match tokio::time::timeout(every.max(Duration::from_secs(2)), primary_position(&mut primary, &shared.primary))
            .await
        {
            Ok(Ok(position)) => samples.push_back((sampled, position)),
            // The primary's own health is `/readyz`'s business; without it, replicas are judged alone.
            _ => samples.clear(),
        }
        while samples.len() > 1 && samples.front().is_some_and(|(at, _)| sampled.saturating_duration_since(*at) > keep)
        {
            samples.pop_front();
        }
        for ((member, connection), reason) in shared.members.iter().zip(&mut connections).zip(&mut reasons) {
            let state = tokio::time::timeout(Duration::from_secs(3), replica_state(connection, &member.options)).await;
            let verdict = match state {
                Ok(Ok(state)) => judge(&state, &samples, Instant::now(), shared.max_lag),
                Ok(Err(e)) => {
                    member.pool.close_idle();
                    Verdict::Skipped(format!("it cannot be reached: {e}"))
                }
                Err(_) => {
                    member.pool.close_idle();
                    *connection = None;
                    Verdict::Skipped("it did not answer within 3 s".into())
                }
            };
            report(&shared, member, verdict, reason);
        }
        tokio::time::sleep(every.saturating_sub(sampled.elapsed())).await;
    }
}

/// Applies a verdict, logging only changes.
fn report(shared: &Shared, member: &Member, verdict: Verdict, reason: &mut Option<String>) {
    match verdict {
        Verdict::Unknown => {}
        Verdict::Serves => {
            member.healthy.store(true, Ordering::Relaxed);
            if reason.take().is_some() {
                tracing::info!(source = shared.source, "{} serves reads", member.label);
            }
        }
        Verdict::Skipped(why) => {
            member.healthy.store(false, Ordering::Relaxed);
            // Logged when the kind of reason changes, not each time its figures do.
            let kind =
                |s: &str| s.split(|c: char| c.is_ascii_digit() || c == ':').next().unwrap_or_default().to_string();
            if reason.as_deref().map(kind) != Some(kind(&why)) {
                tracing::warn!(
                    source = shared.source,
                    "{} skipped: {why}; its reads go to the other replicas or the primary",
                    member.label
                );
            }
            *reason = Some(why);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LAG: Duration = Duration::from_secs(5);

    fn replica(replayed: i64) -> ReplicaState {
        ReplicaState { in_recovery: true, replayed: Some(replayed), caught_up: true, replay_age: Some(3600.0) }
    }

    #[test]
    fn an_idle_primary_does_not_make_a_replica_late() {
        let now = Instant::now();
        // The primary has written nothing for an hour (the replay timestamp says 3600 s); the
        // replica has everything the primary had a second ago.
        let samples: VecDeque<_> = [(now - Duration::from_secs(2), 100), (now - Duration::from_secs(1), 100)].into();
        assert_eq!(judge(&replica(100), &samples, now, LAG), Verdict::Serves);
    }

    #[test]
    fn lag_is_the_age_of_the_newest_position_replayed() {
        let now = Instant::now();
        let samples: VecDeque<_> =
            [(now - Duration::from_secs(7), 100), (now - Duration::from_secs(4), 200), (now, 300)].into();
        assert_eq!(judge(&replica(250), &samples, now, LAG), Verdict::Serves, "4 s behind");
        assert!(matches!(judge(&replica(150), &samples, now, LAG), Verdict::Skipped(why) if why.contains("7.0 s")));
        assert!(matches!(judge(&replica(50), &samples, now, LAG), Verdict::Skipped(_)), "behind the whole window");
        let young: VecDeque<_> = [(now, 300)].into();
        assert_eq!(judge(&replica(250), &young, now, LAG), Verdict::Unknown, "too little history to tell");
    }

    #[test]
    fn without_the_primary_a_replica_is_judged_alone() {
        let now = Instant::now();
        let none = VecDeque::new();
        assert_eq!(judge(&replica(1), &none, now, LAG), Verdict::Serves, "replayed all it received");
        let behind = ReplicaState { caught_up: false, ..replica(1) };
        assert!(matches!(judge(&behind, &none, now, LAG), Verdict::Skipped(_)));
        let promoted = ReplicaState { in_recovery: false, ..replica(1) };
        assert!(matches!(judge(&promoted, &none, now, LAG), Verdict::Skipped(why) if why.contains("not in recovery")));
    }
}
