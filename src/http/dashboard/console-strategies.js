// Lead Matching Strategies: the connector's procedures. New (name, Save); open one to Add and
// remove its LinkedIn fields, Preview it on recent submissions, Activate it, or Delete it (the
// server refuses the active one and the reason shows beside the button). The match-fail fallback
// sits on the list, since it applies to whichever strategy is active.

import {
  Alert, Badge, Empty, Field, Loaded, Notice, Page, fmtDateTime, html, navigate,
  useConfirm, useMutation, useQuery, useState,
} from '/assets/console-lib.js';

const STRATEGY_FIELDS = 'id name isActive alwaysCreateLead createdAt updatedAt fields { id linkedInField leadField isDefault }';

const LIST = `query ConsoleStrategies {
  leadMatchingStrategies { ${STRATEGY_FIELDS} }
  integrationConfiguration { onMatchFail }
}`;
const ONE = `query ConsoleStrategy {
  leadMatchingStrategies { ${STRATEGY_FIELDS} }
  fieldMappings { id linkedInField leadField }
}`;
const CREATE = `mutation ConsoleCreateStrategy($input: CreateLeadMatchingStrategyInput!) {
  createLeadMatchingStrategy(input: $input) { id }
}`;
const UPDATE = `mutation ConsoleUpdateStrategy($id: ID!, $input: UpdateLeadMatchingStrategyInput!) {
  updateLeadMatchingStrategy(id: $id, input: $input) { id alwaysCreateLead name }
}`;
const ADD_FIELD = `mutation ConsoleAddStrategyField($strategyId: ID!, $linkedInField: String!) {
  addStrategyField(strategyId: $strategyId, linkedInField: $linkedInField) { id }
}`;
const REMOVE_FIELD = `mutation ConsoleRemoveStrategyField($strategyId: ID!, $linkedInField: String!) {
  removeStrategyField(strategyId: $strategyId, linkedInField: $linkedInField) { id }
}`;
const ACTIVATE = `mutation ConsoleActivateStrategy($id: ID!) { activateStrategy(id: $id) { id isActive } }`;
const DELETE = `mutation ConsoleDeleteStrategy($id: ID!) { deleteLeadMatchingStrategy(id: $id) { id name } }`;
const PREVIEW = `query ConsolePreviewStrategy($id: ID!, $limit: Int!) {
  previewLeadMatchingStrategy(id: $id, limit: $limit) {
    outcome explanation
    lead { id email firstName lastName }
    submission { id submittedAt form { name } campaign { name } }
  }
}`;
const SET_FALLBACK = `mutation ConsoleSetFallback($input: UpdateIntegrationConfigurationInput!) {
  updateIntegrationConfiguration(input: $input) { onMatchFail }
}`;

function NewStrategy({ onCreated, onCancel }) {
  const [name, setName] = useState('');
  const [alwaysCreate, setAlwaysCreate] = useState(false);
  const [create, { busy, error }] = useMutation(CREATE);
  const save = async (event) => {
    event.preventDefault();
    const data = await create({ input: { name, alwaysCreateLead: alwaysCreate } });
    if (data) onCreated(data.createLeadMatchingStrategy.id);
  };
  return html`
    <form class="card-form" onSubmit=${save} aria-labelledby="new-strategy-title">
      <h2 id="new-strategy-title">New lead matching strategy</h2>
      <${Field} id="strategy-name" label="Name" error=${error}
                hint="Then add the LinkedIn fields that must all match an existing lead.">
        ${(aria) => html`<input type="text" ...${aria} required maxlength="200" value=${name}
                                onInput=${(e) => setName(e.currentTarget.value)} />`}
      </${Field}>
      <label class="check"><input type="checkbox" checked=${alwaysCreate}
             onChange=${(e) => setAlwaysCreate(e.currentTarget.checked)} />
        Always create a new lead (skip matching)</label>
      <div class="actions">
        <button type="submit" class="button primary" disabled=${busy}>Save</button>
        <button type="button" class="button secondary" onClick=${onCancel}>Cancel</button>
      </div>
    </form>`;
}

function Fallback({ value, onSaved }) {
  const [choice, setChoice] = useState(value);
  const [save, { busy, error }] = useMutation(SET_FALLBACK);
  const [saved, setSaved] = useState(false);
  const submit = async (event) => {
    event.preventDefault();
    setSaved(false);
    if (await save({ input: { onMatchFail: choice } })) {
      setSaved(true);
      onSaved();
    }
  };
  return html`
    <form onSubmit=${submit} aria-labelledby="fallback-title">
      <h2 id="fallback-title">When no lead matches</h2>
      <${Field} id="on-match-fail" label="Match-fail fallback" error=${error}
                hint="Applies to the active strategy: what a submission does when no lead matches every field.">
        ${(aria) => html`<select ...${aria} value=${choice} onChange=${(e) => setChoice(e.currentTarget.value)}>
          <option value="CREATE_NEW_LEAD">Create a new lead</option>
          <option value="IGNORE">Ignore the submission (keep it unmatched)</option>
        </select>`}
      </${Field}>
      <button type="submit" class="button primary" disabled=${busy}>Save</button>
      <${Notice}>${saved && 'The fallback is saved.'}</${Notice}>
    </form>`;
}

