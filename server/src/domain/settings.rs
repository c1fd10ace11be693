//! The desk's own rules, configurable by admins: the priority matrix, the reopen window,
//! when resolved tickets close themselves, and where unrouted tickets go.

use crate::auth::Caller;
use crate::domain::desk::require_admin;
use chrono::Duration;
use entity::desk_settings;
use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait, sea_query::OnConflict};
use serde::{Deserialize, Serialize};

use super::tickets::types::Level;
use crate::{
    db::Db,
    error::{AppError, AppResult},
};

const ROW_ID: i32 = 1;

/// How the desk runs: the priority matrix, the reopen window, the auto-close period,
/// the default queue and trend detection's thresholds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct DeskSettings {
    /// Priority (1–4) by impact (rows: high, medium, low) and urgency (columns: the same).
    pub priority_matrix: [[i16; 3]; 3],
    pub reopen_window_days: i64,
    pub auto_close_days: i64,
    /// The queue for tickets no rule routes; none leaves them for managers to triage.
    pub default_group_id: Option<i64>,
    /// Trend detection: this many incidents on one CI or category within the window
    /// propose a problem.
    pub problem_trend_incidents: i64,
    pub problem_trend_window_hours: i64,
    /// Mail from an address the desk does not know opens a ticket for a new requester;
    /// otherwise it is set aside.
    pub mail_from_strangers: bool,
    /// An agent resolving a ticket must have recorded time on it first (anyone's).
    pub require_time_to_resolve: bool,
    /// The share of resolutions, 0 to 100, whose requester is asked how satisfied they
    /// are; 0 asks nobody. The same tickets are chosen however often it is asked.
    pub survey_share_percent: i64,
    /// Days a survey may be answered.
    pub survey_expiry_days: i64,
    /// Customers whose requesters are never surveyed.
    pub survey_excluded_organization_ids: Vec<i64>,
    /// Services whose tickets are never surveyed.
    pub survey_excluded_service_ids: Vec<i64>,
    /// An incident raised from alerts resolves itself when all its alerts are resolved
    /// (and none is flapping), with their timeline as its comment.
    pub alert_auto_resolve: bool,
    /// An alert that changes between firing and resolved this many times within the
    /// window is flapping: its incident stays open and is not raised again.
    pub alert_flap_changes: i64,
    pub alert_flap_window_minutes: i64,
    /// A capacity measure forecast to cross its threshold within this many days is
    /// announced (`capacity.forecast`).
    pub capacity_horizon_days: i64,
    /// How many of a measure's latest values the forecast's straight line is fitted to.
    pub capacity_forecast_points: i64,
}

impl Default for DeskSettings {
    /// The ITIL impact × urgency matrix:
    ///
    /// | impact \ urgency | high | medium | low |
    /// | --- | --- | --- | --- |
    /// | high | P1 | P2 | P3 |
    /// | medium | P2 | P3 | P4 |
    /// | low | P3 | P4 | P4 |
    fn default() -> Self {
        DeskSettings {
            priority_matrix: [[1, 2, 3], [2, 3, 4], [3, 4, 4]],
            reopen_window_days: 7,
            auto_close_days: 5,
            default_group_id: None,
            problem_trend_incidents: 3,
            problem_trend_window_hours: 24,
            mail_from_strangers: false,
            require_time_to_resolve: false,
            survey_share_percent: 0,
            survey_expiry_days: 14,
            survey_excluded_organization_ids: Vec::new(),
            survey_excluded_service_ids: Vec::new(),
            alert_auto_resolve: true,
            alert_flap_changes: 3,
            alert_flap_window_minutes: 30,
            capacity_horizon_days: 30,
            capacity_forecast_points: 30,
        }
    }
}

impl DeskSettings {
    /// The priority (1 to 4) the matrix gives an impact and an urgency.
    pub fn priority(&self, impact: Level, urgency: Level) -> i16 {
        self.priority_matrix[impact.index()][urgency.index()]
    }

    /// How long after resolution a ticket may be reopened.
    pub fn flap_window(&self) -> Duration {
        Duration::minutes(self.alert_flap_window_minutes)
    }

    /// The impact and urgency that first give `priority` on the matrix.
    pub fn levels_for(&self, priority: i16) -> Option<(Level, Level)> {
        Level::ALL
            .iter()
            .flat_map(|&i| Level::ALL.iter().map(move |&u| (i, u)))
            .find(|&(i, u)| self.priority(i, u) == priority)
    }

