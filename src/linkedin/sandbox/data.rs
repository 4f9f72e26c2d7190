//! The sandbox's LinkedIn world, generated from a seed: one member, their ad accounts and
//! organizations, campaigns, versioned lead forms in several locales, and lead responses spread
//! over the past 400 days (so some are already past LinkedIn's 365-day retention).
//!
//! Everything that LinkedIn would return is stored as LinkedIn JSON, rendered once; the structs
//! keep only what the API needs to filter and page.

use std::collections::{HashMap, HashSet};

use rand::{
    Rng, SeedableRng,
    rngs::StdRng,
    seq::{IndexedRandom, SliceRandom},
};
use serde_json::{Map, Value, json};

use super::SandboxConfig;

pub(super) const DAY_MS: i64 = 86_400_000;
/// LinkedIn keeps lead responses for 365 days.
pub(super) const RETENTION_MS: i64 = 365 * DAY_MS;
/// Generated leads reach back this far, past the retention window.
const HISTORY_MS: i64 = 400 * DAY_MS;
/// No generated lead sits this close to the retention edge, so a lead cannot slip out of the
/// window between a test reading the ground truth and reading the API.
const RETENTION_EDGE_GUARD_MS: i64 = 3_600_000;

/// Share of leads that are LinkedIn test leads.
const TEST_LEAD_SHARE: f64 = 0.05;
/// Share of leads submitted again by someone who already submitted (email in another spelling).
const REPEAT_PERSON_SHARE: f64 = 0.2;

/// The organic lead types (`linkedin-api.md` §3.6): forms an organization owns directly.
pub const ORGANIC_TYPES: [&str; 3] = ["COMPANY", "ORGANIZATION_PRODUCT", "EVENT"];

pub(super) struct Org {
    pub id: i64,
    pub name: String,
    pub vanity: String,
    /// The member holds an approved role on it (only the partner's is not). Kept on the
    /// organization itself, not derived from its ad accounts, because an organization may own
    /// organic forms and no ad account.
    pub approved: bool,
    /// Forms of the organic lead types, with their type (none unless organic leads are on).
    pub organic_forms: Vec<(&'static str, Form)>,
}

/// The key a lead is indexed by: its ad account's id, or for an organic lead its organization
/// and lead type (each pulled on its own, like LinkedIn's `owner` + `leadType` finder).
pub fn organic_key(org_urn: &str, lead_type: &str) -> String {
    format!("{org_urn}|{lead_type}")
}

impl Org {
    pub fn urn(&self) -> String {
        format!("urn:li:organization:{}", self.id)
    }
}

pub(super) struct Campaign {
    pub id: i64,
    pub name: String,
    pub status: &'static str,
    pub kind: &'static str,
    pub group: i64,
    pub start: i64,
    pub end: Option<i64>,
    pub creatives: Vec<i64>,
}

impl Campaign {
    fn running_at(&self, at: i64) -> bool {
        self.start <= at && self.end.is_none_or(|end| at <= end)
    }
}

#[derive(Clone, Copy)]
enum FormKind {
    /// Asks for a purchase timeline (single choice).
    Demo,
    /// Asks for products of interest (several choices) and has a second, optional consent.
    Guide,
}

pub(super) struct Form {
    pub id: i64,
    pub version: i64,
    kind: FormKind,
    locale: &'static Locale,
    pub json: Value,
}

impl Form {
    pub fn versioned_urn(&self) -> String {
        format!(
            "urn:li:versionedLeadGenForm:(urn:li:leadGenForm:{},{})",
            self.id, self.version
        )
    }

