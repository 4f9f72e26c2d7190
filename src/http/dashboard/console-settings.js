// Customer Journeys and Integration Configuration. Journeys: the journeys leadsync created for
// LinkedIn campaigns, and for administrators the switch that turns that on or off. Configuration:
// one form over `integrationConfiguration` that sends only what changed, the LinkedIn API version
// this deployment speaks (read-only), and the retention rules with a preview and "Purge now".

import {
  Alert, Badge, Empty, Field, Loaded, Notice, Page, fmtDateTime, fmtNumber, hasRole, html,
  leadTypeLabel, useConfirm, useEffect, useMutation, useQuery, useState,
} from '/assets/console-lib.js';

const JOURNEYS = `query ConsoleJourneys {
  customerJourneys { id name status createdAt campaign { id name status } }
}`;
const JOURNEY_SWITCH = `query ConsoleJourneySwitch { integrationConfiguration { createJourneysForCampaigns } }`;
const CONFIGURATION = `query ConsoleConfiguration {
  integrationConfiguration {
    createJourneysForCampaigns onMatchFail syncIntervalSeconds createLeadsFromTestLeads updatedAt
    leadTypes { leadType enabled backfillDays updatedAt }
    retention { submissionsDays inactiveLeadsDays operationalRecordsDays }
    linkedInApiVersion {
      version standing isDefault defaultCheckedOn expectedSunset daysToSunset newerVersions warning
    }
  }
}`;
const UPDATE = `mutation ConsoleUpdateConfiguration($input: UpdateIntegrationConfigurationInput!) {
  updateIntegrationConfiguration(input: $input) {
    createJourneysForCampaigns onMatchFail syncIntervalSeconds createLeadsFromTestLeads updatedAt
    leadTypes { leadType enabled backfillDays }
    retention { submissionsDays inactiveLeadsDays operationalRecordsDays }
  }
}`;
const RETENTION_PREVIEW = `query ConsoleRetentionPreview {
  retentionPreview { submissions leads syncRuns webhookNotifications }
}`;
const PURGE = `mutation ConsolePurgeRetention {
  purgeRetention { submissions leads syncRuns webhookNotifications }
}`;

const isAdministrator = (viewer) => hasRole(viewer, 'LEADGEN_ADMINISTRATOR');

// ------------------------------------------------------------------ Customer Journeys

function JourneySwitch() {
  const query = useQuery(JOURNEY_SWITCH);
  const [save, { busy, error }] = useMutation(UPDATE);
  const [value, setValue] = useState(null);
  const [saved, setSaved] = useState('');
  const loaded = query.data?.integrationConfiguration.createJourneysForCampaigns;
  useEffect(() => {
    if (loaded !== undefined) setValue(loaded);
  }, [loaded]);
  const submit = async (event) => {
    event.preventDefault();
    setSaved('');
    const data = await save({ input: { createJourneysForCampaigns: value } });
    if (data) {
      setSaved(data.updateIntegrationConfiguration.createJourneysForCampaigns
        ? 'Saved: leadsync creates a customer journey for each new LinkedIn campaign at the next sync.'
        : 'Saved: leadsync no longer creates customer journeys; the existing ones stay.');
      query.reload();
    }
  };
  return html`
    <${Loaded} query=${query}>${() => html`
      <form class="settings-form" onSubmit=${submit} aria-labelledby="journey-switch-title">
        <h2 id="journey-switch-title">Journeys for campaigns</h2>
        <label class="check"><input type="checkbox" checked=${Boolean(value)}
               onChange=${(e) => { setValue(e.currentTarget.checked); setSaved(''); }} />
          Create Journeys for LinkedIn Campaigns</label>
        <p class="hint">When on, each LinkedIn campaign found by a sync gets a draft customer
          journey, and its leads are linked to it.</p>
        <button type="submit" class="button primary" disabled=${busy || value === null}>Save</button>
        <${Alert} error=${error} />
        <${Notice}>${saved}</${Notice}>
      </form>`}
    </${Loaded}>`;
}

