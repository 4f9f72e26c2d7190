// Field Mappings: which lead field each LinkedIn field writes. The table lists the mappings, with
// Delete on the ones leadsync did not seed (the server refuses a mapping a strategy uses, and its
// reason shows beside the row). "Add a field mapping" offers LinkedIn's predefined fields and the
// custom questions seen on synced forms; "Questions mapped to nothing" lists what arrives and is
// kept on the submission only, most answered first, each with "Map {name}" to prefill the form.

import {
  Alert, Badge, Empty, Field, Loaded, Notice, Page, fmtNumber, html, useConfirm, useEffect,
  useMutation, useQuery, useRef, useState,
} from '/assets/console-lib.js';

const MAPPINGS = `query ConsoleFieldMappings {
  fieldMappings { id linkedInField leadField isDefault }
  linkedInForms { id name questions { id name text isCustom isConsent predefinedField } unmappedQuestions { id name text } }
}`;
const UNMAPPED = `query ConsoleUnmappedQuestions { unmappedQuestions { name questionText forms answers } }`;
const CREATE = `mutation ConsoleCreateFieldMapping($input: CreateFieldMappingInput!) {
  createFieldMapping(input: $input) { id linkedInField leadField }
}`;
const DELETE = `mutation ConsoleDeleteFieldMapping($id: ID!) {
  deleteFieldMapping(id: $id) { id linkedInField leadField }
}`;

/** LinkedIn's `predefinedField` values (docs: shared/linkedin-api.md; LinkedIn may add more). */
const PREDEFINED_FIELDS = [
  'FIRST_NAME', 'LAST_NAME', 'EMAIL', 'WORK_EMAIL', 'PHONE_NUMBER', 'WORK_PHONE_NUMBER',
  'COMPANY_NAME', 'JOB_TITLE', 'JOB_FUNCTION', 'SENIORITY', 'INDUSTRY', 'COMPANY_SIZE', 'COUNTRY',
  'STATE', 'CITY', 'ZIP_CODE', 'DEGREE', 'FIELD_OF_STUDY', 'SCHOOL', 'START_DATE',
  'GRADUATION_DATE', 'LINKEDIN_PROFILE_LINK',
];

/** The lead fields a mapping may write (`Lead`'s fields; anything else as `custom.<key>`). */
const LEAD_FIELDS = [
  ['email', 'Email'], ['workEmail', 'Work email'], ['firstName', 'First name'],
  ['lastName', 'Last name'], ['phone', 'Phone'], ['workPhone', 'Work phone'],
  ['company', 'Company'], ['jobTitle', 'Job title'], ['jobFunction', 'Job function'],
  ['seniority', 'Seniority'], ['industry', 'Industry'], ['companySize', 'Company size'],
  ['country', 'Country'], ['state', 'State'], ['city', 'City'], ['zipCode', 'ZIP code'],
];

/** "Purchase timeline" → "custom.purchaseTimeline" (letters and digits; keys allow [A-Za-z0-9_-]). */
export function suggestedLeadField(name) {
  const words = name.normalize('NFD').replace(/[\u0300-\u036f]/g, '')
    .split(/[^A-Za-z0-9]+/).filter(Boolean).slice(0, 8);
  const key = words.map((w, i) => (i === 0 ? w.charAt(0).toLowerCase() + w.slice(1)
    : w.charAt(0).toUpperCase() + w.slice(1).toLowerCase())).join('').slice(0, 60);
  return `custom.${key || 'answer'}`;
}

const keyOf = (name) => name.trim().toLowerCase();