    /// The form's question ids, in the order of `questions`: 7 predefined, a choice, a comment.
    fn question_id(&self, position: i64) -> i64 {
        position * 100_000_000 + self.id
    }
}

pub(super) struct Account {
    /// LinkedIn's numeric id, as a string (the public API speaks strings).
    pub id: String,
    pub name: String,
    pub currency: &'static str,
    /// Index into `World::orgs`.
    pub org: usize,
    /// The member has no approved role on this account's organization: lead calls answer 403.
    pub forbidden: bool,
    pub campaigns: Vec<Campaign>,
    pub forms: Vec<Form>,
}

impl Account {
    pub fn urn(&self) -> String {
        format!("urn:li:sponsoredAccount:{}", self.id)
    }
}

pub(super) struct Lead {
    pub id: String,
    /// The ad account's id, or [`organic_key`] for an organic lead.
    pub account_id: String,
    /// `urn:li:sponsoredAccount:..` or `urn:li:organization:..`.
    pub owner: String,
    pub lead_type: &'static str,
    pub submitted_at: i64,
    pub test_lead: bool,
    pub form_urn: String,
    pub json: Value,
}

struct Person {
    member: String,
    first: &'static str,
    last: &'static str,
    email: String,
    company: usize,
    phone: String,
    country: usize,
    title: usize,
}

pub(super) struct World {
    /// `urn:li:person:...` of the member every authorization belongs to.
    pub member: String,
    pub orgs: Vec<Org>,
    pub accounts: Vec<Account>,
    /// Live responses, ordered by `(submitted_at, id)` as the API returns them.
    leads: Vec<Lead>,
    /// Positions in `leads` of each account's responses, in the same order (rebuilt whenever
    /// `leads` changes), so a page of a large account does not scan every other account's.
    by_account: HashMap<String, Vec<usize>>,
    /// Deleted responses, kept so a `DELETED` notification can still name the form and owner.
    deleted: Vec<Lead>,
    people: Vec<Person>,
    emails: HashSet<String>,
    used_ids: HashSet<i64>,
    rng: StdRng,
}

impl World {
    pub fn generate(config: &SandboxConfig, now: i64) -> World {
        let mut world = World {
            member: String::new(),
            orgs: Vec::new(),
            accounts: Vec::new(),
            leads: Vec::new(),
            by_account: HashMap::new(),
            deleted: Vec::new(),
            people: Vec::new(),
            emails: HashSet::new(),
            used_ids: HashSet::new(),
            rng: StdRng::seed_from_u64(config.seed),
        };
        world.member = format!("urn:li:person:{}", world.alphanumeric(10));
        // Usable accounts share organizations two by two (as LinkedIn's own example does); the
        // forbidden one belongs to an organization the member has no approved role on.
        for i in 0..config.accounts {
            if i.is_multiple_of(2) {
                let org = world.new_org(i / 2);
                world.orgs.push(org);
            }
            let account = world.new_account(i, world.orgs.len() - 1, false, now);
            world.accounts.push(account);
        }
        let partner = world.new_org(usize::MAX);
        world.orgs.push(partner);
        let forbidden = world.new_account(config.accounts, world.orgs.len() - 1, true, now);
        world.accounts.push(forbidden);

        for index in 0..world.accounts.len() {
            let mut times: Vec<i64> = (0..config.leads_per_account)
                .map(|_| now - world.history_offset())
                .collect();
            // In time order, so a repeated person always repeats an earlier submission.
            times.sort_unstable();
            for at in times {
                let lead = world.new_lead(index, at);
                world.leads.push(lead);
            }
        }
        world.sort_leads();
        // Organic data comes last, so the sponsored world is the same with or without it.
        if config.organic_leads_per_type > 0 {
            world.generate_organic(config.organic_leads_per_type, now);
        }
        world
    }

    /// Organic forms and leads of every organic type on the first organization the member has an
    /// approved role on (one without ad accounts is added when there is none, `accounts: 0`) and
    /// on the partner's (no approved role: its lead calls answer 403).
    fn generate_organic(&mut self, per_type: usize, now: i64) {
        let administered = match self.orgs.iter().position(|o| o.approved) {
            Some(org) => org,
            None => {
                let org = self.new_org(0);
                self.orgs.push(org);
                self.orgs.len() - 1
            }
        };
        let partner = self
            .orgs
            .iter()
            .position(|o| !o.approved)
            .expect("the partner's organization");
        for org in [administered, partner] {
            let urn = self.orgs[org].urn();
            for (i, lead_type) in ORGANIC_TYPES.iter().enumerate() {
                let locale = &LOCALES[(org + i) % LOCALES.len()];
                let kind = if i % 2 == 0 {
                    FormKind::Demo
                } else {
                    FormKind::Guide
                };
                let form = self.new_form(&json!({ "organization": urn }), kind, locale, now);
                self.orgs[org].organic_forms.push((lead_type, form));
            }
            for lead_type in ORGANIC_TYPES {
                let mut times: Vec<i64> =
                    (0..per_type).map(|_| now - self.history_offset()).collect();
                times.sort_unstable();
                for at in times {
                    let lead = self.new_organic_lead(org, lead_type, at);
                    self.leads.push(lead);
                }
            }
        }
        self.sort_leads();
    }

    /// Whether the member lacks an approved role on the organization (as `organizationAcls`
    /// says); then its ad accounts are the forbidden ones.
    pub fn org_forbidden(&self, org: usize) -> bool {
        !self.orgs[org].approved
    }

    pub fn org_by_id(&self, id: i64) -> Option<usize> {
        self.orgs.iter().position(|o| o.id == id)
    }

    /// An organic form by id, with its organization's index.
    pub fn organic_form(&self, id: i64) -> Option<(usize, &Form)> {
        self.orgs.iter().enumerate().find_map(|(i, o)| {
            o.organic_forms
                .iter()
                .find(|(_, f)| f.id == id)
                .map(|(_, f)| (i, f))
        })
    }

    /// New organic responses submitted now (see `add_leads`).
    pub fn add_organic_leads(
        &mut self,
        org_id: i64,
        lead_type: &str,
        n: usize,
        now: i64,
    ) -> Vec<String> {
        let (Some(org), Some(lead_type)) = (
            self.org_by_id(org_id),
            ORGANIC_TYPES.iter().copied().find(|t| *t == lead_type),
        ) else {
            return Vec::new();
        };
        if self.orgs[org].organic_forms.is_empty() {
            return Vec::new();
        }
        let mut ids = Vec::with_capacity(n);
        for i in 0..n {
            let at = now - (n - 1 - i) as i64;
            let lead = self.new_organic_lead(org, lead_type, at);
            ids.push(lead.id.clone());
            self.leads.push(lead);
        }
        self.sort_leads();
        ids
    }

