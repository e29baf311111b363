//! The one settings file (TOML) and the `TEXTBACK_*` environment variables that override it.
//!
//! Every key has a default except what only the business can know (its name, numbers, booking
//! link), so a minimal file is a few lines. Secrets are never read from here: credentials come
//! from the environment or the OS keychain.
//!
//! To add a key: add it to the section struct with `#[serde(default = ...)]`, document it in
//! README.md's configuration reference, and validate it in [`Config::validate`] with an error
//! that names the key.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use textback_domain::compliance::KeywordReplies;
use textback_domain::escalation::EscalationPolicy;
use textback_domain::followup::SequenceConfig;
use textback_domain::sending_hours::SendingHours;
use textback_domain::shifts::{Roster, ShiftsConfig};
use textback_domain::{
    BusinessHours, ClassifyRules, HumanDuration, PhoneNumber, PolicyRules, Region, RenderContext,
    Template, TemplateKind, WeeklyHours, default_template,
};

/// Names of the environment variables, exactly as documented.
pub mod env {
    pub const CONFIG: &str = "TEXTBACK_CONFIG";
    pub const DATA_DIR: &str = "TEXTBACK_DATA_DIR";
    pub const ACCOUNT_SID: &str = "TEXTBACK_TWILIO_ACCOUNT_SID";
    pub const AUTH_TOKEN: &str = "TEXTBACK_TWILIO_AUTH_TOKEN";
    pub const API_KEY_SID: &str = "TEXTBACK_TWILIO_API_KEY_SID";
    pub const API_KEY_SECRET: &str = "TEXTBACK_TWILIO_API_KEY_SECRET";
    pub const API_BASE: &str = "TEXTBACK_TWILIO_API_BASE";
}

pub const DEFAULT_API_BASE: &str = "https://api.twilio.com";

/// The longest duration any key accepts, in seconds (a year, leap day included: "366d").
pub const MAX_DURATION_SECS: u64 = 366 * 24 * 3600;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write the config file {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the config file {path} is not valid: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
}

impl ConfigError {
    fn invalid(field: &str, message: impl Into<String>) -> Self {
        ConfigError::Invalid {
            field: field.to_owned(),
            message: message.into(),
        }
    }
}

/// The whole settings file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub business: Business,
    #[serde(default)]
    pub numbers: Vec<BusinessNumber>,
    #[serde(default)]
    pub textback: TextBack,
    #[serde(default)]
    pub provider: ProviderSettings,
    #[serde(default)]
    pub engine: EngineSettings,
    #[serde(default)]
    pub staff: Vec<Staff>,
    #[serde(default)]
    pub app: AppSettings,
    #[serde(default)]
    pub backup: BackupSettings,
    /// The follow-up touches after the text-back.
    #[serde(default)]
    pub followup: SequenceConfig,
    /// When automatic messages may reach a customer (their time zone, state quiet hours).
    #[serde(default)]
    pub sending_hours: SendingHours,
    /// Who works when: the weekly rota, one-off changes, the after-hours on-call person.
    #[serde(default)]
    pub shifts: ShiftsConfig,
    /// When a lead needs a person now, and how hard to chase them.
    #[serde(default)]
    pub escalation: EscalationPolicy,
    #[serde(default)]
    pub leads: LeadSettings,
    /// Replies to STOP and HELP.
    #[serde(default)]
    pub compliance: KeywordReplies,
    /// Calendar integrations that mark leads booked (Cal.com).
    #[serde(default)]
    pub bookings: crate::bookings::BookingSettings,
    /// Which fields the environment set (shown read-only by the app); never written to the file.
    #[serde(skip)]
    pub env_locked: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Business {
    #[serde(default = "default_business_name")]
    pub name: String,
    #[serde(default)]
    pub booking_link: String,
    /// Default region for numbers written without a country code.
    #[serde(default)]
    pub region: Region,
    #[serde(default = "default_time_zone")]
    pub time_zone: String,
    #[serde(default = "default_hours")]
    pub hours: BTreeMap<String, String>,
    #[serde(default)]
    pub holidays: Vec<chrono::NaiveDate>,
}

impl Default for Business {
    fn default() -> Self {
        Self {
            name: default_business_name(),
            booking_link: String::new(),
            region: Region::default(),
            time_zone: default_time_zone(),
            hours: default_hours(),
            holidays: Vec::new(),
        }
    }
}

