// User Profiles: the connector's procedures for a salesperson's LinkedIn user profile. New (name,
// Save) opens the profile; Authorize takes the browser to LinkedIn, which sends it back to
// leadsync's callback and from there to this profile's page, where the associated LinkedIn
// accounts appear as discovery finishes (each with a "Sync {account}" switch). Sync submissions
// and Reset synchronization show the run live (`syncRunUpdated`, with `syncRun` polled in case
// the socket is down) and end with its outcome. Administrators read profiles; the server refuses
// their writes and says so beside the button.

import {
  Alert, Badge, Empty, Field, Loaded, Notice, Page, fmtDateTime, fmtNumber, gql, hasRole, html,
  humanize, leadTypeLabel, navigate, subscribe, useCallback, useConfirm, useEffect, useMutation,
  useQuery, useRef, useState,
} from '/assets/console-lib.js';

const ACCOUNT_FIELDS = 'id name linkedInId leadType syncStatus status statusDetails enabledForSync lastSyncAt isTest';
const PROFILE_FIELDS = `id name authorizationStatus syncStatus statusDetails linkedInMemberName createdAt
  tokenExpiresAt refreshTokenExpiresAt reauthorizeBy reauthorizationWarning hasRefreshToken
  webhookLastValidatedAt lastSyncAt accounts { ${ACCOUNT_FIELDS} }`;
const RUN_FIELDS = `id status trigger startedAt finishedAt submissionsFetched submissionsCreated
  duplicatesSkipped leadsCreated leadsUpdated failed error`;

const LIST = `query ConsoleProfiles {
  linkedInUserProfiles {
    id name authorizationStatus syncStatus linkedInMemberName lastSyncAt reauthorizationWarning
    accounts { id enabledForSync }
  }
}`;
// The API has no `linkedInUserProfile(id)`: the page reads the list and picks its profile.
const ONE = `query ConsoleProfile($id: ID!) { linkedInUserProfile(id: $id) { ${PROFILE_FIELDS} } }`;
const CREATE = `mutation ConsoleCreateProfile($input: CreateLinkedInUserProfileInput!) {
  createLinkedInUserProfile(input: $input) { id }
}`;
const AUTHORIZE = `mutation ConsoleAuthorizeProfile($id: ID!) {
  authorizeLinkedInUserProfile(id: $id) { authorizationUrl }
}`;
const UPDATE_ACCOUNT = `mutation ConsoleUpdateAccount($id: ID!, $input: UpdateLinkedInAccountInput!) {
  updateLinkedInAccount(id: $id, input: $input) { ${ACCOUNT_FIELDS} }
}`;
const SYNC = `mutation ConsoleSyncSubmissions($profileId: ID!) {
  syncSubmissions(profileId: $profileId) { ${RUN_FIELDS} }
}`;
const RESET = `mutation ConsoleResetSynchronization($profileId: ID!) {
  resetSynchronization(profileId: $profileId) { ${RUN_FIELDS} }
}`;
const RUN = `query ConsoleSyncRun($id: ID!) { syncRun(id: $id) { ${RUN_FIELDS} } }`;
const RUN_UPDATED = `subscription ConsoleSyncRunUpdated($profileId: ID) {
  syncRunUpdated(profileId: $profileId) { ${RUN_FIELDS} }
}`;

/** How often the page asks again while a run or the discovery of accounts is going on. */
const POLL_MS = 2000;
/** How long after opening (or starting a run) the page keeps refreshing the profile. */
const SETTLE_MS = 60_000;

const isDone = (run) => run.status === 'SUCCEEDED' || run.status === 'FAILED';
const stage = (run) => ({ QUEUED: 0, RUNNING: 1 })[run.status] ?? 2;
const mayWrite = (viewer) => hasRole(viewer, 'LEADGEN_SALESPERSON');

function ReadOnlyNote({ viewer }) {
  if (mayWrite(viewer)) return null;
  return html`<p class="warning-box">Your roles let you read profiles. Creating, authorizing and
    syncing one is a salesperson's work: the server refuses it for your roles.</p>`;
}

// ------------------------------------------------------------------ list