    pub fn account(&self, id: &str) -> Option<&Account> {
        self.accounts.iter().find(|a| a.id == id)
    }

    pub fn form(&self, id: i64) -> Option<(&Account, &Form)> {
        self.accounts
            .iter()
            .find_map(|a| a.forms.iter().find(|f| f.id == id).map(|f| (a, f)))
    }

    /// The account's responses LinkedIn still holds at `now`, in API order.
    pub fn responses(&self, account_id: &str, now: i64) -> impl Iterator<Item = &Lead> {
        let oldest = now - RETENTION_MS;
        let positions = self
            .by_account
            .get(account_id)
            .map_or(&[][..], Vec::as_slice);
        let first = positions.partition_point(|&i| self.leads[i].submitted_at < oldest);
        positions[first..].iter().map(|&i| &self.leads[i])
    }

    /// A live response still within retention.
    pub fn lead(&self, id: &str, now: i64) -> Option<&Lead> {
        self.leads
            .iter()
            .find(|l| l.id == id && l.submitted_at >= now - RETENTION_MS)
    }

    /// A response, live or deleted (for notifications).
    pub fn any_lead(&self, id: &str) -> Option<&Lead> {
        self.leads
            .iter()
            .chain(self.deleted.iter())
            .find(|l| l.id == id)
    }

    /// New responses for the account, submitted in the last few milliseconds up to `now`.
    pub fn add_leads(&mut self, account_id: &str, n: usize, now: i64) -> Vec<String> {
        let Some(index) = self.accounts.iter().position(|a| a.id == account_id) else {
            return Vec::new();
        };
        let mut ids = Vec::with_capacity(n);
        for i in 0..n {
            // Strictly increasing and never in the future, so a pull ending "now" sees them all.
            let at = now - (n - 1 - i) as i64;
            let lead = self.new_lead(index, at);
            ids.push(lead.id.clone());
            self.leads.push(lead);
        }
        self.sort_leads();
        ids
    }

    /// Removes a live response; returns it (now kept among the deleted).
    pub fn delete_lead(&mut self, id: &str) -> Option<&Lead> {
        let position = self.leads.iter().position(|l| l.id == id)?;
        let lead = self.leads.remove(position);
        self.index_accounts();
        self.deleted.push(lead);
        self.deleted.last()
    }

    fn sort_leads(&mut self) {
        self.leads
            .sort_by(|a, b| (a.submitted_at, a.id.as_str()).cmp(&(b.submitted_at, b.id.as_str())));
        self.index_accounts();
    }

    fn index_accounts(&mut self) {
        self.by_account.clear();
        for (i, lead) in self.leads.iter().enumerate() {
            self.by_account
                .entry(lead.account_id.clone())
                .or_default()
                .push(i);
        }
    }

    // ------------------------------------------------------------------ generation

    fn alphanumeric(&mut self, len: usize) -> String {
        const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        (0..len)
            .map(|_| CHARS[self.rng.random_range(0..CHARS.len())] as char)
            .collect()
    }

    /// A fresh numeric id in `range`, unique across everything generated.
    fn unique_id(&mut self, range: std::ops::Range<i64>) -> i64 {
        loop {
            let id = self.rng.random_range(range.clone());
            if self.used_ids.insert(id) {
                return id;
            }
        }
    }

    /// How long ago a historical lead was submitted, kept off the retention edge.
    fn history_offset(&mut self) -> i64 {
        let offset = self.rng.random_range(0..HISTORY_MS);
        if (offset - RETENTION_MS).abs() < RETENTION_EDGE_GUARD_MS {
            offset + 2 * RETENTION_EDGE_GUARD_MS
        } else {
            offset
        }
    }

    fn new_org(&mut self, index: usize) -> Org {
        let (name, vanity) = if index == usize::MAX {
            ("Partner Agency Ltd".to_owned(), "partner-agency".to_owned())
        } else {
            let (base, suffix) = ORGS[index % ORGS.len()];
            let round = index / ORGS.len();
            let base = if round == 0 {
                base.to_owned()
            } else {
                format!("{base} {}", round + 1)
            };
            (format!("{base} {suffix}"), slug(&base))
        };
        Org {
            id: self.unique_id(10_000_000..100_000_000),
            name,
            vanity,
            approved: index != usize::MAX,
            organic_forms: Vec::new(),
        }
    }

    fn new_account(&mut self, index: usize, org: usize, forbidden: bool, now: i64) -> Account {
        let id = self.unique_id(500_000_000..600_000_000).to_string();
        let org_name = self.orgs[org].name.clone();
        let name = if forbidden {
            "Partner Agency – Client Campaigns".to_owned()
        } else {
            format!("{org_name} – {}", REGIONS[index % REGIONS.len()])
        };
        let currency = if index.is_multiple_of(2) {
            "USD"
        } else {
            "EUR"
        };
        let campaign_count = self.rng.random_range(2..=3);
        let campaigns = (0..campaign_count)
            .map(|i| self.new_campaign(&org_name, i, now))
            .collect();
        let urn = format!("urn:li:sponsoredAccount:{id}");
        // Two forms per account; locales cycle across all forms so every locale appears.
        let forms = (0..2)
            .map(|i| {
                let locale = &LOCALES[(index * 2 + i) % LOCALES.len()];
                let kind = if i == 0 {
                    FormKind::Demo
                } else {
                    FormKind::Guide
                };
                self.new_form(&json!({ "sponsoredAccount": urn }), kind, locale, now)
            })
            .collect();
        Account {
            id,
            name,
            currency,
            org,
            forbidden,
            campaigns,
            forms,
        }
    }