export function StrategiesPage() {
  const query = useQuery(LIST);
  const [creating, setCreating] = useState(false);
  return html`
    <${Page} title="Lead Matching Strategies"
             actions=${!creating && html`<button type="button" class="button primary" onClick=${() => setCreating(true)}>New</button>`}>
      <p class="muted">A strategy lists the LinkedIn fields that must all match before a synced
        submission updates an existing lead. Exactly one strategy is active.</p>
      ${creating && html`<${NewStrategy} onCancel=${() => setCreating(false)}
                                          onCreated=${(id) => navigate(`strategies/${id}`)} />`}
      <${Loaded} query=${query}>${(data) => html`
        ${data.leadMatchingStrategies.length === 0
          ? html`<${Empty}><p>No strategies yet. Choose <strong>New</strong> to create one.</p></${Empty}>`
          : html`
          <div class="table-wrap">
            <table class="list">
              <caption class="visually-hidden">Lead matching strategies</caption>
              <thead><tr><th scope="col">Name</th><th scope="col">Status</th>
                <th scope="col">LinkedIn fields</th><th scope="col">Updated</th></tr></thead>
              <tbody>
                ${data.leadMatchingStrategies.map((s) => html`
                  <tr>
                    <td><a href=${`#/strategies/${s.id}`}>${s.name}</a></td>
                    <td>${s.isActive ? html`<${Badge} value="ACTIVE" label="Active" />` : html`<${Badge} value="INACTIVE" label="Inactive" />`}
                        ${s.alwaysCreateLead && html` <${Badge} value="UPDATED" label="Always creates" />`}</td>
                    <td>${s.fields.length ? s.fields.map((f) => f.linkedInField).join(', ') : html`<span class="muted">none yet</span>`}</td>
                    <td>${fmtDateTime(s.updatedAt)}</td>
                  </tr>`)}
              </tbody>
            </table>
          </div>`}
        <${Fallback} value=${data.integrationConfiguration.onMatchFail} onSaved=${query.reload} />`}
      </${Loaded}>
    </${Page}>`;
}

function AddField({ strategy, mappings, onChanged }) {
  const unused = mappings.filter((m) => !strategy.fields.some((f) => f.linkedInField === m.linkedInField));
  const [choice, setChoice] = useState('');
  const [add, { busy, error }] = useMutation(ADD_FIELD);
  const submit = async (event) => {
    event.preventDefault();
    const field = choice || unused[0]?.linkedInField;
    if (field && (await add({ strategyId: strategy.id, linkedInField: field }))) {
      setChoice('');
      onChanged();
    }
  };
  if (!unused.length) {
    return html`<${Empty}><p>Every field mapping is already in this strategy. Add mappings under
      <a href="#/mappings">Field Mappings</a> to match on more fields.</p></${Empty}>`;
  }
  return html`
    <form onSubmit=${submit} class="inline-form">
      <${Field} id="add-field" label="LinkedIn field to match" error=${error}>
        ${(aria) => html`<select ...${aria} value=${choice || unused[0].linkedInField}
                                onChange=${(e) => setChoice(e.currentTarget.value)}>
          ${unused.map((m) => html`<option value=${m.linkedInField}>${m.linkedInField} → ${m.leadField}</option>`)}
        </select>`}
      </${Field}>
      <button type="submit" class="button primary" disabled=${busy}>Add</button>
    </form>`;
}

function RemoveField({ strategy, field, onChanged }) {
  const [remove, { busy, error }] = useMutation(REMOVE_FIELD);
  return html`
    <li>
      <span><strong>${field.linkedInField}</strong> → <code>${field.leadField}</code></span>
      <button type="button" class="button secondary small" disabled=${busy}
              aria-label=${`Remove ${field.linkedInField}`}
              onClick=${async () => (await remove({ strategyId: strategy.id, linkedInField: field.linkedInField })) && onChanged()}>Remove</button>
      <${Alert} error=${error} />
    </li>`;
}