/** The custom questions of the synced forms, one per mapping key (name, else text). */
function customQuestions(forms) {
  const byKey = new Map();
  for (const form of forms) {
    for (const q of form.questions) {
      if (!q.isCustom || q.isConsent) continue;
      const name = (q.name ?? '').trim() || q.text.trim();
      if (!byKey.has(keyOf(name))) byKey.set(keyOf(name), { name, text: q.text });
    }
  }
  return [...byKey.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * Until the server has `unmappedQuestions`: the forms' own unmapped questions, by name, with the
 * number of forms asking each (the answers are not counted there).
 */
function unmappedFromForms(forms) {
  const byKey = new Map();
  for (const form of forms) {
    for (const q of form.unmappedQuestions) {
      const name = (q.name ?? '').trim() || q.text.trim();
      const entry = byKey.get(keyOf(name)) ?? { name, questionText: q.text, forms: 0, answers: null };
      entry.forms += 1;
      byKey.set(keyOf(name), entry);
    }
  }
  return [...byKey.values()].sort((a, b) => b.forms - a.forms || a.name.localeCompare(b.name));
}

function MappingRows({ mapping, confirm, onDeleted }) {
  const [remove, { busy, error }] = useMutation(DELETE);
  const errorId = `mapping-${mapping.id}-error`;
  const doDelete = async () => {
    const ok = await confirm({
      title: `Delete the mapping of ${mapping.linkedInField}?`,
      body: html`<p>Answers to <strong>${mapping.linkedInField}</strong> will no longer be
        written into the lead field <code>${mapping.leadField}</code>. Values already on leads and
        every answer on the submissions stay.</p>`,
      confirmLabel: 'Delete',
      danger: true,
    });
    if (!ok) return;
    const data = await remove({ id: mapping.id });
    if (data) onDeleted(data.deleteFieldMapping);
  };
  return html`
    <tr>
      <td><code>${mapping.linkedInField}</code></td>
      <td><code>${mapping.leadField}</code></td>
      <td>${mapping.isDefault ? html`<${Badge} value="UNCHANGED" label="Default" />` : html`<span class="muted">Added</span>`}</td>
      <td>${mapping.isDefault ? html`<span class="muted">Seeded by leadsync</span>`
        : html`<button type="button" class="button secondary small" disabled=${busy}
                       aria-label=${`Delete ${mapping.linkedInField}`}
                       aria-describedby=${error ? errorId : undefined} onClick=${doDelete}>Delete</button>`}</td>
    </tr>
    ${error && html`<tr class="row-error"><td colspan="4"><${Alert} error=${error} id=${errorId} /></td></tr>`}`;
}

function AddMapping({ mappings, questions, prefill, message, onAdded }) {
  const [linkedInField, setLinkedInField] = useState('');
  const [leadField, setLeadField] = useState('');
  const [create, { busy, error, reset }] = useMutation(CREATE);
  const leadInput = useRef(null);
  const formRef = useRef(null);
  useEffect(() => {
    if (!prefill) return;
    setLinkedInField(prefill.linkedInField);
    setLeadField(prefill.leadField);
    reset();
    formRef.current?.scrollIntoView({ block: 'nearest' });
    leadInput.current?.focus();
    leadInput.current?.select();
  }, [prefill]);
  const mapped = new Map(mappings.map((m) => [keyOf(m.linkedInField), m.leadField]));
  const customKeys = [...new Set(mappings.map((m) => m.leadField).filter((f) => f.startsWith('custom.')))];
  const submit = async (event) => {
    event.preventDefault();
    const data = await create({ input: { linkedInField: linkedInField.trim(), leadField: leadField.trim() } });
    if (data) {
      setLinkedInField('');
      setLeadField('');
      onAdded(data.createFieldMapping);
    }
  };
  const note = (name) => (mapped.has(keyOf(name)) ? ` (mapped to ${mapped.get(keyOf(name))})` : '');
  return html`
    <form ref=${formRef} class="mapping-form" onSubmit=${submit} aria-labelledby="add-mapping-title">
      <h2 id="add-mapping-title">Add a field mapping</h2>
      <div class="mapping-fields">
        <${Field} id="mapping-linkedin-field" label="LinkedIn field"
                  hint="A predefined field (EMAIL, COMPANY_NAME, …) or a custom question's name as the form shows it.">
          ${(aria) => html`<input type="text" ...${aria} list="linkedin-field-options" required maxlength="200"
                                  autocomplete="off" value=${linkedInField}
                                  onInput=${(e) => setLinkedInField(e.currentTarget.value)} />`}
        </${Field}>
        <${Field} id="mapping-lead-field" label="Lead field"
                  hint="A lead field (email, jobTitle, …) or custom.<key> (letters, digits, _ and -) to keep it in the lead's custom fields.">
          ${(aria) => html`<input type="text" ...${aria} ref=${leadInput} list="lead-field-options" required
                                  maxlength="110" autocomplete="off" spellcheck="false" value=${leadField}
                                  onInput=${(e) => setLeadField(e.currentTarget.value)} />`}
        </${Field}>
      </div>
      <datalist id="linkedin-field-options">
        ${questions.map((q) => html`<option value=${q.name}>${`Custom question: ${q.text}${note(q.name)}`}</option>`)}
        ${PREDEFINED_FIELDS.map((f) => html`<option value=${f}>${`Predefined field${note(f)}`}</option>`)}
      </datalist>
      <datalist id="lead-field-options">
        ${LEAD_FIELDS.map(([value, label]) => html`<option value=${value}>${label}</option>`)}
        ${customKeys.map((value) => html`<option value=${value}>Custom field</option>`)}
      </datalist>
      <button type="submit" class="button primary" disabled=${busy}
              aria-describedby=${error ? 'add-mapping-error' : undefined}>Add</button>
      <${Alert} error=${error} id="add-mapping-error" />
      <${Notice}>${message}</${Notice}>
    </form>`;
}

function Unmapped({ forms, version, onMap }) {
  const query = useQuery(UNMAPPED);
  const { reload } = query;
  useEffect(() => {
    if (version) reload();
  }, [version]);
  // An older server has no `unmappedQuestions`: take the forms' unmapped questions instead.
  const missing = query.error?.code === 'GRAPHQL_VALIDATION_FAILED';
  const rows = missing ? unmappedFromForms(forms) : query.data?.unmappedQuestions;
  let body;
  if (query.error && !missing && !query.data) {
    body = html`<${Alert} error=${query.error} />
      <button type="button" class="button secondary" onClick=${query.reload}>Retry</button>`;
  } else if (!rows) {
    body = html`<p class="loading" role="status">Loading…</p>`;
  } else if (rows.length === 0) {
    body = html`<${Empty}><p>Every question of the synced forms is mapped: each answer reaches a
      lead field.${forms.length ? '' : html` No form has been synced yet: authorize a${' '}
      <a href="#/profiles">user profile</a> and its forms' questions appear here.`}</p></${Empty}>`;
  } else {
    body = html`
      <div class="table-wrap">
        <table class="list">
          <caption class="visually-hidden">Questions mapped to nothing, most answered first</caption>
          <thead><tr><th scope="col">Name</th><th scope="col">Question</th>
            <th scope="col" class="num">Forms</th><th scope="col" class="num">Answers</th>
            <th scope="col"><span class="visually-hidden">Action</span></th></tr></thead>
          <tbody>
            ${rows.map((q) => html`
              <tr>
                <td><strong>${q.name}</strong></td>
                <td>${q.questionText}</td>
                <td class="num">${fmtNumber(q.forms)}</td>
                <td class="num">${q.answers == null ? html`<span class="muted">—</span>` : fmtNumber(q.answers)}</td>
                <td><button type="button" class="button secondary small" aria-label=${`Map ${q.name}`}
                            onClick=${() => onMap(q.name)}>Map</button></td>
              </tr>`)}
          </tbody>
        </table>
      </div>`;
  }
  return html`
    <h2 id="unmapped-title">Questions mapped to nothing</h2>
    <p class="muted">Answers to these questions stay on the submission only. Map one to write it
      into a lead field.</p>
    ${missing && html`<p class="hint">This server does not count answers yet (no${' '}
      <code>unmappedQuestions</code> query): the list comes from the synced forms.</p>`}
    ${body}`;
}

export function MappingsPage() {
  const query = useQuery(MAPPINGS);
  const [confirm, dialog] = useConfirm();
  const [message, setMessage] = useState({ table: '', form: '' });
  const [prefill, setPrefill] = useState(null);
  const [version, setVersion] = useState(0);
  const changed = (where, text) => {
    setMessage({ table: '', form: '', [where]: text });
    setVersion((v) => v + 1);
    query.reload();
  };
  const map = (name) => {
    setMessage({ table: '', form: '' });
    setPrefill({ linkedInField: name, leadField: suggestedLeadField(name) });
  };
  return html`
    <${Page} title="Field Mappings">
      <p class="muted">A field mapping writes a LinkedIn field's answer into a lead field. Every
        answer also stays on its submission. Matching strategies match on these mappings.</p>
      <${Loaded} query=${query}>${(data) => html`
        ${data.fieldMappings.length === 0
          ? html`<${Empty}><p>No field mappings: answers reach no lead field. Add one below.</p></${Empty}>`
          : html`
            <div class="table-wrap">
              <table class="list">
                <caption class="visually-hidden">Field mappings</caption>
                <thead><tr><th scope="col">LinkedIn field</th><th scope="col">Lead field</th>
                  <th scope="col">Default</th><th scope="col"><span class="visually-hidden">Action</span></th></tr></thead>
                <tbody>${data.fieldMappings.map((m) => html`
                  <${MappingRows} key=${m.id} mapping=${m} confirm=${confirm}
                                  onDeleted=${(d) => changed('table', `The mapping of ${d.linkedInField} is deleted.`)} />`)}
                </tbody>
              </table>
            </div>`}
        <${Notice}>${message.table}</${Notice}>
        <${AddMapping} mappings=${data.fieldMappings} questions=${customQuestions(data.linkedInForms)}
                       prefill=${prefill} message=${message.form}
                       onAdded=${(m) => changed('form', `${m.linkedInField} is now mapped to ${m.leadField}.`)} />
        <${Unmapped} forms=${data.linkedInForms} version=${version} onMap=${map} />`}
      </${Loaded}>
      ${dialog}
    </${Page}>`;
}