export function JourneysPage({ viewer }) {
  const query = useQuery(JOURNEYS);
  const admin = isAdministrator(viewer);
  return html`
    <${Page} title="Customer Journeys">
      <p class="muted">A customer journey per LinkedIn campaign: the leads of the campaign's forms
        are linked to it.</p>
      ${admin && html`<${JourneySwitch} />`}
      ${admin && html`<h2 id="journeys-title">Journeys</h2>`}
      <${Loaded} query=${query}>${(data) => data.customerJourneys.length === 0
        ? html`<${Empty}><p>No customer journeys yet. leadsync creates one for each LinkedIn
            campaign when <strong>Create Journeys for LinkedIn Campaigns</strong> is on${' '}
            ${admin ? html`(above, or in <a href="#/configuration">Integration Configuration</a>)`
                    : '(an administrator turns it on in Integration Configuration)'},
            at the next sync.</p></${Empty}>`
        : html`
          <div class="table-wrap">
            <table class="list">
              <caption class="visually-hidden">Customer journeys</caption>
              <thead><tr><th scope="col">Name</th><th scope="col">Campaign</th>
                <th scope="col">Status</th><th scope="col">Created</th></tr></thead>
              <tbody>
                ${data.customerJourneys.map((j) => html`
                  <tr>
                    <td>${j.name}</td>
                    <td>${j.campaign ? j.campaign.name : html`<span class="muted">—</span>`}</td>
                    <td><${Badge} value=${j.status} /></td>
                    <td class="when">${fmtDateTime(j.createdAt)}</td>
                  </tr>`)}
              </tbody>
            </table>
          </div>`}
      </${Loaded}>
    </${Page}>`;
}

// ------------------------------------------------------------------ Integration Configuration

const RETENTION_RULES = [
  { key: 'submissionsDays', id: 'retention-submissions', label: 'Keep submissions (days)',
    hint: 'Submissions (answers, consents) submitted longer ago are removed; their leads stay.' },
  { key: 'inactiveLeadsDays', id: 'retention-leads', label: 'Keep inactive leads (days)',
    hint: 'Leads neither changed nor submitting for this long are removed with their submissions.' },
  { key: 'operationalRecordsDays', id: 'retention-operational', label: 'Keep operational records (days)',
    hint: 'Finished sync runs and handled webhook notifications older than this are removed.' },
];
const RETENTION_MIN = 1;
const RETENTION_MAX = 3650;
const INTERVAL_MIN = 1;
const INTERVAL_MAX = 1440;
const BACKFILL_MIN = 1;
const BACKFILL_MAX = 365;

/** The form's values (strings for number inputs, as typed) from the server's configuration. */
function formValues(config) {
  const minutes = config.syncIntervalSeconds / 60;
  return {
    createJourneysForCampaigns: config.createJourneysForCampaigns,
    onMatchFail: config.onMatchFail,
    syncIntervalMinutes: String(Number.isInteger(minutes) ? minutes : Number(minutes.toFixed(2))),
    createLeadsFromTestLeads: config.createLeadsFromTestLeads,
    leadTypes: Object.fromEntries(config.leadTypes.map((t) => [t.leadType, { enabled: t.enabled, backfillDays: String(t.backfillDays) }])),
    retention: Object.fromEntries(RETENTION_RULES.map((r) => [r.key, config.retention[r.key] == null ? '' : String(config.retention[r.key])])),
  };
}

/** A whole number in [min, max] from a typed value, or null. */
function wholeNumber(text, min, max) {
  const value = Number(text);
  return text.trim() !== '' && Number.isInteger(value) && value >= min && value <= max ? value : null;
}

/**
 * What to send: only what differs from `config`, and the form's own errors (by field id).
 */
