// Placeholder: being written.
import { Page, html } from '/assets/console-lib.js';
export function MappingsPage() { return html`<${Page} title="MappingsPage"><p>Coming.</p></${Page}>`; }
