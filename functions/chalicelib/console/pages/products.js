// Products and recommendations (docs/recommendations.md). With ?id=SOURCE.PRODUCT: the
// catalogue's product (GET /products/{id}) and what the store's orders say of it
// (GET /products/{id}/related): related products (bought by the same customers) and
// complementary ones (bought with it or after it), each with its reason. Also the 360's
// "Recommended" panel (GET /customers/{id}/recommendations?placement=web&limit=8).
// A workspace whose stack has no recommendation routes (404) shows the empty state.
import { ApiError, el, showError } from "../lib.js";

export const NOT_YET = "No recommendations yet: the model trains daily.";

// The recommender's item as the product page's id: SOURCE.PRODUCT (null without a source).
const ref = (item) => (item.source_id ? `${item.source_id}.${item.product_id}` : null);

export function productHref(id) {
  return `#/products?id=${encodeURIComponent(id)}`;
}

// An API read that may be absent: null on a 404 (a stack without the route, or nothing
// known of the product), the error for anything else.
async function maybe(ctx, path) {
  try {
    return await ctx.api(path);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return null;
    throw error;
  }
}

// One recommended product: its picture (an https one: the page's policy allows no other),
// its title linked to the store's page, price, reason, and its own page here.
function card(item) {
  const title = item.title || item.product_id;
  const li = el("li", { class: "product", "data-product": item.product_id, "data-kind": item.reason.kind, "data-score": item.score });
  li.append(
    item.image && /^https:/.test(item.image)
      ? el("img", { src: item.image, alt: "", loading: "lazy", referrerpolicy: "no-referrer" })
      : el("span", { class: "no-image", "aria-hidden": "true" }),
  );
  const link = item.url && /^https?:/.test(item.url) ? el("a", { class: "title", href: item.url, target: "_blank", rel: "noopener noreferrer" }, title) : el("span", { class: "title" }, title);
  const id = ref(item);
  li.append(
    el(
      "div",
      {},
      link,
      el("br"),
      el("span", { class: "price" }, item.price === null || item.price === undefined ? "" : `${item.price} ${item.currency || ""}`.trim()),
      el("span", { class: "reason" }, item.reason.text),
      id ? el("a", { class: "related", href: productHref(id), "data-ref": id }, "related →") : null,
    ),
  );
  return li;
}

// A titled list of recommended products (or the note `empty` when there is none).
function list(root, name, title, items, empty) {
  const box = el("figure", { class: "chart recommended", "data-list": name }, el("figcaption", {}, title));
  root.append(box);
  if (!items || items.length === 0) box.append(el("p", { class: "note", "data-empty": "" }, empty));
  else box.append(el("ol", { class: "products" }, ...items.map(card)));
  return box;
}

// The 360's panel. Its own errors stay inside it: the rest of the 360 is drawn anyway.
export async function recommendedPanel(holder, ctx, customerId) {
  let answer;
  try {
    answer = await maybe(ctx, `/customers/${encodeURIComponent(customerId)}/recommendations?placement=web&limit=8`);
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) throw error;
    const box = list(holder, "recommendations", "Recommended", [], "");
    box.querySelector("p").remove();
    showError(box, error);
    return;
  }
  const trained = answer && answer.trained_at ? ` · model trained ${String(answer.trained_at).slice(0, 16).replace("T", " ")} UTC` : "";
  const box = list(holder, "recommendations", `Recommended (${answer ? answer.placement : "web"})${trained}`, answer ? answer.items : [], NOT_YET);
  if (answer && answer.trained_at) box.dataset.trainedAt = answer.trained_at;
}

function openForm(root, id) {
  const input = el("input", { name: "id", value: id || "", placeholder: "SOURCE.PRODUCT", autocomplete: "off", required: "" });
  const form = el("form", { class: "search" }, el("label", {}, "Product id ", input), el("button", { type: "submit" }, "Open"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    location.hash = `/products?id=${encodeURIComponent(input.value.trim())}`;
  });
  root.append(form);
}

async function productPage(root, ctx, id) {
  const path = `/products/${encodeURIComponent(id)}`;
  const [product, related] = await Promise.all([maybe(ctx, path), maybe(ctx, `${path}/related?limit=8`)]);
  root.dataset.product = id;
  root.querySelector("h1").textContent = (product && product.title) || id;
  if (product) {
    const facts = [
      ["product", product.id],
      ["price", product.price === null ? "" : `${product.price} ${product.currency || ""}`.trim()],
      ["categories", product.categories.join(", ")],
      ["status", product.deleted ? "deleted" : product.status || ""],
    ];
    root.append(el("dl", { class: "facts" }, ...facts.flatMap(([k, v]) => [el("dt", {}, k), el("dd", { "data-fact": k }, v)])));
  } else {
    root.append(el("p", { class: "note", "data-fact": "catalogue" }, "Not in the catalogue (the orders name it; the shop has not sent the product)."));
  }
  const grid = el("div", { class: "charts" });
  root.append(grid);
  const none = related ? "None in the store's orders yet." : NOT_YET;
  list(grid, "related", "Related: bought by the same customers", related ? related.related : [], none);
  list(grid, "complementary", "Complementary: bought with it or after it", related ? related.complementary : [], none);
}

export default {
  title: "Products",
  path: "/products",
  async render(root, ctx) {
    const id = ctx.params.get("id");
    openForm(root, id);
    if (id) await productPage(root, ctx, id);
    else root.append(el("p", { class: "note" }, "A product's related and complementary products: open one by its id, or from a customer's recommendations."));
  },
};