function changes(config, values) {
  const input = {};
  const errors = {};
  if (values.createJourneysForCampaigns !== config.createJourneysForCampaigns) input.createJourneysForCampaigns = values.createJourneysForCampaigns;
  if (values.onMatchFail !== config.onMatchFail) input.onMatchFail = values.onMatchFail;
  if (values.createLeadsFromTestLeads !== config.createLeadsFromTestLeads) input.createLeadsFromTestLeads = values.createLeadsFromTestLeads;
  const loadedMinutes = formValues(config).syncIntervalMinutes;
  if (values.syncIntervalMinutes.trim() !== loadedMinutes) {
    const minutes = wholeNumber(values.syncIntervalMinutes, INTERVAL_MIN, INTERVAL_MAX);
    if (minutes === null) errors['sync-interval'] = `Enter a whole number of minutes from ${INTERVAL_MIN} to ${fmtNumber(INTERVAL_MAX)} (a day).`;
    else if (minutes * 60 !== config.syncIntervalSeconds) input.syncIntervalSeconds = minutes * 60;
  }
  const leadTypes = [];
  for (const setting of config.leadTypes) {
    const value = values.leadTypes[setting.leadType];
    const change = { leadType: setting.leadType };
    if (value.enabled !== setting.enabled) change.enabled = value.enabled;
    if (value.backfillDays.trim() !== String(setting.backfillDays)) {
      const days = wholeNumber(value.backfillDays, BACKFILL_MIN, BACKFILL_MAX);
      if (days === null) errors[`backfill-${setting.leadType}`] = `Enter a whole number of days from ${BACKFILL_MIN} to ${BACKFILL_MAX}.`;
      else change.backfillDays = days;
    }
    if (Object.keys(change).length > 1) leadTypes.push(change);
  }
  if (leadTypes.length) input.leadTypes = leadTypes;
  const retention = {};
  for (const rule of RETENTION_RULES) {
    const text = values.retention[rule.key].trim();
    const current = config.retention[rule.key];
    if (text === '') {
      if (current != null) retention[rule.key] = null;
    } else {
      const days = wholeNumber(text, RETENTION_MIN, RETENTION_MAX);
      if (days === null) errors[rule.id] = `Enter a whole number of days from ${RETENTION_MIN} to ${fmtNumber(RETENTION_MAX)}, or leave it empty to keep them without limit.`;
      else if (days !== current) retention[rule.key] = days;
    }
  }
  if (Object.keys(retention).length) input.retention = retention;
  return { input, errors };
}

const fieldError = (errors, id) => (errors[id] ? { message: errors[id] } : null);

function ApiVersion({ version }) {
  return html`
    <h2>LinkedIn API version</h2>
    <p class="muted">Set by <code>LINKEDIN_API_VERSION</code> when leadsync starts, not here.</p>
    ${version.warning && html`<p class="warning-box">${version.warning}</p>`}
    <dl class="facts">
      <dt>Version</dt><dd><code>${version.version}</code>${version.isDefault ? ' (this release\'s default)' : ''}</dd>
      <dt>Standing</dt><dd><${Badge} value=${{ ACTIVE: 'ACTIVE', SUNSET_SOON: 'PENDING', RETIRED: 'FAILED', UNKNOWN: 'PENDING' }[version.standing]} label=${{ ACTIVE: 'Active', SUNSET_SOON: 'Sunset soon', RETIRED: 'Retired', UNKNOWN: 'Unknown' }[version.standing] ?? version.standing} /></dd>
      <dt>Expected sunset</dt><dd>${version.expectedSunset} (${version.daysToSunset >= 0 ? `in ${fmtNumber(version.daysToSunset)} days` : `${fmtNumber(-version.daysToSunset)} days ago`})</dd>
      <dt>Newer versions</dt><dd>${version.newerVersions.length ? version.newerVersions.join(', ') : 'none'}</dd>
      <dt>Default checked on</dt><dd>${version.defaultCheckedOn}</dd>
    </dl>`;
}

const reportText = (r) => `${fmtNumber(r.submissions)} submissions, ${fmtNumber(r.leads)} leads, ${fmtNumber(r.syncRuns)} sync runs and ${fmtNumber(r.webhookNotifications)} webhook notifications`;
const reportEmpty = (r) => !r.submissions && !r.leads && !r.syncRuns && !r.webhookNotifications;

