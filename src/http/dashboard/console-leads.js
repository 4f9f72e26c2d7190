// Leads (Sales): the lead list with search, filters, order and paging, kept in the URL so a reload
// or a shared link opens the same list; New creates a lead by hand. The lead page has the
// connector's two tabs: Summary (the fields, editable by the roles that may, where the lead came
// from, its consents) and LinkedIn Lead Info (every submission with all its answers, consents,
// hidden fields and the match explanation). Administrators download a lead's personal data and
// erase a lead; the server decides every call. "Download CSV" / "Download NDJSON" export the
// list's search and filters through a signed download link (console-lib.js `ExportButtons`).

import {
  Alert, Badge, Empty, ExportButtons, Field, Loaded, Notice, Page, Pager, countText, dayEndIso, dayStartIso,
  downloadJson, fmtDateTime, fmtNumber, gql, hasRole, html, humanize, navigate, replaceRoute,
  useConfirm, useDebounced, useEffect, useMutation, useQuery, useRef, useState, usePaging,
} from '/assets/console-lib.js';

const PAGE_SIZE = 25;
const LEAD_USERS = ['LEADGEN_ADMINISTRATOR', 'LEADGEN_SALESPERSON'];
const ADMIN = ['LEADGEN_ADMINISTRATOR'];

// ------------------------------------------------------------------ operations
const LEAD_SUMMARY = `id firstName lastName email company source createdAt updatedAt
  latestSubmissionAt submissionCount sourceCampaign { id name }`;

const LIST = `query ConsoleLeads($first: Int, $after: String, $filter: LeadFilter, $orderBy: LeadOrder) {
  leads(first: $first, after: $after, filter: $filter, orderBy: $orderBy) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node { ${LEAD_SUMMARY} } }
  }
}`;
export const CHOICES = `query ConsoleFilterChoices {
  linkedInCampaigns { id name account { id name } }
  linkedInForms { id name account { id name } }
}`;
const CREATE = `mutation ConsoleCreateLead($input: CreateLeadInput!) { createLead(input: $input) { id } }`;

/** Every editable lead field: the GraphQL name and the words of its label (and textbox). */
const FIELDS = [
  ['firstName', 'First name'], ['lastName', 'Last name'], ['email', 'Email', 'email'],
  ['workEmail', 'Work email', 'email'], ['phone', 'Phone', 'tel'], ['workPhone', 'Work phone', 'tel'],
  ['company', 'Company'], ['jobTitle', 'Job title'], ['jobFunction', 'Job function'],
  ['seniority', 'Seniority'], ['industry', 'Industry'], ['companySize', 'Company size'],
  ['city', 'City'], ['state', 'State'], ['zipCode', 'ZIP code'], ['country', 'Country'],
];

const LEAD = `query ConsoleLead($id: ID!) {
  lead(id: $id) {
    id ${FIELDS.map(([name]) => name).join(' ')} customFields
    source createdAt updatedAt latestSubmissionAt submissionCount
    sourceCampaign { id name status customerJourney { id name status } }
    sourceForm { id name }
    consents { id consentId text accepted submittedAt formVersion linkedInResponseId form { id name } }
  }
}`;
const LINKEDIN_INFO = `query ConsoleLeadLinkedInInfo($id: ID!, $first: Int!, $after: String) {
  lead(id: $id) {
    id
    submissions(first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { node {
        id linkedInId submittedAt testLead leadType formVersion
        matchingStatus processingState matchExplanation error hiddenFields
        form { id name } campaign { id name }
        answers { questionId questionText predefinedField value }
        consents { consentId text accepted }
      } }
    }
  }
}`;
const UPDATE = `mutation ConsoleUpdateLead($id: ID!, $input: UpdateLeadInput!) {
  updateLead(id: $id, input: $input) { id }
}`;
const EXPORT = `query ConsoleExportLead($leadId: ID!) { exportLeadPersonalData(leadId: $leadId) }`;
const ERASE = `mutation ConsoleEraseLead($id: ID!) { eraseLead(id: $id) { id } }`;

