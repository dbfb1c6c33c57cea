//! Waiting until an association is really in use.

use std::fmt;
use std::time::Duration;

use crate::model::HaVip;
use crate::Error;

/// The waiter's deadline passed before the wanted state was observed.
#[derive(Debug)]
#[non_exhaustive]
pub struct WaiterTimedOut {
    /// What was being waited for, e.g. `havip-1 in use by i-1`.
    pub goal: String,
    /// How long the waiter ran.
    pub elapsed: Duration,
    /// How many polls it made.
    pub polls: u32,
    /// The last HAVIP it observed (`None` if no poll succeeded).
    pub last_observed: Option<HaVip>,
    /// The last poll error, if the last poll failed with a transient error.
    pub last_error: Option<Box<Error>>,
}

impl fmt::Display for WaiterTimedOut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "timed out after {:.1?} and {} poll(s) waiting for {}",
            self.elapsed, self.polls, self.goal
        )?;
        match &self.last_observed {
            Some(h) => write!(f, "; last seen: {}", describe_state(h, &self.goal))?,
            None => f.write_str("; no successful poll")?,
        }
        if let Some(e) = &self.last_error {
            write!(f, "; last poll error: {e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for WaiterTimedOut {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.last_error.as_deref().map(|e| e as _)
    }
}

/// The waiter observed a state from which the wanted state cannot be reached (the HAVIP is gone
/// or being deleted).
#[derive(Debug)]
#[non_exhaustive]
pub struct WaiterFailureState {
    /// What was being waited for.
    pub goal: String,
    /// Why this state is final.
    pub reason: String,
    /// How long the waiter ran.
    pub elapsed: Duration,
    /// How many polls it made.
    pub polls: u32,
    /// The HAVIP as last observed (`None` when it no longer exists).
    pub observed: Option<HaVip>,
}

impl fmt::Display for WaiterFailureState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "gave up waiting for {} after {:.1?} and {} poll(s): {}",
            self.goal, self.elapsed, self.polls, self.reason
        )
    }
}

impl std::error::Error for WaiterFailureState {}

/// A waiter's poll failed with an error retrying will not cure.
#[derive(Debug)]
#[non_exhaustive]
pub struct WaiterOperationFailed {
    /// What was being waited for.
    pub goal: String,
    /// How long the waiter ran.
    pub elapsed: Duration,
    /// How many polls it made.
    pub polls: u32,
    /// The poll's error.
    pub source: Error,
}

impl fmt::Display for WaiterOperationFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "waiting for {} failed at poll {} after {:.1?}: {}",
            self.goal, self.polls, self.elapsed, self.source
        )
    }
}

impl std::error::Error for WaiterOperationFailed {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

fn describe_state(h: &HaVip, _goal: &str) -> String {
    let assoc: Vec<String> = h
        .associated_instances
        .iter()
        .map(|a| format!("{} {}", a.instance_id, a.status))
        .collect();
    if assoc.is_empty() {
        format!("HAVIP {} with no associations", h.status)
    } else {
        format!("HAVIP {} with {}", h.status, assoc.join(", "))
    }
}