function RetentionPreview({ dirty }) {
  const [shown, setShown] = useState(false);
  const query = useQuery(shown ? RETENTION_PREVIEW : null);
  const [purge, purging] = useMutation(PURGE);
  const [confirm, dialog] = useConfirm();
  const [purged, setPurged] = useState(null);
  const show = () => {
    setPurged(null);
    if (shown) query.reload();
    else setShown(true);
  };
  const doPurge = async (report) => {
    const ok = await confirm({
      title: 'Purge now?',
      body: html`<p>Under the saved retention rules this removes, for good:${' '}
        ${reportText(report)}. The audit trail is kept. The hourly purge would remove the same.</p>`,
      confirmLabel: 'Purge now',
      danger: true,
    });
    if (!ok) return;
    const data = await purge();
    if (data) {
      setPurged(data.purgeRetention);
      query.reload();
    }
  };
  return html`
    <div class="retention-preview">
      <div class="actions">
        <button type="button" class="button secondary" onClick=${show}
                disabled=${query.loading && shown}>Retention preview</button>
        ${dirty && html`<span class="hint">The preview uses the saved rules: save your changes first.</span>`}
      </div>
      ${shown && html`<${Loaded} query=${query}>${(data) => {
        const report = data.retentionPreview;
        return html`
          <table class="list compact">
            <caption>What the saved retention rules would remove now</caption>
            <thead><tr><th scope="col">Records</th><th scope="col" class="num">To remove</th></tr></thead>
            <tbody>
              <tr><td>Submissions</td><td class="num">${fmtNumber(report.submissions)}</td></tr>
              <tr><td>Leads</td><td class="num">${fmtNumber(report.leads)}</td></tr>
              <tr><td>Sync runs</td><td class="num">${fmtNumber(report.syncRuns)}</td></tr>
              <tr><td>Webhook notifications</td><td class="num">${fmtNumber(report.webhookNotifications)}</td></tr>
            </tbody>
          </table>
          ${reportEmpty(report)
            ? html`<p class="muted">Nothing to remove now${purged ? '' : ': the rules are off or nothing is old enough'}.</p>`
            : html`<button type="button" class="button danger" disabled=${purging.busy}
                           onClick=${() => doPurge(report)}>Purge now</button>`}`;
      }}</${Loaded}>`}
      <${Alert} error=${purging.error} />
      <${Notice}>${purged && `Purged: ${reportText(purged)} removed.`}</${Notice}>
      ${dialog}
    </div>`;
}