function Preview({ strategy }) {
  const [shown, setShown] = useState(false);
  const query = useQuery(shown ? PREVIEW : null, { id: strategy.id, limit: 20 });
  if (!shown) {
    return html`<button type="button" class="button secondary" onClick=${() => setShown(true)}>Preview</button>`;
  }
  return html`
    <${Loaded} query=${query}>${(data) => data.previewLeadMatchingStrategy.length === 0
      ? html`<${Empty}><p>No submissions to preview yet: authorize a <a href="#/profiles">user profile</a> and sync.</p></${Empty}>`
      : html`
        <div class="table-wrap">
          <table class="list">
            <caption>What this strategy would do with the ${data.previewLeadMatchingStrategy.length} latest submissions (nothing is written)</caption>
            <thead><tr><th scope="col">Submitted</th><th scope="col">Form</th><th scope="col">Outcome</th>
              <th scope="col">Lead</th><th scope="col">Why</th></tr></thead>
            <tbody>${data.previewLeadMatchingStrategy.map((p) => html`
              <tr>
                <td class="when">${fmtDateTime(p.submission.submittedAt)}</td>
                <td>${p.submission.form?.name ?? '—'}</td>
                <td><${Badge} value=${p.outcome} /></td>
                <td>${p.lead ? html`<a href=${`#/leads/${p.lead.id}`}>${p.lead.email ?? `Lead ${p.lead.id}`}</a>` : '—'}</td>
                <td>${p.explanation}</td>
              </tr>`)}</tbody>
          </table>
        </div>`}
    </${Loaded}>`;
}

function Settings({ strategy, onChanged }) {
  const [update, { busy, error }] = useMutation(UPDATE);
  return html`
    <div>
      <label class="check"><input type="checkbox" checked=${strategy.alwaysCreateLead} disabled=${busy}
             onChange=${async (e) => (await update({ id: strategy.id, input: { alwaysCreateLead: e.currentTarget.checked } })) && onChanged()} />
        Always create a new lead (every submission creates its own lead)</label>
      <${Alert} error=${error} />
    </div>`;
}

export function StrategyPage({ id }) {
  const query = useQuery(ONE);
  const [activate, activation] = useMutation(ACTIVATE);
  const [remove, removal] = useMutation(DELETE);
  const [confirm, dialog] = useConfirm();
  const [message, setMessage] = useState('');
  return html`
    <${Loaded} query=${query}>${(data) => {
      const strategy = data.leadMatchingStrategies.find((s) => s.id === id);
      if (!strategy) {
        return html`<${Page} title="Strategy not found" back=${{ href: '#/strategies', label: 'Lead Matching Strategies' }}>
          <p>This strategy does not exist (it may have been deleted).</p></${Page}>`;
      }
      const others = data.leadMatchingStrategies.filter((s) => s.isActive && s.id !== id);
      const doActivate = async () => {
        setMessage('');
        if (await activate({ id })) {
          setMessage(`${strategy.name} is now the active strategy${others.length ? `; ${others.map((o) => o.name).join(', ')} is inactive` : ''}.`);
          query.reload();
        }
      };
      const doDelete = async () => {
        const ok = await confirm({
          title: `Delete ${strategy.name}?`,
          body: html`<p>The strategy and its list of fields are deleted. Leads, submissions and
            field mappings stay. This cannot be undone.</p>`,
          confirmLabel: 'Delete',
          danger: true,
        });
        if (ok && (await remove({ id }))) navigate('strategies');
      };
      return html`
        <${Page} title=${strategy.name} back=${{ href: '#/strategies', label: 'Lead Matching Strategies' }}
                 actions=${html`
                   ${strategy.isActive
                     ? html`<${Badge} value="ACTIVE" label="Active" />`
                     : html`<button type="button" class="button primary" disabled=${activation.busy} onClick=${doActivate}>Activate</button>`}
                   <button type="button" class="button danger" disabled=${removal.busy} onClick=${doDelete}
                           aria-describedby=${removal.error ? 'delete-error' : undefined}>Delete</button>`}>
          <${Alert} error=${removal.error} id="delete-error" />
          <${Alert} error=${activation.error} />
          <${Notice}>${message}</${Notice}>
          <dl class="facts">
            <dt>Status</dt><dd>${strategy.isActive ? 'Active: synced submissions are matched with it' : 'Inactive'}</dd>
            <dt>Created</dt><dd>${fmtDateTime(strategy.createdAt)}</dd>
          </dl>
          <${Settings} strategy=${strategy} onChanged=${query.reload} />
          <h2>LinkedIn fields</h2>
          <p class="muted">Every field must match before an existing lead is updated${strategy.alwaysCreateLead ? ' (ignored while this strategy always creates a new lead)' : ''}.</p>
          ${strategy.fields.length === 0
            ? html`<${Empty}><p>No fields yet: a strategy without fields matches no lead. Add one below.</p></${Empty}>`
            : html`<ul class="field-list">${strategy.fields.map((f) => html`<${RemoveField} strategy=${strategy} field=${f} onChanged=${query.reload} />`)}</ul>`}
          <${AddField} strategy=${strategy} mappings=${data.fieldMappings} onChanged=${query.reload} />
          <h2>Preview</h2>
          <p class="muted">Try the strategy on the latest submissions before activating it.</p>
          <${Preview} strategy=${strategy} />
          ${dialog}
        </${Page}>`;
    }}</${Loaded}>`;
}