fn default_business_name() -> String {
    "Our business".into()
}
fn default_time_zone() -> String {
    "America/New_York".into()
}
fn default_hours() -> BTreeMap<String, String> {
    ["mon", "tue", "wed", "thu", "fri"]
        .iter()
        .map(|d| (d.to_string(), "08:00-17:00".to_string()))
        .chain(
            ["sat", "sun"]
                .iter()
                .map(|d| (d.to_string(), "closed".to_string())),
        )
        .collect()
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BusinessNumber {
    pub number: PhoneNumber,
    /// The number is answered by a phone menu (IVR): a call the menu picked up counts as
    /// answered even if no person did.
    #[serde(default)]
    pub answered_by_ivr: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TextBack {
    #[serde(default = "tpl_business_hours")]
    pub business_hours_template: Template,
    #[serde(default = "tpl_after_hours")]
    pub after_hours_template: Template,
    #[serde(default = "tpl_late")]
    pub late_template: Template,
    #[serde(default = "d_24h")]
    pub dedupe_window: HumanDuration,
    #[serde(default = "d_0s")]
    pub grace_window: HumanDuration,
    #[serde(default = "d_2h")]
    pub freshness_limit: HumanDuration,
    #[serde(default = "d_3s")]
    pub answered_min_duration: HumanDuration,
}

impl Default for TextBack {
    fn default() -> Self {
        Self {
            business_hours_template: tpl_business_hours(),
            after_hours_template: tpl_after_hours(),
            late_template: tpl_late(),
            dedupe_window: d_24h(),
            grace_window: d_0s(),
            freshness_limit: d_2h(),
            answered_min_duration: d_3s(),
        }
    }
}

fn builtin(kind: TemplateKind) -> Template {
    // The built-in texts are checked by the domain crate's tests; a failure here is a bug.
    Template::parse(default_template(kind))
        .unwrap_or_else(|e| panic!("built-in {kind} template: {e}"))
}
fn tpl_business_hours() -> Template {
    builtin(TemplateKind::BusinessHours)
}
fn tpl_after_hours() -> Template {
    builtin(TemplateKind::AfterHours)
}
fn tpl_late() -> Template {
    builtin(TemplateKind::Late)
}
fn d_24h() -> HumanDuration {
    HumanDuration::from_secs(24 * 3600)
}
fn d_0s() -> HumanDuration {
    HumanDuration::from_secs(0)
}
fn d_2h() -> HumanDuration {
    HumanDuration::from_secs(2 * 3600)
}
fn d_3s() -> HumanDuration {
    HumanDuration::from_secs(3)
}
fn d_1s() -> HumanDuration {
    HumanDuration::from_secs(1)
}
fn d_15s() -> HumanDuration {
    HumanDuration::from_secs(15)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderSettings {
    #[serde(default = "default_kind")]
    pub kind: String,
    #[serde(default = "default_api_base")]
    pub api_base: String,
    #[serde(default = "d_15s")]
    pub request_timeout: HumanDuration,
}

impl Default for ProviderSettings {
    fn default() -> Self {
        Self {
            kind: default_kind(),
            api_base: default_api_base(),
            request_timeout: d_15s(),
        }
    }
}

fn default_kind() -> String {
    "twilio".into()
}
fn default_api_base() -> String {
    DEFAULT_API_BASE.into()
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EngineSettings {
    /// This process sends automatic messages (text-backs). Exactly one process per business
    /// number should be the responder; the others sync, show and send what a person types.
    #[serde(default = "yes")]
    pub responder: bool,
    #[serde(default = "d_1s")]
    pub poll_interval: HumanDuration,
    /// Where the database and logs live. Default: the platform's data directory.
    #[serde(default)]
    pub data_dir: Option<PathBuf>,
}

impl Default for EngineSettings {
    fn default() -> Self {
        Self {
            responder: true,
            poll_interval: d_1s(),
            data_dir: None,
        }
    }
}

fn yes() -> bool {
    true
}

/// The rolling backup of the database (see `textback_store::backup`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackupSettings {
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Where backups go. Default: `backups` beside the database (`<data_dir>/backups`); a
    /// relative path is taken from the database's folder.
    #[serde(default)]
    pub dir: Option<PathBuf>,
    /// How many backups to keep; the oldest beyond this are deleted after a good one is made.
    #[serde(default = "default_keep")]
    pub keep: u32,
    #[serde(default = "d_24h")]
    pub interval: HumanDuration,
}

impl Default for BackupSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            dir: None,
            keep: default_keep(),
            interval: d_24h(),
        }
    }
}

fn default_keep() -> u32 {
    7
}

