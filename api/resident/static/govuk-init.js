// Progressive enhancement only: every resident page works without JavaScript.
import { initAll } from "./govuk-frontend/govuk-frontend.min.js";

initAll();
