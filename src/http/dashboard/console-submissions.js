// Placeholder: being written.
import { Page, html } from '/assets/console-lib.js';
export function SubmissionsPage() { return html`<${Page} title="SubmissionsPage"><p>Coming.</p></${Page}>`; }
export function SubmissionPage() { return html`<${Page} title="SubmissionPage"><p>Coming.</p></${Page}>`; }