// ------------------------------------------------------------------ shared bits
/** A lead's name as people read it: first and last name, else an email, else its number. */
export function leadName(lead) {
  const name = [lead.firstName, lead.lastName].filter(Boolean).join(' ').trim();
  return name || lead.email || lead.workEmail || `Lead ${lead.id}`;
}

/** `[id, label]` per campaign or form; a name used twice says whose ad account it is on. */
export function choiceOptions(items) {
  const seen = new Map();
  for (const item of items) seen.set(item.name, (seen.get(item.name) ?? 0) + 1);
  return items.map((item) => [
    item.id,
    seen.get(item.name) > 1 && item.account ? `${item.name} · ${item.account.name}` : item.name,
  ]);
}

const SOURCES = [
  'LINKEDIN_SPONSORED_CONTENT', 'LINKEDIN_COMPANY_PAGE', 'LINKEDIN_PRODUCT_PAGE', 'LINKEDIN_EVENT',
  'MANUAL', 'IMPORT', 'WEB', 'OTHER',
];

const ORDERS = [
  ['CREATED_AT', 'DESC', 'Created, newest first'], ['CREATED_AT', 'ASC', 'Created, oldest first'],
  ['UPDATED_AT', 'DESC', 'Updated, newest first'], ['UPDATED_AT', 'ASC', 'Updated, oldest first'],
  ['LATEST_SUBMISSION_AT', 'DESC', 'Latest submission, newest first'],
  ['LATEST_SUBMISSION_AT', 'ASC', 'Latest submission, oldest first'],
  ['EMAIL', 'ASC', 'Email, A to Z'], ['EMAIL', 'DESC', 'Email, Z to A'],
];
const DEFAULT_ORDER = 'CREATED_AT_DESC';

/** A status message for the list, left by a page that navigated there (an erasure). */
let flash = '';

// ------------------------------------------------------------------ list
function NewLead({ onCancel }) {
  const [values, setValues] = useState({ email: '', firstName: '', lastName: '', company: '' });
  const [create, { busy, error }] = useMutation(CREATE);
  const set = (name) => (e) => setValues({ ...values, [name]: e.currentTarget.value });
  const save = async (event) => {
    event.preventDefault();
    const input = Object.fromEntries(Object.entries(values).filter(([, v]) => v.trim() !== ''));
    const data = await create({ input });
    if (data) navigate(`leads/${data.createLead.id}`);
  };
  const box = (id, name, label, type = 'text') => html`
    <${Field} id=${id} label=${label}>
      ${(aria) => html`<input type=${type} ...${aria} maxlength="1000" value=${values[name]}
                              autocomplete="off" onInput=${set(name)} />`}
    </${Field}>`;
  return html`
    <form class="card-form" onSubmit=${save} aria-labelledby="new-lead-title">
      <h2 id="new-lead-title">New lead</h2>
      <p class="muted">A lead added by hand has the source Manual; LinkedIn submissions that match it
        (by the active strategy) update it later.</p>
      ${box('new-lead-email', 'email', 'Email', 'email')}
      ${box('new-lead-first', 'firstName', 'First name')}
      ${box('new-lead-last', 'lastName', 'Last name')}
      ${box('new-lead-company', 'company', 'Company')}
      <${Alert} error=${error} />
      <div class="actions">
        <button type="submit" class="button primary" disabled=${busy}>Save</button>
        <button type="button" class="button secondary" onClick=${onCancel}>Cancel</button>
      </div>
    </form>`;
}