/// Desktop-app preferences (ignored by the daemon).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppSettings {
    /// Repeat the alert for an unread reply at this interval until the conversation is opened.
    #[serde(default = "d_5m")]
    pub alert_repeat: HumanDuration,
    #[serde(default = "default_canned")]
    pub canned_replies: Vec<String>,
    #[serde(default)]
    pub launch_at_login: bool,
}

impl Default for AppSettings {
    fn default() -> Self {
        Self {
            alert_repeat: d_5m(),
            canned_replies: default_canned(),
            launch_at_login: false,
        }
    }
}

fn d_5m() -> HumanDuration {
    HumanDuration::from_secs(300)
}

fn default_canned() -> Vec<String> {
    vec![
        "Thanks! What's the address, and when works best for you?".into(),
        "We can be there today. Does 2-4pm work?".into(),
        "Got it, someone will call you back within the hour.".into(),
    ]
}

/// A member of staff (`[[staff]]`): name, role, phone for pages, desk for alerts.
pub use textback_domain::shifts::StaffMember as Staff;

/// Where the config file is: `--config`, else `TEXTBACK_CONFIG`, else the platform default.
pub fn resolve_path(flag: Option<&Path>, vars: &dyn Fn(&str) -> Option<String>) -> PathBuf {
    flag.map(Path::to_path_buf)
        .or_else(|| vars(env::CONFIG).map(PathBuf::from))
        .unwrap_or_else(default_config_path)
}

fn home() -> PathBuf {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// `$XDG_CONFIG_HOME/textback/textback.toml` (or `~/.config/...`).
pub fn default_config_path() -> PathBuf {
    std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| home().join(".config"))
        .join("textback")
        .join("textback.toml")
}

/// `$XDG_DATA_HOME/textback` (or `~/.local/share/textback`).
pub fn default_data_dir() -> PathBuf {
    std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| home().join(".local").join("share"))
        .join("textback")
}

impl Config {
    /// Parses and validates TOML text. `path` only labels errors.
    pub fn from_toml(text: &str, path: &Path) -> Result<Self, ConfigError> {
        let config: Config = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        config.validate()?;
        Ok(config)
    }