function NewProfile({ onCreated, onCancel }) {
  const [name, setName] = useState('');
  const [create, { busy, error }] = useMutation(CREATE);
  const save = async (event) => {
    event.preventDefault();
    const data = await create({ input: { name: name.trim() } });
    if (data) onCreated(data.createLinkedInUserProfile.id);
  };
  return html`
    <form class="new-profile" onSubmit=${save} aria-labelledby="new-profile-title">
      <h2 id="new-profile-title">New LinkedIn user profile</h2>
      <${Field} id="profile-name" label="Name" error=${error}
                hint="For example your own name. Next, Authorize it with your LinkedIn account.">
        ${(aria) => html`<input type="text" ...${aria} required maxlength="200" value=${name}
                                onInput=${(e) => setName(e.currentTarget.value)} />`}
      </${Field}>
      <div class="actions">
        <button type="submit" class="button primary" disabled=${busy}>Save</button>
        <button type="button" class="button secondary" onClick=${onCancel}>Cancel</button>
      </div>
    </form>`;
}

export function ProfilesPage({ viewer }) {
  const query = useQuery(LIST);
  const [creating, setCreating] = useState(false);
  return html`
    <${Page} title="User Profiles"
             actions=${!creating && html`<button type="button" class="button primary" onClick=${() => setCreating(true)}>New</button>`}>
      <p class="muted">A user profile connects one LinkedIn member to leadsync: once authorized,
        the leads of the ad accounts and organizations that member can reach are synced.</p>
      <${ReadOnlyNote} viewer=${viewer} />
      ${creating && html`<${NewProfile} onCancel=${() => setCreating(false)}
                                         onCreated=${(id) => navigate(`profiles/${id}`)} />`}
      <${Loaded} query=${query}>${(data) => data.linkedInUserProfiles.length === 0
        ? html`<${Empty}><p>No LinkedIn user profile yet: choose <strong>New</strong>, then${' '}
            <strong>Authorize</strong> it with LinkedIn.</p></${Empty}>`
        : html`
          <div class="table-wrap">
            <table class="list">
              <caption class="visually-hidden">LinkedIn user profiles</caption>
              <thead><tr><th scope="col">Name</th><th scope="col">Authorization</th>
                <th scope="col">Sync status</th><th scope="col">LinkedIn member</th>
                <th scope="col" class="num">Accounts syncing</th><th scope="col">Last sync</th></tr></thead>
              <tbody>
                ${data.linkedInUserProfiles.map((p) => html`
                  <tr>
                    <td><a href=${`#/profiles/${p.id}`}>${p.name}</a>
                      ${p.reauthorizationWarning && html` <${Badge} value="REAUTHORIZING" label="Authorize again" />`}</td>
                    <td><${Badge} value=${p.authorizationStatus} /></td>
                    <td><${Badge} value=${p.syncStatus} /></td>
                    <td>${p.linkedInMemberName ?? html`<span class="muted">—</span>`}</td>
                    <td class="num">${fmtNumber(p.accounts.filter((a) => a.enabledForSync).length)} of ${fmtNumber(p.accounts.length)}</td>
                    <td>${fmtDateTime(p.lastSyncAt)}</td>
                  </tr>`)}
              </tbody>
            </table>
          </div>`}
      </${Loaded}>
    </${Page}>`;
}

// ------------------------------------------------------------------ one profile

/**
 * The sync runs of one profile as they come: from `syncRunUpdated`, and from polling `syncRun`
 * every 2 s while the followed run is unfinished (in case the socket is down). `start(run)`
 * follows a run just started; `onFinished` is called once when the followed run ends.
 */
function useSyncRuns(profileId, onFinished) {
  const [runs, setRuns] = useState({});
  const [followed, setFollowed] = useState(null);
  const finishedRef = useRef(onFinished);
  finishedRef.current = onFinished;
  const notified = useRef(new Set());

  const merge = useCallback((run) => {
    setRuns((prev) => {
      const old = prev[run.id];
      // Answers cross (the mutation's QUEUED after the socket's RUNNING, a late poll): a run only
      // moves forward.
      if (old && (stage(run) < stage(old)
        || (stage(run) === stage(old) && !isDone(run) && run.submissionsFetched < old.submissionsFetched))) return prev;
      return { ...prev, [run.id]: run };
    });
  }, []);

  useEffect(() => subscribe(RUN_UPDATED, { profileId }, (data) => {
    const run = data.syncRunUpdated;
    merge(run);
    // A run started elsewhere (schedule, authorization) is shown until one is started here.
    setFollowed((id) => id ?? run.id);
  }), [profileId]);

  const run = followed ? runs[followed] : null;
  const running = Boolean(run && !isDone(run));

  useEffect(() => {
    if (!followed || !running) return undefined;
    let live = true;
    const timer = setInterval(() => {
      gql(RUN, { id: followed }).then((data) => live && merge(data.syncRun), () => {});
    }, POLL_MS);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [followed, running]);

  useEffect(() => {
    if (run && isDone(run) && !notified.current.has(run.id)) {
      notified.current.add(run.id);
      finishedRef.current?.(run);
    }
  }, [run]);

  const start = useCallback((started) => {
    merge(started);
    setFollowed(started.id);
  }, []);
  return { run, running, start };
}

function RunProgress({ run }) {
  if (!run) return null;
  const done = isDone(run);
  const reset = run.trigger === 'RESET';
  const counts = `${fmtNumber(run.submissionsFetched)} lead responses read, ${fmtNumber(run.submissionsCreated)} submissions stored`;
  let message;
  if (run.status === 'QUEUED') message = `${reset ? 'Reset synchronization' : 'Sync'} queued: starting…`;
  else if (run.status === 'RUNNING') message = `${reset ? 'Re-reading the 365-day window' : 'Syncing'}: ${counts}…`;
  else if (run.status === 'SUCCEEDED') {
    const extra = [
      run.duplicatesSkipped && `${fmtNumber(run.duplicatesSkipped)} responses already stored were skipped`,
      run.failed && `${fmtNumber(run.failed)} failed`,
    ].filter(Boolean);
    message = `Sync finished: ${fmtNumber(run.submissionsCreated)} submissions stored, ${fmtNumber(run.leadsCreated)} leads created, ${fmtNumber(run.leadsUpdated)} updated${extra.length ? `; ${extra.join(', ')}` : ''}.`;
  } else message = '';
  return html`
    <div class="sync-run">
      <progress key=${`${run.id}-${done}`} aria-label="Sync progress" max="1" value=${done ? 1 : undefined}></progress>
      <${Notice}>${message}</${Notice}>
      ${run.status === 'FAILED' && html`<${Alert} error=${{ message: `The sync failed after ${counts}: ${run.error ?? 'the server gave no reason'}.` }} />`}
      <p class="muted small-print">${humanize(run.trigger)} run ${run.id} · started ${fmtDateTime(run.startedAt)}${done ? ` · ended ${fmtDateTime(run.finishedAt)}` : ''}</p>
    </div>`;
}

function AccountRows({ account, onChanged }) {
  const [update, { busy, error }] = useMutation(UPDATE_ACCOUNT);
  const [enabled, setEnabled] = useState(account.enabledForSync);
  useEffect(() => setEnabled(account.enabledForSync), [account.enabledForSync]);
  const toggle = async (event) => {
    const next = event.currentTarget.checked;
    setEnabled(next);
    if (await update({ id: account.id, input: { enabledForSync: next } })) onChanged();
    else setEnabled(!next);
  };
  const errorId = `account-${account.id}-error`;
  const details = account.statusDetails
    ?? (account.status ? `LinkedIn status: ${humanize(account.status)}` : null);
  return html`
    <tr>
      <td><input type="checkbox" class="row-check" checked=${enabled} disabled=${busy}
                 aria-label=${`Sync ${account.name}`} aria-describedby=${error ? errorId : undefined}
                 onChange=${toggle} /></td>
      <td>${account.name}${account.isTest && html` <${Badge} value="PENDING" label="Test account" />`}</td>
      <td><code>${account.linkedInId}</code></td>
      <td>${leadTypeLabel(account.leadType)}</td>
      <td><${Badge} value=${enabled ? account.syncStatus : 'NOT_SYNCING'} /></td>
      <td>${details ?? html`<span class="muted">—</span>`}</td>
      <td class="when">${fmtDateTime(account.lastSyncAt)}</td>
    </tr>
    ${error && html`<tr class="row-error"><td colspan="7"><${Alert} error=${error} id=${errorId} /></td></tr>`}`;
}

function Accounts({ profile, settling, onChanged }) {
  const { accounts } = profile;
  if (!accounts.length) {
    if (profile.authorizationStatus !== 'AUTHORIZED') {
      return html`<${Empty}><p>No associated accounts yet: choose <strong>Authorize</strong> and
        allow leadsync on LinkedIn. The ad accounts and organizations the member can reach appear
        here.</p></${Empty}>`;
    }
    if (settling) {
      return html`<${Empty}><p role="status">Discovering the LinkedIn accounts this member can
        reach…</p></${Empty}>`;
    }
    return html`<${Empty}><p>LinkedIn lists no ad account or organization this member can reach
      (${humanize(profile.syncStatus)}). Give the member a role on an ad account or a page, then
      choose <strong>Sync submissions</strong> to look again.</p></${Empty}>`;
  }
  return html`
    <div class="table-wrap">
      <table class="list account-table" aria-labelledby="accounts-title">
        <thead><tr><th scope="col">Sync</th><th scope="col">Name</th><th scope="col">LinkedIn id</th>
          <th scope="col">Lead type</th><th scope="col">Sync status</th><th scope="col">Status details</th>
          <th scope="col">Last sync</th></tr></thead>
        <tbody>${accounts.map((a) => html`<${AccountRows} key=${a.id} account=${a} onChanged=${onChanged} />`)}</tbody>
      </table>
    </div>`;
}

function Authorization({ profile }) {
  const [authorize, { busy, error }] = useMutation(AUTHORIZE);
  const [leaving, setLeaving] = useState(false);
  const authorized = profile.authorizationStatus === 'AUTHORIZED';
  const go = async () => {
    const data = await authorize({ id: profile.id });
    if (data) {
      setLeaving(true);
      location.href = data.authorizeLinkedInUserProfile.authorizationUrl;
    }
  };
  return html`
    <h2>Authorization</h2>
    <dl class="facts">
      <dt>Status</dt>
      <dd><${Badge} value=${profile.authorizationStatus} />
        ${profile.statusDetails && html` <span>${profile.statusDetails}</span>`}</dd>
      <dt>LinkedIn member</dt>
      <dd>${profile.linkedInMemberName ?? html`<span class="muted">${authorized ? 'LinkedIn did not give the name' : 'Not authorized yet'}</span>`}</dd>
      <dt>Access token expires</dt><dd>${fmtDateTime(profile.tokenExpiresAt)}${profile.tokenExpiresAt && ' (refreshed before then)'}</dd>
      <dt>Refresh token expires</dt>
      <dd>${profile.hasRefreshToken ? fmtDateTime(profile.refreshTokenExpiresAt)
        : html`<span class="muted">${authorized ? 'LinkedIn gave no refresh token' : '—'}</span>`}</dd>
      <dt>Authorize again by</dt><dd>${fmtDateTime(profile.reauthorizeBy)}</dd>
      <dt>Webhook last validated</dt>
      <dd>${profile.webhookLastValidatedAt ? fmtDateTime(profile.webhookLastValidatedAt)
        : html`<span class="muted">Not in the last 30 days (leads still arrive by the scheduled sync)</span>`}</dd>
      <dt>Created</dt><dd>${fmtDateTime(profile.createdAt)}</dd>
    </dl>
    <div class="actions">
      <button type="button" class="button primary" disabled=${busy || leaving} onClick=${go}
              aria-describedby=${error ? 'authorize-error' : 'authorize-hint'}>${authorized ? 'Re-authorize' : 'Authorize'}</button>
      <span class="hint" id="authorize-hint">Opens LinkedIn to sign in and allow leadsync; LinkedIn
        brings you back to this page.</span>
    </div>
    <${Alert} error=${error} id="authorize-error" />
    <${Notice}>${leaving && 'Opening LinkedIn…'}</${Notice}>`;
}

function Synchronization({ profile, sync, onStarted }) {
  const [syncNow, syncing] = useMutation(SYNC);
  const [reset, resetting] = useMutation(RESET);
  const [confirm, dialog] = useConfirm();
  const busy = syncing.busy || resetting.busy || sync.running;
  const started = (run) => {
    if (!run) return;
    sync.start(run);
    onStarted();
  };
  const doSync = async () => {
    resetting.reset();
    const data = await syncNow({ profileId: profile.id });
    started(data?.syncSubmissions);
  };
  const doReset = async () => {
    syncing.reset();
    const ok = await confirm({
      title: `Reset synchronization of ${profile.name}?`,
      body: html`<p>leadsync reads the whole 365-day window of this profile's LinkedIn accounts
        again, as on the first sync. Submissions already stored and their matches stay as they
        are; responses already stored are skipped as duplicates, so only missing ones are added.</p>
        <p>Large accounts can take a while; the progress shows here.</p>`,
      confirmLabel: 'Reset synchronization',
    });
    if (!ok) return;
    const data = await reset({ profileId: profile.id });
    started(data?.resetSynchronization);
  };
  return html`
    <h2>Synchronization</h2>
    <dl class="facts">
      <dt>Sync status</dt><dd><${Badge} value=${profile.syncStatus} /></dd>
      <dt>Last sync</dt><dd>${fmtDateTime(profile.lastSyncAt)}</dd>
    </dl>
    <div class="actions">
      <button type="button" class="button primary" disabled=${busy} onClick=${doSync}
              aria-describedby=${syncing.error ? 'sync-error' : undefined}>Sync submissions</button>
      <button type="button" class="button secondary" disabled=${busy} onClick=${doReset}
              aria-describedby=${resetting.error ? 'reset-error' : undefined}>Reset synchronization</button>
    </div>
    <${Alert} error=${syncing.error} id="sync-error" />
    <${Alert} error=${resetting.error} id="reset-error" />
    <${RunProgress} run=${sync.run} />
    ${dialog}`;
}

export function ProfilePage({ id, viewer }) {
  const query = useQuery(ONE, { id });
  const { reload } = query;
  const sync = useSyncRuns(id, reload);
  const since = useRef(Date.now());
  const profile = query.data?.linkedInUserProfile ?? null;
  // Just back from LinkedIn (or a run going on): discovery stores the accounts in a moment.
  const settling = Boolean(profile && profile.authorizationStatus === 'AUTHORIZED'
    && (profile.accounts.length === 0 || profile.syncStatus === 'SYNCING_ACCOUNTS' || sync.running));
  const [, setTick] = useState(0);
  useEffect(() => {
    if (!settling || query.loading || Date.now() - since.current > SETTLE_MS) return undefined;
    const timer = setTimeout(reload, POLL_MS);
    return () => clearTimeout(timer);
  }, [settling, query.loading, query.data]);
  const restartSettling = () => {
    since.current = Date.now();
    setTick((t) => t + 1);
  };
  const back = { href: '#/profiles', label: 'User Profiles' };
  const missing = query.error?.code === 'NOT_FOUND';
  return html`
    <${Loaded} query=${missing ? { data: {} } : query}>${() => {
      if (!profile) {
        return html`<${Page} title="Profile not found" back=${back}>
          <p>This LinkedIn user profile does not exist. Choose one from the${' '}
            <a href="#/profiles">User Profiles</a>.</p></${Page}>`;
      }
      return html`
        <${Page} title=${profile.name} back=${back}>
          ${profile.reauthorizationWarning && html`<${Alert} error=${{ message: profile.reauthorizationWarning }} />`}
          <${ReadOnlyNote} viewer=${viewer} />
          <${Authorization} profile=${profile} />
          <${Synchronization} profile=${profile} sync=${sync} onStarted=${restartSettling} />
          <h2 id="accounts-title">Associated LinkedIn accounts</h2>
          <p class="muted">Leads sync from the accounts that are switched on. Turning one off keeps
            what was synced.</p>
          <${Accounts} profile=${profile} settling=${settling && Date.now() - since.current <= SETTLE_MS}
                       onChanged=${reload} />
        </${Page}>`;
    }}</${Loaded}>`;
}