/** One page of the list; keyed by the filters, so a change of filter starts again at page 1. */
function LeadResults({ filter, orderBy, filtered }) {
  const paging = usePaging();
  const query = useQuery(LIST, { first: PAGE_SIZE, after: paging.after, filter, orderBy });
  return html`<${Loaded} query=${query}>${(data) => {
    const { totalCount, edges, pageInfo } = data.leads;
    if (!edges.length && paging.page === 1) {
      return filtered
        ? html`<${Empty}><p><strong>No lead matches these filters.</strong> Change the search or the
            filters, or <a href="#/leads">show every lead</a>.</p></${Empty}>`
        : html`<${Empty}><p><strong>No leads yet.</strong> Leads arrive from LinkedIn: under <a href="#/profiles">User Profiles</a>,
            authorize a profile and choose <strong>Sync submissions</strong>. Or choose <strong>New</strong> to
            add a lead by hand.</p></${Empty}>`;
    }
    return html`
      <p class="muted list-count" role="status">${countText(totalCount, 'lead')}${query.loading ? ' (updating…)' : ''}</p>
      <${Alert} error=${query.error} />
      <div class="table-wrap">
        <table class="list" aria-busy=${query.loading ? 'true' : 'false'}>
          <caption class="visually-hidden">Leads, page ${paging.page}</caption>
          <thead><tr>
            <th scope="col">Lead</th><th scope="col">Company</th><th scope="col">Source and campaign</th>
            <th scope="col" class="num">Submissions</th>
            <th scope="col">Created and updated</th>
          </tr></thead>
          <tbody>${edges.map(({ node: lead }) => html`
            <tr>
              <td><a href=${`#/leads/${lead.id}`}>${leadName(lead)}</a>
                ${lead.email && leadName(lead) !== lead.email && html`<span class="sub">${lead.email}</span>`}</td>
              <td>${lead.company ?? '—'}</td>
              <td>${humanize(lead.source)}${lead.sourceCampaign && html`<span class="sub">${lead.sourceCampaign.name}</span>`}</td>
              <td class="num">${fmtNumber(lead.submissionCount)}</td>
              <td class="when">${fmtDateTime(lead.createdAt)}<span class="sub">updated ${fmtDateTime(lead.updatedAt)}</span></td>
            </tr>`)}
          </tbody>
        </table>
      </div>
      ${(paging.page > 1 || pageInfo.hasNextPage) && html`<${Pager} paging=${paging} pageInfo=${pageInfo} label="Lead pages" />`}`;
  }}</${Loaded}>`;
}

function readLeadFilters(query) {
  return {
    q: query.get('q') ?? '',
    source: query.get('source') ?? '',
    campaignId: query.get('campaignId') ?? '',
    formId: query.get('formId') ?? '',
    from: query.get('from') ?? '',
    to: query.get('to') ?? '',
    order: ORDERS.some(([f, d]) => `${f}_${d}` === query.get('order')) ? query.get('order') : DEFAULT_ORDER,
  };
}

export function LeadsPage({ route }) {
  const filters = readLeadFilters(route.query);
  const [creating, setCreating] = useState(false);
  const [notice] = useState(() => {
    const message = flash;
    flash = '';
    return message;
  });
  const choices = useQuery(CHOICES);

  const go = (changes, replace = false) => {
    const next = { ...filters, ...changes };
    if (next.order === DEFAULT_ORDER) next.order = '';
    (replace ? replaceRoute : navigate)('leads', next);
  };

  // The search box: typed text settles for 300 ms before it becomes the URL's `q`.
  const [text, setText] = useState(filters.q);
  const pushed = useRef(filters.q);
  const settled = useDebounced(text, 300);
  useEffect(() => {
    const q = settled.trim();
    if (q !== pushed.current) {
      pushed.current = q;
      go({ q }, true);
    }
  }, [settled]);
  useEffect(() => {
    if (filters.q !== pushed.current) {
      pushed.current = filters.q;
      setText(filters.q);
    }
  }, [filters.q]);

  const filter = Object.fromEntries(Object.entries({
    search: filters.q || null,
    source: filters.source || null,
    campaignId: filters.campaignId || null,
    formId: filters.formId || null,
    createdAfter: dayStartIso(filters.from),
    createdBefore: dayEndIso(filters.to),
  }).filter(([, v]) => v != null));
  const [orderField, orderDirection] = ORDERS.find(([f, d]) => `${f}_${d}` === filters.order);
  const orderBy = { field: orderField, direction: orderDirection };
  const key = JSON.stringify([filter, orderBy]);
  const filtered = Object.keys(filter).length > 0;

  const campaigns = choices.data?.linkedInCampaigns ?? [];
  const forms = choices.data?.linkedInForms ?? [];
  const select = (id, label, name, options, all) => html`
    <${Field} id=${id} label=${label}>
      ${(aria) => html`<select ...${aria} value=${filters[name]} onChange=${(e) => go({ [name]: e.currentTarget.value })}>
        <option value="">${all}</option>
        ${options.map(([value, text]) => html`<option value=${value}>${text}</option>`)}
      </select>`}
    </${Field}>`;

  return html`
    <${Page} title="Leads"
             actions=${!creating && html`<button type="button" class="button primary" onClick=${() => setCreating(true)}>New</button>`}>
      <${Notice}>${notice}</${Notice}>
      ${creating && html`<${NewLead} onCancel=${() => setCreating(false)} />`}
      <form class="filters" role="search" aria-label="Find leads" onSubmit=${(e) => e.preventDefault()}>
        <${Field} id="lead-search" label="Search">
          ${(aria) => html`<input type="search" ...${aria} value=${text} maxlength="200"
                                  placeholder="Name, email or company"
                                  onInput=${(e) => setText(e.currentTarget.value)} />`}
        </${Field}>
        ${select('lead-source', 'Source', 'source', SOURCES.map((s) => [s, humanize(s)]), 'All sources')}
        ${select('lead-campaign', 'Campaign', 'campaignId', choiceOptions(campaigns), 'All campaigns')}
        ${select('lead-form', 'Form', 'formId', choiceOptions(forms), 'All forms')}
        <${Field} id="lead-from" label="Created from">
          ${(aria) => html`<input type="date" ...${aria} value=${filters.from}
                                  onChange=${(e) => go({ from: e.currentTarget.value })} />`}
        </${Field}>
        <${Field} id="lead-to" label="Created to">
          ${(aria) => html`<input type="date" ...${aria} value=${filters.to}
                                  onChange=${(e) => go({ to: e.currentTarget.value })} />`}
        </${Field}>
        <${Field} id="lead-order" label="Order by">
          ${(aria) => html`<select ...${aria} value=${filters.order} onChange=${(e) => go({ order: e.currentTarget.value })}>
            ${ORDERS.map(([f, d, label]) => html`<option value=${`${f}_${d}`}>${label}</option>`)}
          </select>`}
        </${Field}>
      </form>
      <${Alert} error=${choices.error} />
      <${ExportButtons} dataset="leads" params=${filter} label="Download leads"
                        note=${`${filtered ? 'Every lead matching the search and filters' : 'Every lead'}, newest first.`} />
      <${LeadResults} key=${key} filter=${filter} orderBy=${orderBy} filtered=${filtered} />
    </${Page}>`;
}

// ------------------------------------------------------------------ lead page
/** WAI-ARIA tabs: arrow keys, Home and End move between tabs and select them. */
function Tabs({ label, tabs, current, onSelect }) {
  const refs = useRef({});
  const onKeyDown = (event) => {
    const at = tabs.findIndex((t) => t.id === current);
    const to = {
      ArrowRight: (at + 1) % tabs.length,
      ArrowLeft: (at - 1 + tabs.length) % tabs.length,
      Home: 0,
      End: tabs.length - 1,
    }[event.key];
    if (to === undefined) return;
    event.preventDefault();
    onSelect(tabs[to].id);
    refs.current[tabs[to].id]?.focus();
  };
  return html`
    <div class="tabs" role="tablist" aria-label=${label} onKeyDown=${onKeyDown}>
      ${tabs.map((t) => html`
        <button type="button" role="tab" id=${`tab-${t.id}`} aria-controls=${`panel-${t.id}`}
                aria-selected=${t.id === current ? 'true' : 'false'} tabindex=${t.id === current ? '0' : '-1'}
                ref=${(el) => { refs.current[t.id] = el; }} onClick=${() => onSelect(t.id)}>${t.label}</button>`)}
    </div>`;
}

function value(v) {
  return v == null || v === '' ? html`<span class="muted">—</span>` : v;
}

function EditLead({ lead, onSaved, onCancel }) {
  const initial = Object.fromEntries(FIELDS.map(([name]) => [name, lead[name] ?? '']));
  const initialCustom = JSON.stringify(lead.customFields ?? {}, null, 2);
  const [values, setValues] = useState(initial);
  const [custom, setCustom] = useState(initialCustom);
  const [customError, setCustomError] = useState(null);
  const [update, { busy, error }] = useMutation(UPDATE);
  const save = async (event) => {
    event.preventDefault();
    const input = {};
    for (const [name] of FIELDS) {
      const next = values[name].trim();
      if (next !== (lead[name] ?? '')) input[name] = next === '' ? null : next;
    }
    if (custom.trim() !== initialCustom) {
      let parsed;
      try {
        parsed = JSON.parse(custom.trim() || '{}');
      } catch {
        parsed = undefined;
      }
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
        setCustomError({ code: 'BAD_USER_INPUT', message: 'Custom fields must be a JSON object, like {"budget": "10k"}.' });
        return;
      }
      input.customFields = parsed;
    }
    setCustomError(null);
    if (!Object.keys(input).length) {
      onCancel();
      return;
    }
    if (await update({ id: lead.id, input })) onSaved();
  };
  return html`
    <form onSubmit=${save} aria-labelledby="edit-lead-title" class="lead-edit">
      <h2 id="edit-lead-title">Edit the lead</h2>
      <div class="field-grid">
        ${FIELDS.map(([name, label, type]) => html`
          <${Field} id=${`lead-${name}`} label=${label}>
            ${(aria) => html`<input type=${type ?? 'text'} ...${aria} maxlength="1000" value=${values[name]}
                                    onInput=${(e) => setValues({ ...values, [name]: e.currentTarget.value })} />`}
          </${Field}>`)}
      </div>
      <${Field} id="lead-customFields" label="Custom fields" error=${customError}
                hint="A JSON object of the mapped custom questions' values; it replaces the current one.">
        ${(aria) => html`<textarea ...${aria} rows="4" spellcheck="false" value=${custom}
                                   onInput=${(e) => setCustom(e.currentTarget.value)}></textarea>`}
      </${Field}>
      <${Alert} error=${error} />
      <div class="actions">
        <button type="submit" class="button primary" disabled=${busy}>Save</button>
        <button type="button" class="button secondary" onClick=${onCancel}>Cancel</button>
      </div>
    </form>`;
}

function Summary({ lead, viewer, onChanged }) {
  const [editing, setEditing] = useState(false);
  const [saved, setSaved] = useState(false);
  const journey = lead.sourceCampaign?.customerJourney;
  const custom = Object.entries(lead.customFields ?? {});
  return html`
    ${editing
      ? html`<${EditLead} lead=${lead} onCancel=${() => setEditing(false)}
                          onSaved=${() => { setEditing(false); setSaved(true); onChanged(); }} />`
      : html`
        <div class="section-head">
          <h2>Lead fields</h2>
          ${hasRole(viewer, ...LEAD_USERS) && html`<button type="button" class="button secondary"
              onClick=${() => { setSaved(false); setEditing(true); }}>Edit</button>`}
        </div>
        <${Notice}>${saved && 'The lead is saved.'}</${Notice}>
        <dl class="facts">
          ${FIELDS.map(([name, label]) => html`<dt>${label}</dt><dd>${value(lead[name])}</dd>`)}
        </dl>
        ${custom.length > 0 && html`
          <h3>Custom fields</h3>
          <dl class="facts">${custom.map(([k, v]) => html`<dt>${k}</dt><dd>${typeof v === 'string' ? v : JSON.stringify(v)}</dd>`)}</dl>`}`}
    <h2>Where it came from</h2>
    <dl class="facts">
      <dt>Source</dt><dd>${humanize(lead.source)}</dd>
      <dt>Campaign</dt><dd>${lead.sourceCampaign
        ? html`<a href=${`#/submissions?campaignId=${lead.sourceCampaign.id}`}>${lead.sourceCampaign.name}</a>`
        : value(null)}</dd>
      <dt>Form</dt><dd>${lead.sourceForm
        ? html`<a href=${`#/submissions?formId=${lead.sourceForm.id}`}>${lead.sourceForm.name}</a>`
        : value(null)}</dd>
      <dt>Customer journey</dt><dd>${journey
        ? html`${journey.name} <${Badge} value=${journey.status === 'LIVE' ? 'ACTIVE' : journey.status} label=${humanize(journey.status)} />`
        : html`<span class="muted">none</span>`}</dd>
      <dt>Submissions</dt><dd>${lead.submissionCount > 0
        ? html`<a href=${`#/submissions?leadId=${lead.id}`}>${fmtNumber(lead.submissionCount)}</a>`
        : '0'}</dd>
      <dt>Latest submission</dt><dd>${fmtDateTime(lead.latestSubmissionAt)}</dd>
      <dt>Created</dt><dd>${fmtDateTime(lead.createdAt)}</dd>
      <dt>Updated</dt><dd>${fmtDateTime(lead.updatedAt)}</dd>
    </dl>
    <h2>Consents</h2>
    ${lead.consents.length === 0
      ? html`<${Empty}><p>No consents recorded: this lead answered no consent on a LinkedIn form.</p></${Empty}>`
      : html`
        <div class="table-wrap" tabindex="0" role="region" aria-label="Consents">
          <table class="list">
            <caption class="visually-hidden">Consents of this lead, newest first</caption>
            <thead><tr><th scope="col">Consent</th><th scope="col">Answer</th>
              <th scope="col">When</th><th scope="col">Form</th></tr></thead>
            <tbody>${lead.consents.map((c) => html`
              <tr>
                <td>${c.text}</td>
                <td><${ConsentBadge} accepted=${c.accepted} /></td>
                <td class="when">${fmtDateTime(c.submittedAt)}</td>
                <td>${c.form?.name ?? '—'}${c.formVersion != null && html`<span class="sub">version ${c.formVersion}</span>`}</td>
              </tr>`)}
            </tbody>
          </table>
        </div>`}`;
}

export function ConsentBadge({ accepted }) {
  return accepted
    ? html`<${Badge} value="SUCCEEDED" label="Accepted" />`
    : html`<${Badge} value="FAILED" label="Declined" />`;
}

/** A submission's answers, consents, hidden fields and match explanation (shared with Form Submissions). */
export function SubmissionDetails({ submission, headingLevel = 3 }) {
  const h = (text) => (headingLevel === 2 ? html`<h2>${text}</h2>` : html`<h3>${text}</h3>`);
  const hidden = Object.entries(submission.hiddenFields ?? {});
  const title = submission.form?.name ?? 'this form';
  return html`
    ${h('Answers')}
    ${submission.answers.length === 0
      ? html`<p class="muted">No answers kept (a retention rule may have removed them).</p>`
      : html`
        <div class="table-wrap">
          <table class="list answers">
            <caption class="visually-hidden">Answers to ${title}</caption>
            <thead><tr><th scope="col">Question</th><th scope="col">Answer</th></tr></thead>
            <tbody>${submission.answers.map((a) => html`
              <tr><th scope="row">${a.questionText}${a.predefinedField && html`<span class="sub">${a.predefinedField}</span>`}</th>
                <td>${a.value}</td></tr>`)}
            </tbody>
          </table>
        </div>`}
    ${h('Consents')}
    ${submission.consents.length === 0
      ? html`<p class="muted">The form asked for no consent.</p>`
      : html`<ul class="consent-list">${submission.consents.map((c) => html`
          <li><${ConsentBadge} accepted=${c.accepted} /> <span>${c.text}</span></li>`)}</ul>`}
    ${hidden.length > 0 && html`
      ${h('Hidden fields')}
      <dl class="facts">${hidden.map(([k, v]) => html`<dt>${k}</dt><dd>${typeof v === 'string' ? v : JSON.stringify(v)}</dd>`)}</dl>`}
    ${h('Match explanation')}
    <p class="explanation">${submission.matchExplanation ?? html`<span class="muted">Not matched yet.</span>`}</p>
    ${submission.error && html`<p class="warning-box">Processing failed: ${submission.error}</p>`}`;
}

/** The link to a submission's own page. */
export function submissionHref(submission) {
  return `#/submissions/${encodeURIComponent(submission.id)}`;
}