    fn new_campaign(&mut self, org_name: &str, index: usize, now: i64) -> Campaign {
        // The first campaign runs all along, the second is paused, the third ended 100 days ago.
        let (status, end) = match index {
            0 => ("ACTIVE", None),
            1 => ("PAUSED", None),
            _ => ("COMPLETED", Some(now - 100 * DAY_MS)),
        };
        let creative_count = self.rng.random_range(1..=2);
        Campaign {
            id: self.unique_id(100_000_000..400_000_000),
            name: format!("{} – {}", CAMPAIGNS[index % CAMPAIGNS.len()], org_name),
            status,
            kind: if index == 1 {
                "SPONSORED_INMAILS"
            } else {
                "SPONSORED_UPDATES"
            },
            group: self.unique_id(600_000_000..700_000_000),
            start: now - self.rng.random_range(420..450) * DAY_MS,
            end,
            creatives: (0..creative_count)
                .map(|_| self.unique_id(200_000_000..400_000_000))
                .collect(),
        }
    }

    fn new_form(
        &mut self,
        owner: &Value,
        kind: FormKind,
        locale: &'static Locale,
        now: i64,
    ) -> Form {
        let mut form = Form {
            id: self.unique_id(1_000_000..10_000_000),
            version: self.rng.random_range(1..=3),
            kind,
            locale,
            json: Value::Null,
        };
        let created = now - 430 * DAY_MS - self.rng.random_range(0..DAY_MS);
        let modified = created + self.rng.random_range(0..10 * DAY_MS);
        form.json = form_json(&form, owner, created, modified);
        form
    }

    /// A new person with a unique email; returns their index in `people`.
    fn new_person(&mut self) -> usize {
        let first = *FIRST_NAMES.choose(&mut self.rng).unwrap_or(&"Alex");
        let last = *LAST_NAMES.choose(&mut self.rng).unwrap_or(&"Smith");
        let company = self.rng.random_range(0..COMPANIES.len());
        let country = self.rng.random_range(0..DIAL_CODES.len());
        let base = format!("{}.{}", ascii_slug(first), ascii_slug(last));
        let domain = COMPANIES[company].1;
        let mut email = format!("{base}@{domain}");
        let mut n = 2;
        while !self.emails.insert(email.clone()) {
            email = format!("{base}{n}@{domain}");
            n += 1;
        }
        let phone = format!(
            "{} {} {:03} {:04}",
            DIAL_CODES[country],
            self.rng.random_range(20..99),
            self.rng.random_range(0..1000),
            self.rng.random_range(0..10_000)
        );
        let person = Person {
            member: format!("urn:li:person:{}", self.alphanumeric(10)),
            first,
            last,
            email,
            company,
            phone,
            country,
            title: self.rng.random_range(0..5),
        };
        self.people.push(person);
        self.people.len() - 1
    }

    /// An earlier person's email, spelled differently: other letter case, surrounding spaces.
    fn respelled(&mut self, email: &str) -> String {
        match self.rng.random_range(0..4) {
            0 => email.to_uppercase(),
            1 => title_case(email),
            2 => format!("  {email} "),
            _ => format!(" {}", title_case(email)),
        }
    }

    /// Who submits the next lead: sometimes someone who already did (email spelled anew).
    fn submitter(&mut self) -> (usize, String) {
        let repeat = !self.people.is_empty() && self.rng.random_bool(REPEAT_PERSON_SHARE);
        if repeat {
            let index = self.rng.random_range(0..self.people.len());
            let email = self.people[index].email.clone();
            (index, self.respelled(&email))
        } else {
            let index = self.new_person();
            (index, self.people[index].email.clone())
        }
    }

    fn new_lead(&mut self, account: usize, at: i64) -> Lead {
        let (person, email) = self.submitter();
        let test_lead = self.rng.random_bool(TEST_LEAD_SHARE);
        let form_index = self.rng.random_range(0..self.accounts[account].forms.len());
        let running: Vec<usize> = (0..self.accounts[account].campaigns.len())
            .filter(|&i| self.accounts[account].campaigns[i].running_at(at))
            .collect();
        let campaign_index = match running.choose(&mut self.rng) {
            Some(&i) => i,
            None => 0,
        };
        let id = self.lead_id();
        let acct = &self.accounts[account];
        let form = &acct.forms[form_index];
        let campaign = &acct.campaigns[campaign_index];
        let creative = campaign.creatives[self.rng.random_range(0..campaign.creatives.len())];
        let person = &self.people[person];
        let (answers, consents) = answers(form, person, &email, &mut self.rng);
        let json = json!({
            "owner": { "sponsoredAccount": acct.urn() },
            "submitter": person.member,
            "leadType": "SPONSORED",
            "leadMetadata": { "sponsoredLeadMetadata": {
                "campaign": format!("urn:li:sponsoredCampaign:{}", campaign.id)
            } },
            "versionedLeadGenFormUrn": form.versioned_urn(),
            "id": id,
            "submittedAt": at,
            "testLead": test_lead,
            "associatedEntity": {
                "associatedCreative": format!("urn:li:sponsoredCreative:{creative}")
            },
            "formResponse": { "consentResponses": consents, "answers": answers },
        });
        Lead {
            id,
            account_id: acct.id.clone(),
            owner: acct.urn(),
            lead_type: "SPONSORED",
            submitted_at: at,
            test_lead,
            form_urn: form.versioned_urn(),
            json,
        }
    }

