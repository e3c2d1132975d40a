// The console's shell: sign-in with a workspace API key (kept in sessionStorage), the
// navigation, and a router on location.hash (#/overview?from=2026-01-01&to=2026-07-01).
// A page is a module exporting { title, path, render(root, ctx) }: add it to PAGES.
import { api, el, showError, signIn, signOut, signedIn } from "./lib.js";
import overview from "./pages/overview.js";
import members from "./pages/members.js";
import cohorts from "./pages/cohorts.js";
import churn from "./pages/churn.js";
import loyalty from "./pages/loyalty.js";
import customers from "./pages/customers.js";
import segments from "./pages/segments.js";
import campaigns from "./pages/campaigns.js";
import rfm from "./pages/rfm.js";
import lifecycle from "./pages/lifecycle.js";
import ops from "./pages/ops.js";
import tickets from "./pages/tickets.js";
import service from "./pages/service.js";
import pipeline from "./pages/pipeline.js";
import products from "./pages/products.js";

export const PAGES = [overview, members, rfm, lifecycle, cohorts, churn, loyalty, customers, products, tickets, service, pipeline, segments, campaigns, ops];

const main = document.getElementById("main");
const nav = document.getElementById("nav");
const account = document.getElementById("account");

function route() {
  const hash = location.hash.replace(/^#/, "") || PAGES[0].path;
  const [path, query = ""] = hash.split("?");
  return { page: PAGES.find((p) => p.path === path), params: new URLSearchParams(query) };
}

function drawNav(current, params) {
  // the report's period goes from page to page; a page's own parameters (?id=, ?q=) do not
  const kept = new URLSearchParams();
  for (const key of ["from", "to"]) if (params.get(key)) kept.set(key, params.get(key));
  const query = kept.toString();
  nav.replaceChildren(
    ...PAGES.map((page) =>
      el("a", { href: `#${page.path}${query ? `?${query}` : ""}`, "aria-current": page === current ? "page" : null }, page.title),
    ),
  );
}

function drawSignIn(message) {
  nav.replaceChildren();
  account.replaceChildren();
  const input = el("input", { id: "api-key", type: "password", autocomplete: "off", required: "", placeholder: "pk_…" });
  const form = el(
    "form",
    { class: "sign-in" },
    el("h1", {}, "Sign in"),
    el("label", { for: "api-key" }, "Workspace API key"),
    input,
    el("button", { type: "submit" }, "Sign in"),
    el("p", { class: "note" }, "The key stays in this tab (sessionStorage) and is sent only to this API. `patron console` prints one for the local stack."),
  );
  if (message) form.append(el("p", { class: "error", role: "alert" }, message));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    signIn(input.value);
    try {
      await api("/segments"); // any call: an unknown key answers 401
    } catch (error) {
      signOut();
      drawSignIn(error.status === 401 ? "That key is not a workspace's API key." : error.message);
      return;
    }
    render();
  });
  main.replaceChildren(form);
  input.focus();
}

async function render() {
  if (!signedIn()) {
    drawSignIn();
    return;
  }
  const { page, params } = route();
  const out = document.createElement("button");
  out.textContent = "Sign out";
  out.addEventListener("click", () => {
    signOut();
    location.hash = "";
    drawSignIn();
  });
  account.replaceChildren(out);
  drawNav(page, params);
  const root = el("section", { class: "page", "data-page": page ? page.path : "unknown" });
  main.replaceChildren(root);
  if (!page) {
    root.append(el("h1", {}, "Not found"), el("p", {}, "No console page here."));
    return;
  }
  document.title = `${page.title} · Patron`;
  root.append(el("h1", {}, page.title));
  root.setAttribute("aria-busy", "true");
  try {
    await page.render(root, { api, params });
  } catch (error) {
    if (error.status === 401) {
      signOut();
      drawSignIn("The key was refused (401): sign in again.");
      return;
    }
    showError(root, error);
  } finally {
    root.setAttribute("aria-busy", "false");
  }
}

window.addEventListener("hashchange", render);
render();