function ConfigurationForm({ config, onSaved }) {
  const [values, setValues] = useState(() => formValues(config));
  const [errors, setErrors] = useState({});
  const [message, setMessage] = useState('');
  const [save, { busy, error }] = useMutation(UPDATE);
  const pending = changes(config, values);
  const dirty = Object.keys(pending.input).length > 0 || Object.keys(pending.errors).length > 0;
  const set = (patch) => {
    setValues((v) => ({ ...v, ...patch }));
    setMessage('');
  };
  const setLeadType = (type, patch) => set({ leadTypes: { ...values.leadTypes, [type]: { ...values.leadTypes[type], ...patch } } });
  const setRetention = (key, text) => set({ retention: { ...values.retention, [key]: text } });
  const submit = async (event) => {
    event.preventDefault();
    const { input, errors: found } = changes(config, values);
    setErrors(found);
    setMessage('');
    if (Object.keys(found).length) {
      document.getElementById(Object.keys(found)[0])?.focus();
      return;
    }
    if (!Object.keys(input).length) {
      setMessage('Nothing to save: no value changed.');
      return;
    }
    const data = await save({ input });
    if (data) {
      setValues(formValues({ ...config, ...data.updateIntegrationConfiguration }));
      setMessage('Configuration saved.');
      onSaved();
    }
  };
  return html`
    <form onSubmit=${submit} aria-labelledby="configuration-form-title" novalidate>
      <h2 id="configuration-form-title" class="visually-hidden">Settings</h2>
      <fieldset>
        <legend>Leads</legend>
        <label class="check"><input type="checkbox" checked=${values.createJourneysForCampaigns}
               onChange=${(e) => set({ createJourneysForCampaigns: e.currentTarget.checked })} />
          Create Journeys for LinkedIn Campaigns</label>
        <${Field} id="on-match-fail" label="Match-fail fallback"
                  hint="What a submission does when no lead matches every field of the active strategy.">
          ${(aria) => html`<select ...${aria} value=${values.onMatchFail}
                                   onChange=${(e) => set({ onMatchFail: e.currentTarget.value })}>
            <option value="CREATE_NEW_LEAD">Create a new lead</option>
            <option value="IGNORE">Ignore the submission (keep it unmatched)</option>
          </select>`}
        </${Field}>
        <label class="check"><input type="checkbox" checked=${values.createLeadsFromTestLeads}
               onChange=${(e) => set({ createLeadsFromTestLeads: e.currentTarget.checked })} />
          Create leads from LinkedIn test leads</label>
      </fieldset>
      <fieldset>
        <legend>Synchronization</legend>
        <${Field} id="sync-interval" label="Sync interval (minutes)" error=${fieldError(errors, 'sync-interval')}
                  hint="How often every authorized profile syncs on its own (1 to 1,440 minutes); webhooks bring leads in between.">
          ${(aria) => html`<input type="number" ...${aria} min=${INTERVAL_MIN} max=${INTERVAL_MAX} step="1"
                                  inputmode="numeric" class="number" value=${values.syncIntervalMinutes}
                                  onInput=${(e) => set({ syncIntervalMinutes: e.currentTarget.value })} />`}
        </${Field}>
      </fieldset>
      <fieldset>
        <legend>Lead types</legend>
        <p class="hint">Sponsored leads come from ads. The organic types need an approved role on
          the organization; a newly found source backfills the days set here (LinkedIn keeps ad
          leads 365 days, some organic ones 90).</p>
        <div class="lead-types">
          ${config.leadTypes.map((setting) => {
            const type = setting.leadType;
            const value = values.leadTypes[type];
            const id = `backfill-${type}`;
            return html`
              <fieldset class="lead-type">
                <legend>${leadTypeLabel(type)}</legend>
                <label class="check"><input type="checkbox" checked=${value.enabled}
                       onChange=${(e) => setLeadType(type, { enabled: e.currentTarget.checked })} />
                  Sync ${leadTypeLabel(type, true)}</label>
                <${Field} id=${id} label="Backfill days" error=${fieldError(errors, id)}>
                  ${(aria) => html`<input type="number" ...${aria} min=${BACKFILL_MIN} max=${BACKFILL_MAX}
                                          step="1" inputmode="numeric" class="number" value=${value.backfillDays}
                                          onInput=${(e) => setLeadType(type, { backfillDays: e.currentTarget.value })} />`}
                </${Field}>
              </fieldset>`;
          })}
        </div>
      </fieldset>
      <fieldset>
        <legend>Retention</legend>
        <p class="hint">Each rule is off while empty. Purges run hourly, in batches; the audit
          trail is always kept.</p>
        ${RETENTION_RULES.map((rule) => html`
          <${Field} id=${rule.id} label=${rule.label} hint=${rule.hint} error=${fieldError(errors, rule.id)}>
            ${(aria) => html`<input type="number" ...${aria} min=${RETENTION_MIN} max=${RETENTION_MAX} step="1"
                                    inputmode="numeric" class="number" placeholder="Off"
                                    value=${values.retention[rule.key]}
                                    onInput=${(e) => setRetention(rule.key, e.currentTarget.value)} />`}
          </${Field}>`)}
        <${RetentionPreview} dirty=${dirty} />
      </fieldset>
      <div class="actions">
        <button type="submit" class="button primary" disabled=${busy}
                aria-describedby=${error ? 'configuration-error' : undefined}>Save</button>
        <span class="muted">Last saved ${fmtDateTime(config.updatedAt)}</span>
      </div>
      <${Alert} error=${error} id="configuration-error" />
      <${Notice}>${message}</${Notice}>
    </form>`;
}

export function ConfigurationPage() {
  const query = useQuery(CONFIGURATION);
  return html`
    <${Page} title="Integration Configuration">
      <p class="muted">How leadsync syncs and keeps LinkedIn leads. Save sends only the values
        you changed.</p>
      <${Loaded} query=${query}>${(data) => html`
        <${ConfigurationForm} config=${data.integrationConfiguration} onSaved=${query.reload} />
        <${ApiVersion} version=${data.integrationConfiguration.linkedInApiVersion} />`}
      </${Loaded}>
    </${Page}>`;
}