    /// An organic response: owned by the organization, with no campaign and no creative.
    fn new_organic_lead(&mut self, org: usize, lead_type: &'static str, at: i64) -> Lead {
        let (person, email) = self.submitter();
        let test_lead = self.rng.random_bool(TEST_LEAD_SHARE);
        let id = self.lead_id();
        let urn = self.orgs[org].urn();
        let form = &self.orgs[org]
            .organic_forms
            .iter()
            .find(|(t, _)| *t == lead_type)
            .expect("a form of each organic type")
            .1;
        let person = &self.people[person];
        let (answers, consents) = answers(form, person, &email, &mut self.rng);
        let json = json!({
            "owner": { "organization": urn },
            "submitter": person.member,
            "leadType": lead_type,
            "versionedLeadGenFormUrn": form.versioned_urn(),
            "id": id,
            "submittedAt": at,
            "testLead": test_lead,
            "formResponse": { "consentResponses": consents, "answers": answers },
        });
        Lead {
            id,
            account_id: organic_key(&urn, lead_type),
            owner: urn,
            lead_type,
            submitted_at: at,
            test_lead,
            form_urn: form.versioned_urn(),
            json,
        }
    }

    /// LinkedIn's response id shape: a UUID with a `-N` suffix.
    fn lead_id(&mut self) -> String {
        let r = &mut self.rng;
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}-{}",
            r.random::<u32>(),
            r.random::<u16>(),
            r.random_range(0..0x1000u16),
            r.random_range(0x8000..0xC000u16),
            r.random::<u64>() & 0xFFFF_FFFF_FFFF,
            r.random_range(0..10)
        )
    }
}

/// The answers (shuffled: LinkedIn does not order them) and consent responses for one lead.
fn answers(
    form: &Form,
    person: &Person,
    email: &str,
    rng: &mut StdRng,
) -> (Vec<Value>, Vec<Value>) {
    let l = form.locale;
    let text = |q: i64, answer: &str| json!({ "answerDetails": { "textQuestionAnswer": { "answer": answer } }, "questionId": q });
    let choice = |q: i64, options: &[i64]| json!({ "answerDetails": { "multipleChoiceAnswer": { "options": options } }, "questionId": q });
    let mut answers = vec![
        text(form.question_id(1), person.first),
        text(form.question_id(2), person.last),
        text(form.question_id(3), email),
        text(form.question_id(4), COMPANIES[person.company].0),
        text(form.question_id(5), l.titles[person.title]),
        text(form.question_id(7), l.countries[person.country]),
    ];
    // The phone question is optional: about a third leave it out.
    if rng.random_bool(0.67) {
        answers.push(text(form.question_id(6), &person.phone));
    }
    match form.kind {
        FormKind::Demo => answers.push(choice(form.question_id(8), &[rng.random_range(0..4)])),
        FormKind::Guide => {
            let mut picked: Vec<i64> = (0..4).collect();
            picked.shuffle(rng);
            picked.truncate(rng.random_range(1..=2));
            picked.sort_unstable();
            answers.push(choice(form.question_id(8), &picked));
        }
    }
    if rng.random_bool(0.5) {
        let remark = l.remarks[rng.random_range(0..l.remarks.len())];
        answers.push(text(form.question_id(9), remark));
    }
    answers.shuffle(rng);
    let mut consents = vec![json!({ "accepted": true, "consentId": 0 })];
    if matches!(form.kind, FormKind::Guide) {
        consents.push(json!({ "accepted": rng.random_bool(0.4), "consentId": 1 }));
    }
    (answers, consents)
}

/// `{"localized": {locale: text}}`.
fn localized(locale: &Locale, text: &str) -> Value {
    let mut map = Map::new();
    map.insert(locale.code.to_owned(), Value::String(text.to_owned()));
    json!({ "localized": map })
}

