// Form Submissions: every synced LinkedIn form response, newest first, with the connector's filters
// (campaign, form, matching status, lead type, dates, test leads) kept in the URL, so
// `#/submissions?formId=3` is a drill-down link from anywhere; "Download CSV" / "Download NDJSON"
// export the filtered list (with a form, its CSV has a column per question). A submission's page shows its
// answers, its lead, the match explanation and the LinkedIn fields that matter.

import {
  Alert, Badge, Empty, ExportButtons, Field, Loaded, Page, Pager, countText, dayEndIso, dayStartIso, fmtDateTime,
  href, html, humanize, navigate, useQuery, usePaging,
} from '/assets/console-lib.js';
import { CHOICES, SubmissionDetails, choiceOptions, leadName, submissionHref } from '/assets/console-leads.js';

const PAGE_SIZE = 25;

const LIST = `query ConsoleFormSubmissions($first: Int, $after: String, $filter: FormSubmissionFilter) {
  formSubmissions(first: $first, after: $after, filter: $filter) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node {
      id submittedAt testLead matchingStatus processingState leadType
      lead { id email firstName lastName }
      form { id name } campaign { id name }
    } }
  }
}`;

const DETAIL_FIELDS = `id linkedInId submittedAt createdAt testLead leadType formVersion
  matchingStatus processingState matchExplanation error hiddenFields creativeUrn submitterUrn
  answers { questionId questionText predefinedField value }
  consents { consentId text accepted }
  lead { id email firstName lastName }
  form { id name locale } campaign { id name }
  customerJourney { id name status }
  account { id name linkedInId ownerUrn }
  profile { id name }
  shownFormVersion { versionId privacyPolicyUrl }`;

const ONE = `query ConsoleFormSubmission($id: ID!) { formSubmission(id: $id) { ${DETAIL_FIELDS} } }`;

const MATCHING = [
  'NEW_LEAD_CREATED', 'UPDATED_EXISTING_LEAD', 'MATCHED_NOT_UPDATED', 'MATCH_FAILED',
  'LEAD_CREATION_FAILED', 'LEAD_UPDATE_FAILED', 'PENDING',
];
const PROCESSING = [
  ['UNPROCESSED', 'Unprocessed'], ['SUCCEEDED', 'Succeeded'], ['FAILED', 'Failed'],
];
const LEAD_TYPES = [
  ['SPONSORED', 'Sponsored (ads)'], ['COMPANY', 'Company page'],
  ['ORGANIZATION_PRODUCT', 'Product page'], ['EVENT', 'Event'],
];

function readFilters(query) {
  const get = (name) => query.get(name) ?? '';
  return {
    campaignId: get('campaignId'), formId: get('formId'), matchingStatus: get('matchingStatus'),
    processingState: get('processingState'),
    leadType: get('leadType'), from: get('from'), to: get('to'), test: get('test'), leadId: get('leadId'),
  };
}

function SubmissionResults({ filter, filtered }) {
  const paging = usePaging();
  const query = useQuery(LIST, { first: PAGE_SIZE, after: paging.after, filter });
  return html`<${Loaded} query=${query}>${(data) => {
    const { totalCount, edges, pageInfo } = data.formSubmissions;
    if (!edges.length && paging.page === 1) {
      return filtered
        ? html`<${Empty}><p><strong>No submission matches these filters.</strong> Change them${filter.testLead === false ? ', check Include test leads' : ''},
            or <a href="#/submissions">show every submission</a>.</p></${Empty}>`
        : html`<${Empty}><p><strong>No submissions yet.</strong> Under <a href="#/profiles">User Profiles</a>,
            authorize a LinkedIn profile and choose <strong>Sync submissions</strong>: its lead gen form
            responses appear here.</p></${Empty}>`;
    }
    return html`
      <p class="muted list-count" role="status">${countText(totalCount, 'submission')}${query.loading ? ' (updating…)' : ''}</p>
      <${Alert} error=${query.error} />
      <div class="table-wrap">
        <table class="list" aria-busy=${query.loading ? 'true' : 'false'}>
          <caption class="visually-hidden">Form submissions, newest first, page ${paging.page}</caption>
          <thead><tr>
            <th scope="col">Submitted</th><th scope="col">Lead</th><th scope="col">Campaign</th>
            <th scope="col">Form</th><th scope="col">Matching status</th><th scope="col">Processing state</th>
          </tr></thead>
          <tbody>${edges.map(({ node: s }) => html`
            <tr>
              <td class="when"><a href=${submissionHref(s)}>${fmtDateTime(s.submittedAt)}</a>
                ${s.testLead && html`<span class="badge warn test-tag">Test lead</span>`}</td>
              <td>${s.lead ? html`<a href=${`#/leads/${s.lead.id}`}>${leadName(s.lead)}</a>` : html`<span class="muted">No lead</span>`}</td>
              <td>${s.campaign?.name ?? '—'}</td>
              <td>${s.form?.name ?? '—'}</td>
              <td><${Badge} value=${s.matchingStatus} /></td>
              <td><${Badge} value=${s.processingState} /></td>
            </tr>`)}
          </tbody>
        </table>
      </div>
      ${(paging.page > 1 || pageInfo.hasNextPage) && html`<${Pager} paging=${paging} pageInfo=${pageInfo} label="Submission pages" />`}`;
  }}</${Loaded}>`;
}

