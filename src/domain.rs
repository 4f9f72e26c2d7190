//! The product's vocabulary: enumerations stored as SCREAMING_SNAKE_CASE text in the database.
//! The GraphQL layer mirrors them with `#[graphql(remote = ...)]`.

use std::str::FromStr;

/// Declares an enum stored as text, with `as_str`, `FromStr` and `ALL`.
macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($name::$variant),)+
                    other => Err(format!("unknown {} value {other:?}", stringify!($name))),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

text_enum!(
    /// What an API user may do; see the roles table in the README.
    Role {
        SystemAdministrator = "SYSTEM_ADMINISTRATOR",
        LeadgenAdministrator = "LEADGEN_ADMINISTRATOR",
        LeadgenSalesperson = "LEADGEN_SALESPERSON",
        S2sInbound = "S2S_INBOUND",
    }
);

text_enum!(
    /// What an entry of the lead event log records (`service::lead_events`).
    LeadEventKind {
        LeadCreated = "LEAD_CREATED",
        LeadUpdated = "LEAD_UPDATED",
        LeadDeleted = "LEAD_DELETED",
        LeadErased = "LEAD_ERASED",
        SubmissionReceived = "SUBMISSION_RECEIVED",
    }
);

text_enum!(LeadSource {
    LinkedinSponsoredContent = "LINKEDIN_SPONSORED_CONTENT",
    LinkedinCompanyPage = "LINKEDIN_COMPANY_PAGE",
    LinkedinProductPage = "LINKEDIN_PRODUCT_PAGE",
    LinkedinEvent = "LINKEDIN_EVENT",
    Manual = "MANUAL",
    Import = "IMPORT",
    Web = "WEB",
    Other = "OTHER",
});

text_enum!(
    /// LinkedIn's lead types: ads, and the organic forms of organizations (§3.6).
    LeadType {
        Sponsored = "SPONSORED",
        Company = "COMPANY",
        OrganizationProduct = "ORGANIZATION_PRODUCT",
        Event = "EVENT",
    }
);

impl LeadSource {
    /// The source of a lead created from a LinkedIn response of `lead_type` (§3.6): ads are
    /// "LinkedIn Sponsored Content", the organic types their page or event. An unknown type
    /// (LinkedIn adds them) counts as sponsored, the connector's only source before.
    pub fn of_lead_type(lead_type: &str) -> LeadSource {
        match lead_type {
            "COMPANY" => LeadSource::LinkedinCompanyPage,
            "ORGANIZATION_PRODUCT" => LeadSource::LinkedinProductPage,
            "EVENT" => LeadSource::LinkedinEvent,
            _ => LeadSource::LinkedinSponsoredContent,
        }
    }

    /// Whether leads of this source come from LinkedIn (and go when LinkedIn deletes their only
    /// response).
    pub fn is_linkedin(self) -> bool {
        matches!(
            self,
            LeadSource::LinkedinSponsoredContent
                | LeadSource::LinkedinCompanyPage
                | LeadSource::LinkedinProductPage
                | LeadSource::LinkedinEvent
        )
    }
}

text_enum!(MatchingStatus {
    Pending = "PENDING",
    NewLeadCreated = "NEW_LEAD_CREATED",
    UpdatedExistingLead = "UPDATED_EXISTING_LEAD",
    MatchFailed = "MATCH_FAILED",
    LeadCreationFailed = "LEAD_CREATION_FAILED",
    LeadUpdateFailed = "LEAD_UPDATE_FAILED",
    MatchedNotUpdated = "MATCHED_NOT_UPDATED",
});

text_enum!(ProcessingState {
    Unprocessed = "UNPROCESSED",
    Succeeded = "SUCCEEDED",
    Failed = "FAILED",
});

text_enum!(OnMatchFail {
    CreateNewLead = "CREATE_NEW_LEAD",
    Ignore = "IGNORE",
});

text_enum!(AuthorizationStatus {
    NotAuthorized = "NOT_AUTHORIZED",
    Authorized = "AUTHORIZED",
    Expired = "EXPIRED",
    Reauthorizing = "REAUTHORIZING",
});

text_enum!(ProfileSyncStatus {
    NotSyncing = "NOT_SYNCING",
    SyncingAccounts = "SYNCING_ACCOUNTS",
    Active = "ACTIVE",
    NoAccountsAvailable = "NO_ACCOUNTS_AVAILABLE",
});

text_enum!(AccountSyncStatus {
    Pending = "PENDING",
    Active = "ACTIVE",
    NotSyncing = "NOT_SYNCING",
    NoFormsAvailable = "NO_FORMS_AVAILABLE",
    Forbidden = "FORBIDDEN",
});

text_enum!(SyncRunStatus {
    Queued = "QUEUED",
    Running = "RUNNING",
    Succeeded = "SUCCEEDED",
    Failed = "FAILED",
});

text_enum!(JourneyStatus {
    Draft = "DRAFT",
    Live = "LIVE",
    Stopped = "STOPPED",
});

/// Parses a stored value, treating an unknown one as a data error (logged, masked).
pub fn parse_stored<T: FromStr<Err = String>>(value: &str) -> crate::error::AppResult<T> {
    value.parse().map_err(crate::error::AppError::internal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_round_trips() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>().unwrap(), *role);
        }
        assert!("ADMIN".parse::<Role>().is_err());
    }
}