function LinkedInInfo({ lead }) {
  const paging = usePaging();
  const query = useQuery(LINKEDIN_INFO, { id: lead.id, first: 10, after: paging.after });
  return html`<${Loaded} query=${query}>${(data) => {
    const { totalCount, edges, pageInfo } = data.lead.submissions;
    if (!edges.length && paging.page === 1) {
      return html`<${Empty}><p>No LinkedIn submissions for this lead${lead.source === 'MANUAL' ? ': it was added by hand' : ''}.
        Submissions appear here when a synced LinkedIn form response matches it.</p></${Empty}>`;
    }
    return html`
      <p class="muted">${countText(totalCount, 'submission')}, newest first.</p>
      <ol class="cards submissions">${edges.map(({ node: s }) => html`
        <li>
          <article aria-labelledby=${`submission-${s.id}-title`}>
            <h2 id=${`submission-${s.id}-title`} class="card-title">${s.form?.name ?? 'Unknown form'}
              <span class="muted"> · ${fmtDateTime(s.submittedAt)}</span></h2>
            <div class="card-top">
              <${Badge} value=${s.matchingStatus} />
              <${Badge} value=${s.processingState} label=${`Processing: ${humanize(s.processingState).toLowerCase()}`} />
              ${s.testLead && html`<${Badge} value="PENDING" label="Test lead" />`}
              <a href=${submissionHref(s)}>Submission details</a>
            </div>
            <dl class="facts">
              <dt>Form</dt><dd>${s.form ? html`<a href=${`#/submissions?formId=${s.form.id}`}>${s.form.name}</a>` : '—'}
                ${s.formVersion != null && html`<span class="muted"> (version ${s.formVersion})</span>`}</dd>
              <dt>Campaign</dt><dd>${s.campaign ? html`<a href=${`#/submissions?campaignId=${s.campaign.id}`}>${s.campaign.name}</a>` : '—'}</dd>
              <dt>Submitted at</dt><dd>${fmtDateTime(s.submittedAt)}</dd>
              <dt>Test lead</dt><dd>${s.testLead ? 'Yes' : 'No'}</dd>
              <dt>Lead type</dt><dd>${humanize(s.leadType)}</dd>
              <dt>LinkedIn response id</dt><dd><code>${s.linkedInId}</code></dd>
            </dl>
            <${SubmissionDetails} submission=${s} />
          </article>
        </li>`)}
      </ol>
      ${(paging.page > 1 || pageInfo.hasNextPage) && html`<${Pager} paging=${paging} pageInfo=${pageInfo} label="Submission pages" />`}`;
  }}</${Loaded}>`;
}

