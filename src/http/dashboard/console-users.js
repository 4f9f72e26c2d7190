// Placeholder: being written.
import { Page, html } from '/assets/console-lib.js';
export function UsersPage() { return html`<${Page} title="UsersPage"><p>Coming.</p></${Page}>`; }
export function AuditPage() { return html`<${Page} title="AuditPage"><p>Coming.</p></${Page}>`; }