    /// Reads the file (a missing file is an empty config: the first start needs no init step),
    /// then applies the environment.
    pub fn load(path: &Path, vars: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(source) => {
                return Err(ConfigError::Read {
                    path: path.to_path_buf(),
                    source,
                });
            }
        };
        let mut config = Self::from_toml(&text, path)?;
        config.apply_env(vars)?;
        Ok(config)
    }

    /// Environment variables win over the file.
    pub fn apply_env(&mut self, vars: &dyn Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        if let Some(dir) = vars(env::DATA_DIR).filter(|v| !v.trim().is_empty()) {
            self.engine.data_dir = Some(PathBuf::from(dir));
            self.env_locked.push("engine.data_dir".into());
        }
        if let Some(base) = vars(env::API_BASE).filter(|v| !v.trim().is_empty()) {
            self.provider.api_base = base.trim().to_owned();
            self.env_locked.push("provider.api_base".into());
        }
        self.validate()
    }

    /// Writes the file atomically (temp file + rename), so a crash never leaves half a config.
    pub fn save(&self, path: &Path) -> Result<(), ConfigError> {
        self.validate()?;
        let text = toml::to_string_pretty(self)
            .map_err(|e| ConfigError::invalid("config", e.to_string()))?;
        let write_err = |source| ConfigError::Write {
            path: path.to_path_buf(),
            source,
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(write_err)?;
        }
        let tmp = path.with_extension("toml.tmp");
        std::fs::write(&tmp, text).map_err(write_err)?;
        std::fs::rename(&tmp, path).map_err(write_err)
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.business.name.trim().is_empty() {
            return Err(ConfigError::invalid("business.name", "must not be empty"));
        }
        self.business_hours()?;
        let link = self.business.booking_link.trim();
        if !(link.is_empty() || link.starts_with("https://") || link.starts_with("http://")) {
            return Err(ConfigError::invalid(
                "business.booking_link",
                format!("expected a web address starting with https://, got {link:?}"),
            ));
        }
        let mut seen = std::collections::BTreeSet::new();
        for (i, n) in self.numbers.iter().enumerate() {
            if !seen.insert(n.number.as_str()) {
                return Err(ConfigError::invalid(
                    &format!("numbers[{i}].number"),
                    format!("{} is listed twice", n.number),
                ));
            }
        }
        if self.provider.kind != "twilio" {
            return Err(ConfigError::invalid(
                "provider.kind",
                format!(
                    "only \"twilio\" is supported so far, got {:?}",
                    self.provider.kind
                ),
            ));
        }
        check_api_base(&self.provider.api_base).map_err(|m| {
            ConfigError::invalid("provider.api_base (or TEXTBACK_TWILIO_API_BASE)", m)
        })?;
        for (field, duration) in [
            ("textback.dedupe_window", self.textback.dedupe_window),
            ("textback.grace_window", self.textback.grace_window),
            ("textback.freshness_limit", self.textback.freshness_limit),
            (
                "textback.answered_min_duration",
                self.textback.answered_min_duration,
            ),
            ("provider.request_timeout", self.provider.request_timeout),
            ("engine.poll_interval", self.engine.poll_interval),
            ("app.alert_repeat", self.app.alert_repeat),
        ] {
            // NOTE: a bound, not a taste: "now + 1000000000000d" overflowed and panicked the
            // poll loop (Instant) and the UTC date arithmetic.
            if duration.as_secs() > MAX_DURATION_SECS {
                let most = HumanDuration::from_secs(MAX_DURATION_SECS);
                return Err(ConfigError::invalid(
                    field,
                    format!("\"{duration}\" is too long; the most is \"{most}\""),
                ));
            }
        }
        if self.engine.poll_interval.as_secs() == 0 {
            return Err(ConfigError::invalid(
                "engine.poll_interval",
                "must be at least \"1s\"",
            ));
        }
        if self.backup.interval.as_secs() < 60 || self.backup.interval.as_secs() > MAX_DURATION_SECS
        {
            return Err(ConfigError::invalid(
                "backup.interval",
                format!(
                    "\"{}\" is out of range; use \"1m\" to \"{}\" (the default is \"24h\")",
                    self.backup.interval,
                    HumanDuration::from_secs(MAX_DURATION_SECS)
                ),
            ));
        }
        if !(1..=1000).contains(&self.backup.keep) {
            return Err(ConfigError::invalid(
                "backup.keep",
                format!(
                    "{} is out of range; keep 1 to 1000 backups (the default is 7)",
                    self.backup.keep
                ),
            ));
        }
        if self.provider.request_timeout.as_secs() == 0 {
            return Err(ConfigError::invalid(
                "provider.request_timeout",
                "must be at least \"1s\"",
            ));
        }
        self.validate_lifecycle()
    }

    /// The lead lifecycle's sections: the sequence, the roster, escalation, bookings.
    fn validate_lifecycle(&self) -> Result<(), ConfigError> {
        self.followup
            .validate()
            .map_err(|e| ConfigError::invalid("followup", e.to_string()))?;
        let tz = self.business_hours()?.tz;
        textback_domain::shifts::Roster::new(tz, self.staff.clone(), self.shifts.clone())
            .map_err(|e| ConfigError::invalid("shifts", e.to_string()))?;
        let roster = self.roster();
        self.escalation
            .validate(&roster)
            .map_err(|e| ConfigError::invalid("escalation", e.to_string()))?;
        self.compliance
            .validate()
            .map_err(|e| ConfigError::invalid("compliance", e.to_string()))?;
        let calcom = &self.bookings.calcom;
        if calcom.enabled {
            check_api_base(&calcom.api_base)
                .map_err(|m| ConfigError::invalid("bookings.calcom.api_base", m))?;
            if calcom.poll_interval.as_secs() < 10 {
                return Err(ConfigError::invalid(
                    "bookings.calcom.poll_interval",
                    "must be at least \"10s\" (Cal.com limits requests per minute)",
                ));
            }
        }
        Ok(())
    }

    pub fn business_hours(&self) -> Result<BusinessHours, ConfigError> {
        let tz = textback_domain::hours::parse_tz(&self.business.time_zone)
            .map_err(|e| ConfigError::invalid("business.time_zone", e.to_string()))?;
        let mut weekly = WeeklyHours::closed();
        for (day, spec) in &self.business.hours {
            let field = format!("business.hours.{day}");
            let weekday = day.parse::<chrono::Weekday>().map_err(|_| {
                ConfigError::invalid(
                    &field,
                    "expected a day name: mon, tue, wed, thu, fri, sat or sun",
                )
            })?;
            weekly = weekly
                .with_day(weekday, spec)
                .map_err(|e| ConfigError::invalid(&field, e.to_string()))?;
        }
        Ok(BusinessHours::new(
            tz,
            weekly,
            self.business.holidays.clone(),
        ))
    }

    pub fn policy(&self) -> PolicyRules {
        PolicyRules {
            dedupe_window: self.textback.dedupe_window,
            grace_window: self.textback.grace_window,
            freshness_limit: self.textback.freshness_limit,
        }
    }

    pub fn classify_rules(&self, number: &PhoneNumber) -> ClassifyRules {
        ClassifyRules {
            answered_min_duration: self.textback.answered_min_duration.as_std(),
            answered_by_ivr: self
                .numbers
                .iter()
                .any(|n| &n.number == number && n.answered_by_ivr),
        }
    }

    pub fn data_dir(&self) -> PathBuf {
        self.engine
            .data_dir
            .clone()
            .unwrap_or_else(default_data_dir)
    }

    /// Points this config at a demo simulator: its one number, its base URL, this process as the
    /// responder, and a demo business unless the user already set one up.
    pub fn use_demo_simulator(&mut self, base_url: &str, number: PhoneNumber) {
        self.numbers = vec![BusinessNumber {
            number,
            answered_by_ivr: false,
        }];
        self.provider.api_base = base_url.to_owned();
        self.engine.responder = true;
        if self.business.booking_link.is_empty() {
            self.business.name = "Demo Plumbing & Heating".into();
            self.business.booking_link = "https://book.example.com/demo".into();
        }
    }

    pub fn is_staff(&self, phone: &PhoneNumber) -> bool {
        self.staff.iter().any(|s| s.phone.as_ref() == Some(phone))
    }
}