    pub fn reopen_window(&self) -> Duration {
        Duration::days(self.reopen_window_days)
    }

    /// How long after resolution a ticket closes itself.
    pub fn auto_close_after(&self) -> Duration {
        Duration::days(self.auto_close_days)
    }

    /// Whether the settings hold together.
    ///
    /// # Errors
    /// BAD_USER_INPUT naming the setting that does not fit.
    pub fn validate(&self) -> AppResult<()> {
        if self
            .priority_matrix
            .iter()
            .flatten()
            .any(|p| !(1..=4).contains(p))
        {
            return Err(AppError::bad_input(
                "priorityMatrix",
                "every priority must be 1 to 4",
            ));
        }
        if !(0..=365).contains(&self.reopen_window_days) {
            return Err(AppError::bad_input(
                "reopenWindowDays",
                "give 0 to 365 days",
            ));
        }
        if !(1..=365).contains(&self.auto_close_days) {
            return Err(AppError::bad_input("autoCloseDays", "give 1 to 365 days"));
        }
        if !(2..=1000).contains(&self.problem_trend_incidents) {
            return Err(AppError::bad_input(
                "problemTrendIncidents",
                "give 2 to 1000 incidents",
            ));
        }
        if !(1..=24 * 90).contains(&self.problem_trend_window_hours) {
            return Err(AppError::bad_input(
                "problemTrendWindowHours",
                "give 1 to 2160 hours (90 days)",
            ));
        }
        if !(0..=100).contains(&self.survey_share_percent) {
            return Err(AppError::bad_input(
                "surveySharePercent",
                "give 0 (nobody) to 100 (every resolution) percent",
            ));
        }
        if !(1..=90).contains(&self.survey_expiry_days) {
            return Err(AppError::bad_input("surveyExpiryDays", "give 1 to 90 days"));
        }
        if !(2..=100).contains(&self.alert_flap_changes) {
            return Err(AppError::bad_input(
                "alertFlapChanges",
                "give 2 to 100 changes",
            ));
        }
        if !(1..=24 * 60).contains(&self.alert_flap_window_minutes) {
            return Err(AppError::bad_input(
                "alertFlapWindowMinutes",
                "give 1 to 1440 minutes",
            ));
        }
        if !(1..=3650).contains(&self.capacity_horizon_days) {
            return Err(AppError::bad_input(
                "capacityHorizonDays",
                "give 1 to 3650 days",
            ));
        }
        if !(2..=10_000).contains(&self.capacity_forecast_points) {
            return Err(AppError::bad_input(
                "capacityForecastPoints",
                "give 2 to 10000 points",
            ));
        }
        Ok(())
    }
}

/// The desk's settings, or the defaults when none were saved.
///
/// # Errors
/// INTERNAL when the stored settings do not read.
pub async fn load(conn: &impl ConnectionTrait) -> AppResult<DeskSettings> {
    let row = desk_settings::Entity::find_by_id(ROW_ID).one(conn).await?;
    Ok(match row {
        Some(row) => serde_json::from_value(row.settings)
            .map_err(|e| AppError::Internal(format!("desk settings are unreadable: {e}")))?,
        None => DeskSettings::default(),
    })
}

/// Replaces the desk's settings after checking them (and that the default queue is a
/// group that exists).
///
/// # Errors
/// BAD_USER_INPUT naming the field that does not fit.
pub async fn save(db: &Db, caller: &Caller, settings: &DeskSettings) -> AppResult<()> {
    require_admin(caller)?;
    settings.validate()?;
    if let Some(group) = settings.default_group_id {
        crate::domain::lookup::referenced::<entity::group::Entity>(
            db.conn(),
            group,
            "defaultGroupId",
            "group",
        )
        .await?;
    }
    let row = desk_settings::ActiveModel {
        id: Set(ROW_ID),
        settings: Set(serde_json::to_value(settings).expect("settings serialize")),
    };
    let txn = db.begin_write().await?;
    desk_settings::Entity::insert(row)
        .on_conflict(
            OnConflict::column(desk_settings::Column::Id)
                .update_columns([desk_settings::Column::Settings])
                .to_owned(),
        )
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_matrix_is_itils() {
        let s = DeskSettings::default();
        assert_eq!(s.priority(Level::High, Level::High), 1);
        assert_eq!(s.priority(Level::High, Level::Low), 3);
        assert_eq!(s.priority(Level::Medium, Level::High), 2);
        assert_eq!(s.priority(Level::Low, Level::Low), 4);
    }
}
