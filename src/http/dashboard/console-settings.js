// Placeholder: being written.
import { Page, html } from '/assets/console-lib.js';
export function JourneysPage() { return html`<${Page} title="JourneysPage"><p>Coming.</p></${Page}>`; }
export function ConfigurationPage() { return html`<${Page} title="ConfigurationPage"><p>Coming.</p></${Page}>`; }
