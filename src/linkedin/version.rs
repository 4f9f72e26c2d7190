//! LinkedIn's API version policy (`../shared/linkedin-api.md` §2): versions are named `YYYYMM`,
//! published monthly (not every month), supported for about a year, then answer 426. Our client
//! and our sandbox both follow it, so a version that LinkedIn has retired fails in tests too.

use std::{fmt, str::FromStr};

use chrono::{Datelike, NaiveDate};

/// The version leadsync sends unless `LINKEDIN_API_VERSION` says otherwise: the newest one whose
/// support is documented. Checked against LinkedIn's versioning page and migration guides on
/// [`DEFAULT_CHECKED_ON`]; bump both at each release (a version lives about 12 months).
pub const DEFAULT: ApiVersion = ApiVersion {
    year: 2026,
    month: 3,
};
pub const DEFAULT_CHECKED_ON: &str = "2026-12-07";

/// Days before a version's sunset from which leadsync warns.
pub const WARN_DAYS: i64 = 60;

/// Months a version is supported after its month of publication.
pub const SUPPORT_MONTHS: u32 = 12;

/// Sunsets LinkedIn published; the rest are expected by the policy (the month plus a year).
const PUBLISHED_SUNSETS: &[(ApiVersion, (i32, u32, u32))] = &[
    (ApiVersion::new(2025, 10), (2026, 10, 15)),
    (ApiVersion::new(2025, 11), (2026, 11, 16)),
    (ApiVersion::new(2026, 1), (2027, 1, 15)),
    (ApiVersion::new(2026, 2), (2027, 2, 15)),
    (ApiVersion::new(2026, 3), (2027, 3, 16)),
];

/// Months LinkedIn published no version for.
const NEVER_PUBLISHED: &[ApiVersion] = &[ApiVersion::new(2025, 12)];

/// The first versioned API (June 2022): nothing earlier is a version.
const FIRST: ApiVersion = ApiVersion::new(2022, 6);

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ApiVersion {
    year: i32,
    month: u32,
}

impl ApiVersion {
    const fn new(year: i32, month: u32) -> Self {
        Self { year, month }
    }

    /// The first day of the version's month.
    pub fn published(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month, 1).expect("a valid month")
    }

    /// The version `months` months later.
    pub fn plus_months(self, months: u32) -> Self {
        let index = self.year * 12 + self.month as i32 - 1 + months as i32;
        Self::new(index.div_euclid(12), index.rem_euclid(12) as u32 + 1)
    }

    /// The version of the month before.
    fn previous(self) -> Self {
        if self.month == 1 {
            Self::new(self.year - 1, 12)
        } else {
            Self::new(self.year, self.month - 1)
        }
    }

    /// The version named for the month of `day`.
    pub fn of_month(day: NaiveDate) -> Self {
        Self::new(day.year(), day.month())
    }

    /// LinkedIn's published sunset, or the policy's expectation: mid-month, `support_months` on.
    pub fn sunset(self, support_months: u32) -> NaiveDate {
        if support_months == SUPPORT_MONTHS
            && let Some((_, (y, m, d))) = PUBLISHED_SUNSETS.iter().find(|(v, _)| *v == self)
        {
            return NaiveDate::from_ymd_opt(*y, *m, *d).expect("a valid date");
        }
        self.plus_months(support_months).published() + chrono::Days::new(14)
    }

    /// Whether LinkedIn ever published this version.
    pub fn exists(self) -> bool {
        !NEVER_PUBLISHED.contains(&self)
    }

    /// Where the version stands on `today` under the default policy.
    pub fn standing(self, today: NaiveDate) -> Standing {
        self.standing_with(today, SUPPORT_MONTHS)
    }

    pub fn standing_with(self, today: NaiveDate, support_months: u32) -> Standing {
        let sunset = self.sunset(support_months);
        if !self.exists() || today < self.published() {
            Standing::Unknown
        } else if today >= sunset {
            Standing::Retired
        } else if (sunset - today).num_days() <= WARN_DAYS {
            Standing::SunsetSoon
        } else {
            Standing::Active
        }
    }

    /// Versions newer than this one that the policy says are active on `today`, newest first.
    pub fn newer_active(self, today: NaiveDate) -> Vec<ApiVersion> {
        let mut out = Vec::new();
        let mut v = ApiVersion::of_month(today);
        while v > self {
            if matches!(v.standing(today), Standing::Active | Standing::SunsetSoon) {
                out.push(v);
            }
            v = v.previous();
        }
        out
    }
}

impl fmt::Display for ApiVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}{:02}", self.year, self.month)
    }
}

impl FromStr for ApiVersion {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let malformed = || {
            format!(
                "`{s}` is not a LinkedIn API version: it must be YYYYMM (a year and month such as {DEFAULT})"
            )
        };
        if s.len() != 6 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(malformed());
        }
        let year: i32 = s[..4].parse().map_err(|_| malformed())?;
        let month: u32 = s[4..].parse().map_err(|_| malformed())?;
        if !(1..=12).contains(&month) {
            return Err(malformed());
        }
        let v = ApiVersion::new(year, month);
        if v < FIRST {
            return Err(format!(
                "`{s}` is older than LinkedIn's first versioned API ({FIRST}): use a current version such as {DEFAULT}"
            ));
        }
        Ok(v)
    }
}