export function LeadPage({ id, viewer, route }) {
  // The tab is the page's own state (selected at once) and the URL's (`?tab=linkedin`, kept on reload).
  const routeTab = route.query.get('tab') === 'linkedin' ? 'linkedin' : 'summary';
  const [tab, setTab] = useState(routeTab);
  useEffect(() => setTab(routeTab), [routeTab]);
  const query = useQuery(LEAD, { id });
  const [opened, setOpened] = useState({ [tab]: true });
  const [confirm, dialog] = useConfirm();
  const [erase, erasure] = useMutation(ERASE);
  const [exporting, setExporting] = useState({ busy: false, error: null, done: '' });
  useEffect(() => setOpened((o) => ({ ...o, [tab]: true })), [tab]);
  const back = { href: '#/leads', label: 'Leads' };

  if (query.error?.code === 'NOT_FOUND' && !query.data) {
    return html`<${Page} title="Lead not found" back=${back}>
      <p>There is no lead ${id}: it may have been erased or deleted.</p></${Page}>`;
  }
  const select = (next) => {
    setTab(next);
    replaceRoute(`leads/${id}`, { tab: next === 'linkedin' ? 'linkedin' : '' });
  };

  return html`<${Loaded} query=${query}>${(data) => {
    const lead = data.lead;
    const name = leadName(lead);
    const download = async () => {
      setExporting({ busy: true, error: null, done: '' });
      try {
        const result = await gql(EXPORT, { leadId: lead.id });
        const file = `lead-${lead.id}-personal-data.json`;
        downloadJson(file, result.exportLeadPersonalData);
        setExporting({ busy: false, error: null, done: `Downloaded ${file}.` });
      } catch (error) {
        setExporting({ busy: false, error, done: '' });
      }
    };
    const doErase = async () => {
      const n = lead.submissionCount;
      const m = lead.consents.length;
      const ok = await confirm({
        title: `Erase ${name}?`,
        body: html`<p>${[
          `This erases the lead ${name}${lead.email && lead.email !== name ? ` (${lead.email})` : ''},`,
          n === 1 ? 'its 1 submission and its answers,' : `its ${fmtNumber(n)} submissions and all their answers,`,
          `and its ${fmtNumber(m)} consent ${m === 1 ? 'record' : 'records'}.`,
          'LinkedIn will not bring them back: later syncs skip this person\'s responses. This cannot be undone.',
        ].join(' ')}</p>`,
        confirmLabel: 'Erase',
        danger: true,
      });
      if (ok && (await erase({ id: lead.id }))) {
        flash = `Lead ${lead.id} was erased with its ${fmtNumber(n)} ${n === 1 ? 'submission' : 'submissions'} and ${fmtNumber(m)} consent ${m === 1 ? 'record' : 'records'}.`;
        navigate('leads');
      }
    };
    const admin = hasRole(viewer, ...ADMIN);
    return html`
      <${Page} title=${name} back=${back}
               actions=${admin && html`
                 <button type="button" class="button secondary" disabled=${exporting.busy} onClick=${download}
                         aria-describedby=${exporting.error ? 'download-error' : undefined}>Download personal data</button>
                 <button type="button" class="button danger" disabled=${erasure.busy} onClick=${doErase}
                         aria-describedby=${erasure.error ? 'erase-error' : undefined}>Erase</button>`}>
        <${Alert} error=${exporting.error} id="download-error" />
        <${Alert} error=${erasure.error} id="erase-error" />
        <${Notice}>${exporting.done}</${Notice}>
        <p class="muted lead-subtitle">${[lead.email, lead.company, humanize(lead.source)].filter(Boolean).join(' · ')}</p>
        <${Tabs} label="Lead" current=${tab} onSelect=${select}
                 tabs=${[{ id: 'summary', label: 'Summary' }, { id: 'linkedin', label: 'LinkedIn Lead Info' }]} />
        <div role="tabpanel" id="panel-summary" aria-labelledby="tab-summary" tabindex="0" hidden=${tab !== 'summary'}>
          ${(opened.summary || tab === 'summary') && html`<${Summary} lead=${lead} viewer=${viewer} onChanged=${query.reload} />`}
        </div>
        <div role="tabpanel" id="panel-linkedin" aria-labelledby="tab-linkedin" tabindex="0" hidden=${tab !== 'linkedin'}>
          ${(opened.linkedin || tab === 'linkedin') && html`<${LinkedInInfo} lead=${lead} />`}
        </div>
        ${dialog}
      </${Page}>`;
  }}</${Loaded}>`;
}