/// `https://` anywhere; `http://` only to this machine (tests and demo mode).
pub fn check_api_base(base: &str) -> Result<(), String> {
    let rest = if let Some(r) = base.strip_prefix("https://") {
        r
    } else if let Some(r) = base.strip_prefix("http://") {
        let host = r.split(['/', '?']).next().unwrap_or_default();
        let host = if let Some(h) = host.strip_prefix('[') {
            h.split(']').next().unwrap_or_default()
        } else {
            host.rsplit_once(':').map(|(h, _)| h).unwrap_or(host)
        };
        let loopback = host == "localhost"
            || host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback());
        if !loopback {
            return Err(format!(
                "{base:?} uses plain http:// to another machine; use https:// (http:// is only for 127.0.0.1)"
            ));
        }
        r
    } else {
        return Err(format!("{base:?} must start with https://"));
    };
    if rest.is_empty() || rest.starts_with('/') {
        return Err(format!("{base:?} has no host"));
    }
    Ok(())
}

/// `[leads]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LeadSettings {
    /// An open lead with no call, message or action for this long closes (as lost).
    pub inactivity: HumanDuration,
}

impl Default for LeadSettings {
    fn default() -> Self {
        Self {
            inactivity: HumanDuration::from_secs(7 * 24 * 3600),
        }
    }
}

impl Config {
    /// A keyword reply's text (no lead, so no first name or tracked link).
    pub fn render_reply(&self, t: &Template) -> String {
        t.render(&RenderContext {
            business_name: &self.business.name,
            booking_link: &self.business.booking_link,
            first_name: None,
        })
    }

    /// The roster (staff + shifts in the business's time zone); an empty one if the config's
    /// is inconsistent (validation reports that).
    pub fn roster(&self) -> Roster {
        let tz = self.business_hours().map_or(chrono_tz::UTC, |h| h.tz);
        Roster::new(tz, self.staff.clone(), self.shifts.clone())
            .or_else(|_| Roster::new(tz, self.staff.clone(), ShiftsConfig::default()))
            .unwrap_or_else(|_| {
                Roster::new(tz, Vec::new(), ShiftsConfig::default())
                    .expect("an empty roster is valid")
            })
    }

    /// When the next follow-up goes out after `touches_sent` touches, the last at `last`.
    pub fn next_follow_up_at(
        &self,
        touches_sent: u32,
        last: DateTime<Utc>,
        to: &PhoneNumber,
    ) -> Option<DateTime<Utc>> {
        if !self.followup.enabled {
            return None;
        }
        let hours = self.business_hours().ok()?;
        textback_domain::followup::next_touch(
            &self.followup,
            touches_sent,
            last,
            &hours,
            &self.sending_hours,
            to,
        )
    }

    /// The first instant at or after `at` when an automatic message may reach `to`.
    pub fn allowed_send_at(&self, to: &PhoneNumber, at: DateTime<Utc>) -> DateTime<Utc> {
        let tz = self.business_hours().map_or(chrono_tz::UTC, |h| h.tz);
        self.sending_hours.next_allowed(to, tz, at)
    }
}