/// Where a version stands on a given day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// Supported, more than [`WARN_DAYS`] from its sunset.
    Active,
    /// Supported, with its sunset within [`WARN_DAYS`].
    SunsetSoon,
    /// Past its sunset: LinkedIn answers 426.
    Retired,
    /// Not published (yet, or ever).
    Unknown,
}

impl Standing {
    pub fn as_str(self) -> &'static str {
        match self {
            Standing::Active => "ACTIVE",
            Standing::SunsetSoon => "SUNSET_SOON",
            Standing::Retired => "RETIRED",
            Standing::Unknown => "UNKNOWN",
        }
    }
}

/// What an operator should read about the configured version on `today`; None when all is well.
pub fn warning(version: ApiVersion, today: NaiveDate) -> Option<String> {
    let sunset = version.sunset(SUPPORT_MONTHS);
    let newer = list(&version.newer_active(today));
    match version.standing(today) {
        Standing::Active => None,
        Standing::SunsetSoon => Some(format!(
            "LinkedIn API version {version} is expected to be retired on {sunset} ({} days): set LINKEDIN_API_VERSION to a newer one{newer} before then.",
            (sunset - today).num_days()
        )),
        Standing::Retired => Some(format!(
            "LinkedIn API version {version} was expected to be retired on {sunset}: LinkedIn answers 426; set LINKEDIN_API_VERSION to a newer one{newer}."
        )),
        Standing::Unknown => Some(format!(
            "LinkedIn API version {version} is not one LinkedIn has published as of {today}: set LINKEDIN_API_VERSION to a published one{newer}."
        )),
    }
}

/// The message for a 426: which version failed, and which to try.
pub fn inactive_message(version: ApiVersion, linkedin_said: &str, today: NaiveDate) -> String {
    format!(
        "LinkedIn answered 426 ({linkedin_said}): LINKEDIN_API_VERSION={version} is not an active LinkedIn API version (expected sunset {}); set LINKEDIN_API_VERSION to a newer one{}",
        version.sunset(SUPPORT_MONTHS),
        list(&version.newer_active(today))
    )
}

fn list(versions: &[ApiVersion]) -> String {
    if versions.is_empty() {
        return String::new();
    }
    let shown: Vec<String> = versions.iter().take(4).map(|v| v.to_string()).collect();
    format!(" (try {})", shown.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn versions_parse_strictly() {
        assert_eq!("202603".parse::<ApiVersion>().unwrap(), DEFAULT);
        for bad in [
            "", "2026-03", "20260", "2026031", "202613", "202600", "abcdef", "202205",
        ] {
            let err = bad.parse::<ApiVersion>().unwrap_err();
            assert!(err.contains(bad), "{err}");
        }
    }

    #[test]
    fn sunsets_follow_linkedins_dates_then_the_policy() {
        assert_eq!(ApiVersion::new(2025, 10).sunset(12), day("2026-10-15"));
        assert_eq!(ApiVersion::new(2026, 3).sunset(12), day("2027-03-16"));
        assert_eq!(ApiVersion::new(2026, 7).sunset(12), day("2027-07-15"));
        assert_eq!(ApiVersion::new(2026, 7).sunset(6), day("2027-01-15"));
    }

    #[test]
    fn standing_moves_from_active_to_warning_to_retired() {
        let v = ApiVersion::new(2026, 3);
        assert_eq!(v.standing(day("2026-02-28")), Standing::Unknown);
        assert_eq!(v.standing(day("2026-12-07")), Standing::Active);
        assert_eq!(v.standing(day("2027-01-15")), Standing::SunsetSoon);
        assert_eq!(v.standing(day("2027-03-15")), Standing::SunsetSoon);
        assert_eq!(v.standing(day("2027-03-16")), Standing::Retired);
        assert_eq!(
            ApiVersion::new(2025, 12).standing(day("2026-01-10")),
            Standing::Unknown
        );
        assert!(warning(v, day("2026-12-07")).is_none());
        let soon = warning(v, day("2027-02-14")).unwrap();
        assert!(
            soon.contains("2027-03-16") && soon.contains("30 days"),
            "{soon}"
        );
    }

    #[test]
    fn a_retired_version_is_told_which_newer_ones_to_try() {
        let today = day("2026-12-07");
        let newer = ApiVersion::new(2024, 5).newer_active(today);
        assert_eq!(newer.first(), Some(&ApiVersion::new(2026, 12)));
        assert!(newer.iter().all(|v| v.standing(today) != Standing::Retired));
        assert!(
            !newer.contains(&ApiVersion::new(2025, 12)),
            "never published"
        );
        assert!(
            !newer.contains(&ApiVersion::new(2025, 11)),
            "retired 2026-11-16"
        );
        let m = inactive_message(
            ApiVersion::new(2024, 5),
            "Requested version 202405 is not active",
            today,
        );
        assert!(
            m.contains("LINKEDIN_API_VERSION=202405") && m.contains("try 202612"),
            "{m}"
        );
    }

    #[test]
    fn the_default_is_active_on_the_day_it_was_checked() {
        let checked: NaiveDate = DEFAULT_CHECKED_ON.parse().unwrap();
        assert_eq!(DEFAULT.standing(checked), Standing::Active);
    }
}
