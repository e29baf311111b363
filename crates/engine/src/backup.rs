//! The rolling backup task, and how trouble with the disk is told to the world.
//!
//! [`Engine::backup_step`] makes a backup (`textback_store::backup`) when none in the backup
//! folder was taken within `[backup] interval` of now, by the engine's clock. The schedule is
//! read from the files' names, never kept in memory, so it survives restarts, and a clock that
//! jumps forward (a laptop waking after three days) makes one backup, not one per missed day;
//! a clock set back makes one for the new "now" and then waits again. Each backup is verified
//! before it is kept; then all but the newest `keep` are deleted, never the one just made.
//! A failed backup is logged each time, told once as [`DomainEvent::BackupFailed`], and tried
//! again [`RETRY`] later; it never stops the engine.
//!
//! The sync and sender loops report their results to [`Engine::note_storage`], which says once
//! that the database cannot be written ([`DomainEvent::StorageProblem`]: disk full, locked by
//! another program, damaged) and once that it can again ([`DomainEvent::StorageRecovered`]).

use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio_util::sync::CancellationToken;

use textback_providers::Provider;
use textback_store::StoreError;
use textback_store::backup::{BackupDir, BackupFile};

use crate::{Config, DomainEvent, Engine, EngineError};

/// How long after a failed backup the next try is (or the interval, if shorter).
pub const RETRY: Duration = Duration::from_secs(15 * 60);
/// The loop looks at the clock at least this often, so a jump of the wall clock (which the
/// sleep, on the monotonic clock, does not see) is noticed within the hour.
const RECHECK: Duration = Duration::from_secs(3600);

/// What one [`Engine::backup_step`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BackupStep {
    /// A verified backup was written.
    Made(BackupFile),
    /// A backup was taken within the interval; the next is due at `next_at`.
    NotDue { next_at: DateTime<Utc> },
    /// No backup could be made (why, for a person); tried again later.
    Failed(String),
    /// `[backup] enabled = false`.
    Disabled,
}

/// Which loop is reporting to [`Engine::note_storage`]: each clears only its own trouble, so a
/// failing sender is not declared healthy by a sync that happened to write something else.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Writer {
    Sync,
    Sender,
}

/// Trouble with the disk that has been told and not yet cleared.
#[derive(Debug, Default)]
pub(crate) struct DiskState {
    /// Indexed by [`Writer`].
    storage: Mutex<[bool; 2]>,
    backup_failing: AtomicBool,
}

/// Where the backups of the database at `db` go: `[backup] dir` (a relative one is taken from
/// the database's folder), else `backups/` beside the database.
pub fn backup_dir(config: &Config, db: &Path) -> BackupDir {
    match &config.backup.dir {
        Some(dir) => BackupDir::new(dir, db),
        None => BackupDir::beside(db),
    }
}

impl<P: Provider> Engine<P> {
    /// Where this engine's backups go (see [`backup_dir`]).
    pub fn backup_dir(&self) -> BackupDir {
        backup_dir(&self.inner.config, self.inner.store.path())
    }

    /// Makes a backup if one is due (see the module docs), verifies it and prunes old ones.
    pub async fn backup_step(&self) -> BackupStep {
        let settings = &self.inner.config.backup;
        if !settings.enabled {
            return BackupStep::Disabled;
        }
        let now = self.now();
        let interval = settings.interval.as_chrono();
        let keep = settings.keep as usize;
        let dir = self.backup_dir();
        let db = self.inner.store.path().to_path_buf();
        // Copying and checking a large file is blocking work: off the async threads.
        let work = tokio::task::spawn_blocking(move || -> Result<BackupStep, StoreError> {
            let backups = dir.list()?;
            if let Some(recent) = backups.iter().find(|b| (now - b.taken_at).abs() < interval) {
                return Ok(BackupStep::NotDue {
                    next_at: recent.taken_at + interval,
                });
            }
            let made = dir.make(&db, now)?;
            match dir.prune(keep, &made.path) {
                Ok(deleted) if !deleted.is_empty() => {
                    tracing::info!(?deleted, "deleted backups beyond backup.keep");
                }
                Ok(_) => {}
                // The new backup is good; old ones are only taking space. Next time.
                Err(e) => tracing::warn!(error = %e, "could not delete old backups"),
            }
            Ok(BackupStep::Made(made))
        })
        .await;
        let step = match work {
            Ok(Ok(step)) => step,
            Ok(Err(e)) => BackupStep::Failed(format!(
                "Textback could not back up its database into {}: {e}. It tries again in {} minutes.",
                self.backup_dir().path().display(),
                RETRY.min(settings.interval.as_std()).as_secs() / 60,
            )),
            Err(e) => BackupStep::Failed(format!("the backup stopped unexpectedly: {e}")),
        };
        match &step {
            BackupStep::Made(b) => {
                tracing::info!(path = %b.path.display(), "backup made and verified");
                self.inner
                    .disk
                    .backup_failing
                    .store(false, Ordering::SeqCst);
                self.emit(DomainEvent::BackupMade {
                    path: b.path.display().to_string(),
                });
            }
            BackupStep::Failed(message) => {
                tracing::warn!("{message}");
                if !self.inner.disk.backup_failing.swap(true, Ordering::SeqCst) {
                    self.emit(DomainEvent::BackupFailed {
                        message: message.clone(),
                    });
                }
            }
            BackupStep::NotDue { .. } | BackupStep::Disabled => {}
        }
        step
    }

    /// Runs [`Engine::backup_step`] until cancelled: at start, then when the next is due.
    pub(crate) async fn backup_loop(self, cancel: CancellationToken) {
        loop {
            let wait = match self.backup_step().await {
                BackupStep::Disabled => return,
                BackupStep::Made(_) => RECHECK,
                BackupStep::NotDue { next_at } => (next_at - self.now())
                    .to_std()
                    .unwrap_or_default()
                    .clamp(Duration::from_secs(1), RECHECK),
                BackupStep::Failed(_) => RETRY.min(self.inner.config.backup.interval.as_std()),
            };
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = tokio::time::sleep(wait) => {}
            }
        }
    }

    /// Records what a loop's step did to the database: `Ok(true)` it wrote, `Ok(false)` it
    /// only read (proves nothing about writing), `Err` it failed. Says once when a storage
    /// problem starts and once when every loop that had it has written again; the loops just
    /// retry.
    pub(crate) fn note_storage(&self, who: Writer, result: Result<bool, &EngineError>) {
        let trouble = match result {
            Ok(true) => None,
            Err(EngineError::Store(e)) if e.is_storage_problem() => Some(e.to_string()),
            Ok(false) | Err(_) => return,
        };
        let (before, after) = {
            let mut state = self
                .inner
                .disk
                .storage
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            let before = state.contains(&true);
            state[who as usize] = trouble.is_some();
            (before, state.contains(&true))
        };
        if before != after {
            self.inner
                .health
                .send_modify(|h| h.storage_problem = trouble.clone());
        }
        match trouble {
            Some(message) if !before => {
                tracing::error!("{message}");
                self.emit(DomainEvent::StorageProblem { message });
            }
            // The loop logs every failed pass already.
            Some(_) => {}
            None if before && !after => {
                tracing::info!("the database is writable again");
                self.emit(DomainEvent::StorageRecovered);
            }
            None => {}
        }
    }
}
