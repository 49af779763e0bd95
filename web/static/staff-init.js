// Progressive enhancement only: every console page works without JavaScript.
import { initAll as initGovuk } from "/resident-static/govuk-frontend/govuk-frontend.min.js";
import { initAll as initMoj } from "./moj-frontend/moj-frontend.min.js";

initGovuk();
initMoj();
