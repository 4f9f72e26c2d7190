// Placeholder: being written.
import { Page, html } from '/assets/console-lib.js';
export function ProfilesPage() { return html`<${Page} title="ProfilesPage"><p>Coming.</p></${Page}>`; }
export function ProfilePage() { return html`<${Page} title="ProfilePage"><p>Coming.</p></${Page}>`; }