/// A `leadForms` element shaped like LinkedIn's `lead-form.json`.
fn form_json(form: &Form, owner: &Value, created: i64, modified: i64) -> Value {
    let l = form.locale;
    let text_details = json!({ "textQuestionDetails": { "maxResponseLength": 300 } });
    let mut questions: Vec<Value> = PREDEFINED
        .iter()
        .zip(l.labels)
        .enumerate()
        .map(|(i, ((field, name), label))| {
            json!({
                "questionId": form.question_id(i as i64 + 1),
                "question": localized(l, label),
                "responseEditable": true,
                "name": name,
                "questionDetails": text_details,
                "predefinedField": field,
                // The phone number is the one optional member field.
                "responseRequired": *field != "PHONE_NUMBER",
            })
        })
        .collect();
    let (choice_name, choice_label, options) = match form.kind {
        FormKind::Demo => ("Purchase timeline", l.timeline, l.timeline_options),
        FormKind::Guide => ("Products of interest", l.interests, l.interest_options),
    };
    let options: Vec<Value> = options
        .iter()
        .enumerate()
        .map(|(id, text)| json!({ "text": localized(l, text), "id": id }))
        .collect();
    questions.push(json!({
        "name": choice_name,
        "questionDetails": { "multipleChoiceQuestionDetails": { "options": options } },
        "questionId": form.question_id(8),
        "question": localized(l, choice_label),
        "responseEditable": true,
        "responseRequired": true,
    }));
    questions.push(json!({
        "name": "Comments",
        "questionDetails": text_details,
        "questionId": form.question_id(9),
        "question": localized(l, l.comments),
        "responseEditable": true,
        "responseRequired": false,
    }));
    let mut consents = vec![json!({
        "consent": localized(l, l.consent_marketing), "checkRequired": true, "id": 0
    })];
    let (name, headline, campaign_tag) = match form.kind {
        FormKind::Demo => ("Demo request", l.headline_demo, "demo"),
        FormKind::Guide => {
            consents.push(json!({
                "consent": localized(l, l.consent_partners), "checkRequired": false, "id": 1
            }));
            ("Guide download", l.headline_guide, "guide")
        }
    };
    json!({
        "reviewInfo": { "rejectionReasons": [], "lastUpdated": modified, "reviewStatus": "APPROVED" },
        "owner": owner,
        "hiddenFields": [
            { "name": "utm_source", "value": "linkedin" },
            { "name": "utm_campaign", "value": format!("{campaign_tag}-{}", l.code.to_lowercase()) },
        ],
        "versionId": form.version,
        "created": created,
        "creationLocale": { "country": l.country, "language": l.language },
        "name": format!("{name} ({})", l.code),
        "id": form.id,
        "lastModified": modified,
        "state": "PUBLISHED",
        "content": {
            "questions": questions,
            "description": localized(l, l.description),
            "postSubmissionInfo": {
                "message": localized(l, l.thank_you),
                "callToAction": {
                    "callToActionTarget": { "landingPageUrl": "https://www.example.com/thanks" },
                    "callToActionLabel": "VISIT_COMPANY_WEBSITE",
                },
            },
            "legalInfo": {
                "consents": consents,
                "legalInfoId": form.question_id(10),
                "privacyPolicyUrl": "https://www.example.com/privacy",
                "legalDisclaimer": localized(l, l.disclaimer),
            },
            "headline": localized(l, headline),
        },
    })
}

fn slug(text: &str) -> String {
    let mut out = String::new();
    for c in ascii_slug(text).chars() {
        if c == '-' && out.ends_with('-') {
            continue;
        }
        out.push(c);
    }
    out.trim_matches('-').to_owned()
}

/// Lower-case ASCII for emails and vanity names: accents folded, spaces to `-`, the rest dropped.
fn ascii_slug(text: &str) -> String {
    let mut out = String::new();
    for c in text.to_lowercase().chars() {
        let folded = match c {
            'á' | 'à' | 'â' | 'ä' | 'ã' | 'å' => "a",
            'é' | 'è' | 'ê' | 'ë' => "e",
            'í' | 'ì' | 'î' | 'ï' => "i",
            'ó' | 'ò' | 'ô' | 'ö' | 'õ' | 'ø' => "o",
            'ú' | 'ù' | 'û' | 'ü' => "u",
            'ñ' => "n",
            'ç' => "c",
            'ß' => "ss",
            ' ' | '-' => "-",
            c if c.is_ascii_alphanumeric() => {
                out.push(c);
                continue;
            }
            _ => "",
        };
        out.push_str(folded);
    }
    out
}