export function SubmissionsPage({ route }) {
  const filters = readFilters(route.query);
  const choices = useQuery(CHOICES);
  const go = (changes) => navigate('submissions', { ...filters, ...changes });

  const filter = Object.fromEntries(Object.entries({
    campaignId: filters.campaignId || null,
    formId: filters.formId || null,
    matchingStatus: filters.matchingStatus || null,
    processingState: filters.processingState || null,
    leadType: filters.leadType || null,
    leadId: filters.leadId || null,
    submittedAfter: dayStartIso(filters.from),
    submittedBefore: dayEndIso(filters.to),
    testLead: filters.test === '1' ? null : false,
  }).filter(([, v]) => v != null));
  const filtered = Object.keys(filter).some((k) => k !== 'testLead');

  const select = (id, label, name, options, all) => html`
    <${Field} id=${id} label=${label}>
      ${(aria) => html`<select ...${aria} value=${filters[name]} onChange=${(e) => go({ [name]: e.currentTarget.value })}>
        <option value="">${all}</option>
        ${options.map(([v, text]) => html`<option value=${v}>${text}</option>`)}
      </select>`}
    </${Field}>`;
  const date = (id, label, name) => html`
    <${Field} id=${id} label=${label}>
      ${(aria) => html`<input type="date" ...${aria} value=${filters[name]}
                              onChange=${(e) => go({ [name]: e.currentTarget.value })} />`}
    </${Field}>`;

  return html`
    <${Page} title="Form Submissions">
      <p class="muted">Every LinkedIn lead gen form response leadsync has synced, newest first, with
        what matching did with it.</p>
      ${filters.leadId && html`<p class="filter-note">Only the submissions of <a href=${`#/leads/${filters.leadId}`}>lead ${filters.leadId}</a> · <a
        href=${href('submissions', { ...filters, leadId: '' })}>Show every lead's</a></p>`}
      <form class="filters" aria-label="Filter submissions" onSubmit=${(e) => e.preventDefault()}>
        ${select('submission-campaign', 'Campaign', 'campaignId', choiceOptions(choices.data?.linkedInCampaigns ?? []), 'All campaigns')}
        ${select('submission-form', 'Form', 'formId', choiceOptions(choices.data?.linkedInForms ?? []), 'All forms')}
        ${select('submission-matching', 'Matching status', 'matchingStatus', MATCHING.map((m) => [m, humanize(m)]), 'Any status')}
        ${select('submission-processing', 'Processing state', 'processingState', PROCESSING, 'Any state')}
        ${select('submission-lead-type', 'Lead type', 'leadType', LEAD_TYPES, 'All lead types')}
        ${date('submission-from', 'Submitted from', 'from')}
        ${date('submission-to', 'Submitted to', 'to')}
        <label class="check filter-check"><input type="checkbox" checked=${filters.test === '1'}
               onChange=${(e) => go({ test: e.currentTarget.checked ? '1' : '' })} /> Include test leads</label>
      </form>
      <${Alert} error=${choices.error} />
      <${ExportButtons} dataset="submissions" params=${filter} label="Download submissions"
                        note=${`${filtered ? 'Every submission matching the filters' : 'Every submission'}${filter.testLead === false ? ' (test leads left out)' : ''}, newest first.`}
                        csvNote=${filter.formId ? 'CSV: one column per question of this form.' : 'CSV: the answers in one JSON column (choose a form for one column per question).'} />
      <${SubmissionResults} key=${JSON.stringify(filter)} filter=${filter} filtered=${filtered} />
    </${Page}>`;
}

export function SubmissionPage({ id }) {
  const query = useQuery(ONE, { id });
  const back = { href: '#/submissions', label: 'Form Submissions' };
  if (query.error?.code === 'NOT_FOUND' && !query.data) {
    return html`<${Page} title="Submission not found" back=${back}>
      <p>There is no submission ${id}: a retention rule or an erasure may have removed it.
        See <a href="#/submissions">Form Submissions</a>.</p></${Page}>`;
  }
  if (!query.data) {
    return html`<${Page} title=${`Submission ${id}`} back=${back}><${Loaded} query=${query}>${() => null}</${Loaded}></${Page}>`;
  }
  const s = query.data.formSubmission;
  const journey = s.customerJourney;
  return html`
    <${Page} title=${`Submission ${s.id}`} back=${back}>
      <p class="muted">${s.form?.name ?? 'Unknown form'} · ${fmtDateTime(s.submittedAt)}</p>
      <div class="card-top badges">
        <${Badge} value=${s.matchingStatus} />
        <${Badge} value=${s.processingState} label=${`Processing: ${humanize(s.processingState).toLowerCase()}`} />
        ${s.testLead && html`<${Badge} value="PENDING" label="Test lead" />`}
      </div>
      <dl class="facts">
        <dt>Lead</dt><dd>${s.lead
          ? html`<a href=${`#/leads/${s.lead.id}`}>${leadName(s.lead)}</a>`
          : html`<span class="muted">No lead${s.testLead ? ' (test leads create none unless the configuration says so)' : ''}</span>`}</dd>
        <dt>Form</dt><dd>${s.form ? html`<a href=${`#/submissions?formId=${s.form.id}`}>${s.form.name}</a>` : '—'}</dd>
        <dt>Campaign</dt><dd>${s.campaign ? html`<a href=${`#/submissions?campaignId=${s.campaign.id}`}>${s.campaign.name}</a>` : '—'}</dd>
        <dt>Customer journey</dt><dd>${journey ? `${journey.name} (${humanize(journey.status).toLowerCase()})` : '—'}</dd>
        <dt>Submitted at</dt><dd>${fmtDateTime(s.submittedAt)}</dd>
        <dt>Synced at</dt><dd>${fmtDateTime(s.createdAt)}</dd>
      </dl>
      <h2>LinkedIn</h2>
      <dl class="facts">
        <dt>LinkedIn response id</dt><dd><code>${s.linkedInId}</code></dd>
        <dt>Form version</dt><dd>${s.formVersion ?? s.shownFormVersion?.versionId ?? '—'}</dd>
        <dt>Submitted at (as LinkedIn gave it)</dt><dd><time datetime=${s.submittedAt}>${s.submittedAt}</time></dd>
        <dt>Test lead</dt><dd>${s.testLead ? 'Yes' : 'No'}</dd>
        <dt>Lead type</dt><dd>${humanize(s.leadType)}</dd>
        <dt>Owner</dt><dd>${s.account ? html`<code>${s.account.ownerUrn}</code> <span class="muted">(${s.account.name})</span>` : '—'}</dd>
        <dt>Submitter</dt><dd>${s.submitterUrn ? html`<code>${s.submitterUrn}</code>` : '—'}</dd>
        ${s.creativeUrn && html`<dt>Creative</dt><dd><code>${s.creativeUrn}</code></dd>`}
        <dt>Synced by</dt><dd>${s.profile ? html`<a href=${`#/profiles/${s.profile.id}`}>${s.profile.name}</a>` : '—'}</dd>
        ${s.shownFormVersion?.privacyPolicyUrl && html`<dt>Privacy policy shown</dt><dd>${s.shownFormVersion.privacyPolicyUrl}</dd>`}
      </dl>
      <${SubmissionDetails} submission=${s} headingLevel=${2} />
    </${Page}>`;
}