/// `ada.lovelace@initech.example` → `Ada.Lovelace@Initech.example`.
fn title_case(email: &str) -> String {
    let mut out = String::with_capacity(email.len());
    let mut upper_next = true;
    for c in email.chars() {
        if upper_next {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        upper_next = matches!(c, '.' | '@');
    }
    out
}

// ------------------------------------------------------------------ vocabulary

const ORGS: &[(&str, &str)] = &[
    ("Highland Analytics", "LLC"),
    ("Blue Harbor Foods", "Inc."),
    ("Cobalt Robotics", "GmbH"),
    ("Lumen Health", "SA"),
    ("Northwind Traders", "Inc."),
    ("Tailspin Aviation", "SAS"),
];

const REGIONS: &[&str] = &["Americas", "EMEA", "APAC", "LATAM"];

const CAMPAIGNS: &[&str] = &["Always-on demand gen", "Spring webinar", "Product launch"];

pub const FIRST_NAMES: &[&str] = &[
    "Ada",
    "Grace",
    "Alan",
    "Margaret",
    "Katherine",
    "Barbara",
    "Hedy",
    "Claude",
    "Sophie",
    "Lukas",
    "Lucía",
    "Mateo",
    "Chloé",
    "Hugo",
    "Émilie",
    "Jürgen",
    "Zoë",
    "Søren",
    "Ingrid",
    "Kevin",
    "Priya",
    "Wei",
    "Aiko",
    "Omar",
    "Fatima",
    "Noah",
];

pub const LAST_NAMES: &[&str] = &[
    "Lovelace",
    "Hopper",
    "Turing",
    "Hamilton",
    "Johnson",
    "Liskov",
    "Lamarr",
    "Shannon",
    "Müller",
    "García",
    "Dubois",
    "Martínez",
    "Schmidt",
    "Rossi",
    "Nakamura",
    "Okafor",
    "O'Brien",
    "Nguyen",
    "Kowalski",
    "Andersen",
    "Johonson",
    "Berners-Lee",
];

/// Company name and email domain.
const COMPANIES: &[(&str, &str)] = &[
    ("Initech", "initech.example"),
    ("Globex Corporation", "globex.example"),
    ("Umbrella Analytics", "umbrella.example"),
    ("Stark Industries", "stark.example"),
    ("Hooli", "hooli.example"),
    ("Vandelay Industries", "vandelay.example"),
    ("Soylent GmbH", "soylent.example"),
    ("Cyberdyne Systems", "cyberdyne.example"),
];

/// Dial codes in the order of `Locale::countries`: US, France, Germany, Spain, Mexico.
const DIAL_CODES: &[&str] = &["+1", "+33", "+49", "+34", "+52"];

const PREDEFINED: [(&str, &str); 7] = [
    ("FIRST_NAME", "First name"),
    ("LAST_NAME", "Last name"),
    ("EMAIL", "Email address"),
    ("COMPANY_NAME", "Company name"),
    ("JOB_TITLE", "Job title"),
    ("PHONE_NUMBER", "Phone number"),
    ("COUNTRY", "Country/Region"),
];

/// A form language: question labels in `PREDEFINED` order, choices, texts, and the free-text
/// answers a member writes in that language.
struct Locale {
    code: &'static str,
    language: &'static str,
    country: &'static str,
    labels: [&'static str; 7],
    timeline: &'static str,
    timeline_options: [&'static str; 4],
    interests: &'static str,
    interest_options: [&'static str; 4],
    comments: &'static str,
    headline_demo: &'static str,
    headline_guide: &'static str,
    description: &'static str,
    thank_you: &'static str,
    consent_marketing: &'static str,
    consent_partners: &'static str,
    disclaimer: &'static str,
    titles: [&'static str; 5],
    countries: [&'static str; 5],
    remarks: [&'static str; 3],
}

static LOCALES: [Locale; 4] = [
    Locale {
        code: "en_US",
        language: "en",
        country: "US",
        labels: [
            "First name",
            "Last name",
            "Email address",
            "Company name",
            "Job title",
            "Phone number",
            "Country/Region",
        ],
        timeline: "When are you planning to buy?",
        timeline_options: [
            "Within 3 months",
            "3 to 6 months",
            "6 to 12 months",
            "Just researching",
        ],
        interests: "Which products interest you?",
        interest_options: ["Analytics", "Automation", "Integrations", "Support plans"],
        comments: "Anything else we should know?",
        headline_demo: "See it in action",
        headline_guide: "Get the 2024 buyer's guide",
        description: "Tell us a little about yourself and we will be in touch.",
        thank_you: "Thanks! We will contact you shortly.",
        consent_marketing: "I agree to receive marketing emails.",
        consent_partners: "Share my details with selected partners.",
        disclaimer: "You can unsubscribe at any time.",
        titles: [
            "Marketing Manager",
            "Senior Engineer",
            "Head of Sales",
            "Chief Financial Officer",
            "Operations Analyst",
        ],
        countries: ["United States", "France", "Germany", "Spain", "Mexico"],
        remarks: [
            "Please call me next week.",
            "Interested in a demo for 50 seats.",
            "How does pricing work?",
        ],
    },
    Locale {
        code: "fr_FR",
        language: "fr",
        country: "FR",
        labels: [
            "Prénom",
            "Nom",
            "Adresse e-mail",
            "Nom de l'entreprise",
            "Poste",
            "Numéro de téléphone",
            "Pays/Région",
        ],
        timeline: "Quand prévoyez-vous d'acheter ?",
        timeline_options: [
            "Sous 3 mois",
            "3 à 6 mois",
            "6 à 12 mois",
            "Je me renseigne",
        ],
        interests: "Quels produits vous intéressent ?",
        interest_options: ["Analytique", "Automatisation", "Intégrations", "Support"],
        comments: "Autre chose à nous dire ?",
        headline_demo: "Découvrez-le en action",
        headline_guide: "Recevez le guide d'achat 2024",
        description: "Parlez-nous de vous, nous vous recontacterons.",
        thank_you: "Merci ! Nous vous contacterons bientôt.",
        consent_marketing: "J'accepte de recevoir des e-mails marketing.",
        consent_partners: "Partager mes coordonnées avec des partenaires choisis.",
        disclaimer: "Vous pouvez vous désinscrire à tout moment.",
        titles: [
            "Responsable marketing",
            "Ingénieur principal",
            "Directeur commercial",
            "Directeur financier",
            "Analyste des opérations",
        ],
        countries: ["États-Unis", "France", "Allemagne", "Espagne", "Mexique"],
        remarks: [
            "Rappelez-moi la semaine prochaine.",
            "Intéressé par une démo pour 50 postes.",
            "Comment fonctionne la tarification ?",
        ],
    },
    Locale {
        code: "de_DE",
        language: "de",
        country: "DE",
        labels: [
            "Vorname",
            "Nachname",
            "E-Mail-Adresse",
            "Firmenname",
            "Position",
            "Telefonnummer",
            "Land/Region",
        ],
        timeline: "Wann planen Sie den Kauf?",
        timeline_options: [
            "Innerhalb von 3 Monaten",
            "In 3 bis 6 Monaten",
            "In 6 bis 12 Monaten",
            "Ich informiere mich nur",
        ],
        interests: "Welche Produkte interessieren Sie?",
        interest_options: [
            "Analytik",
            "Automatisierung",
            "Integrationen",
            "Supportpakete",
        ],
        comments: "Möchten Sie uns noch etwas mitteilen?",
        headline_demo: "Live erleben",
        headline_guide: "Holen Sie sich den Einkaufsführer 2024",
        description: "Erzählen Sie uns etwas über sich, wir melden uns.",
        thank_you: "Danke! Wir melden uns in Kürze.",
        consent_marketing: "Ich möchte Marketing-E-Mails erhalten.",
        consent_partners: "Meine Daten an ausgewählte Partner weitergeben.",
        disclaimer: "Sie können sich jederzeit abmelden.",
        titles: [
            "Marketingleiter",
            "Senior-Ingenieur",
            "Vertriebsleiter",
            "Finanzvorstand",
            "Betriebsanalyst",
        ],
        countries: [
            "Vereinigte Staaten",
            "Frankreich",
            "Deutschland",
            "Spanien",
            "Mexiko",
        ],
        remarks: [
            "Bitte rufen Sie mich nächste Woche an.",
            "Interesse an einer Demo für 50 Plätze.",
            "Wie funktioniert die Preisgestaltung?",
        ],
    },
    Locale {
        code: "es_ES",
        language: "es",
        country: "ES",
        labels: [
            "Nombre",
            "Apellidos",
            "Correo electrónico",
            "Nombre de la empresa",
            "Cargo",
            "Número de teléfono",
            "País/Región",
        ],
        timeline: "¿Cuándo piensa comprar?",
        timeline_options: [
            "En 3 meses",
            "De 3 a 6 meses",
            "De 6 a 12 meses",
            "Solo me informo",
        ],
        interests: "¿Qué productos le interesan?",
        interest_options: ["Analítica", "Automatización", "Integraciones", "Soporte"],
        comments: "¿Algo más que debamos saber?",
        headline_demo: "Véalo en acción",
        headline_guide: "Consiga la guía de compra 2024",
        description: "Cuéntenos un poco sobre usted y nos pondremos en contacto.",
        thank_you: "¡Gracias! Le contactaremos pronto.",
        consent_marketing: "Acepto recibir correos de marketing.",
        consent_partners: "Compartir mis datos con socios seleccionados.",
        disclaimer: "Puede darse de baja en cualquier momento.",
        titles: [
            "Gerente de marketing",
            "Ingeniero sénior",
            "Director de ventas",
            "Director financiero",
            "Analista de operaciones",
        ],
        countries: ["Estados Unidos", "Francia", "Alemania", "España", "México"],
        remarks: [
            "Llámenme la semana que viene.",
            "Interesado en una demo para 50 puestos.",
            "¿Cómo funcionan los precios?",
        ],
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_and_title_case() {
        assert_eq!(ascii_slug("Lucía"), "lucia");
        assert_eq!(ascii_slug("O'Brien"), "obrien");
        assert_eq!(ascii_slug("Müller"), "muller");
        assert_eq!(slug("Blue Harbor Foods"), "blue-harbor-foods");
        assert_eq!(
            title_case("ada.lovelace@initech.example"),
            "Ada.Lovelace@Initech.Example"
        );
    }

    #[test]
    fn generation_is_deterministic_and_varied() {
        let config = SandboxConfig::default();
        let now = 1_750_000_000_000;
        let a = World::generate(&config, now);
        let b = World::generate(&config, now);
        let ids = |w: &World| w.leads.iter().map(|l| l.id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&a), ids(&b));
        assert_eq!(a.accounts.len(), config.accounts + 1);
        assert_eq!(
            a.leads.len(),
            (config.accounts + 1) * config.leads_per_account
        );
        let tests = a.leads.iter().filter(|l| l.test_lead).count();
        assert!(tests > 0 && tests < a.leads.len() / 8, "{tests} test leads");
        let expired = a
            .leads
            .iter()
            .filter(|l| l.submitted_at < now - RETENTION_MS)
            .count();
        assert!(
            expired > 0 && expired < a.leads.len() / 5,
            "{expired} expired"
        );
        let unique: HashSet<&str> = a.leads.iter().map(|l| l.id.as_str()).collect();
        assert_eq!(unique.len(), a.leads.len());
    }
}
