// aftersale-kit blocks rendered with Shopify UI components (vanilla API, no React).
//
// The service answers GET /v1/blocks/shopify/<shop>/<order id> with
//   200 {"status": "ready", "order_id", "locale", "blocks": [{"block", "campaign_id", "html", "data"}]}
//   202 {"status": "pending"} while the order is not processed yet (page-vs-webhook race)
//   401 bad session token, 404 foreign/unknown order.
// Checkout UI extensions cannot show raw HTML, so every block is built from its `data`;
// `html` is ignored here (it is for WooCommerce and standalone pages).
import {
  Banner,
  BlockStack,
  Button,
  ClipboardItem,
  Divider,
  Heading,
  Image,
  InlineStack,
  Link,
  Spinner,
  Text,
  TextBlock,
  TextField,
} from '@shopify/ui-extensions/checkout';

export const MAX_WAIT_MS = 30000;
const FIRST_DELAY_MS = 500;
const MAX_DELAY_MS = 8000;
const NETWORK_RETRIES = 3;

/** "gid://shopify/Order/123" or "gid://shopify/OrderIdentity/123" -> "123". */
export function numericId(gid) {
  const last = String(gid || '').split('/').pop() || '';
  return last.split('?')[0];
}

export function blocksUrl(backend, shop, orderId) {
  const base = String(backend || '').trim().replace(/\/+$/, '');
  if (!/^https?:\/\//.test(base)) return null;
  return `${base}/v1/blocks/shopify/${encodeURIComponent(shop)}/${encodeURIComponent(orderId)}`;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Polls the service until the blocks are ready (200), a final refusal (4xx/5xx) or MAX_WAIT_MS.
 * A fresh session token is taken for every attempt (they live one minute).
 * Returns the payload or null.
 */
export async function fetchBlocks({url, sessionToken, onPending}) {
  const started = Date.now();
  let delay = FIRST_DELAY_MS;
  let networkErrors = 0;
  for (;;) {
    let response = null;
    try {
      const token = await sessionToken.get();
      response = await fetch(url, {
        headers: {Authorization: `Bearer ${token}`, Accept: 'application/json'},
      });
    } catch (error) {
      networkErrors += 1;
      if (networkErrors > NETWORK_RETRIES) return null;
    }
    if (response) {
      if (response.status === 200) {
        const payload = await response.json().catch(() => null);
        return payload && payload.status === 'ready' && Array.isArray(payload.blocks)
          ? payload
          : null;
      }
      if (response.status !== 202 && response.status !== 429 && response.status < 500) {
        return null; // 401 / 404: nothing for this buyer, show nothing
      }
      if (onPending) onPending();
    }
    if (Date.now() - started + delay > MAX_WAIT_MS) return null;
    await sleep(delay);
    delay = Math.min(delay * 2, MAX_DELAY_MS);
  }
}

// -- rendering -------------------------------------------------------------------------------

function text(root, value, props = {}) {
  return root.createComponent(Text, props, String(value));
}

function paragraph(root, value) {
  return root.createComponent(TextBlock, {}, String(value));
}

function link(root, label, url) {
  return root.createComponent(Link, {to: url, external: true}, String(label));
}

function button(root, label, url) {
  return root.createComponent(Button, {to: url, kind: 'secondary'}, String(label));
}

function stack(root, children, props = {spacing: 'tight'}) {
  return root.createComponent(BlockStack, props, children.filter(Boolean));
}

function headed(root, data, children) {
  return stack(root, [
    data.headline ? root.createComponent(Heading, {level: 2}, String(data.headline)) : null,
    data.text ? paragraph(root, data.text) : null,
    ...children,
  ]);
}

function labelled(root, label, value) {
  if (!value) return null;
  return root.createComponent(InlineStack, {spacing: 'tight'}, [
    text(root, label, {emphasis: 'bold'}),
    text(root, value),
  ]);
}

function coupon(root, data, uid) {
  const clip = `ak-code-${uid}`;
  return root.createComponent(
    Banner,
    {status: 'success', title: String(data.headline || '')},
    [
      stack(root, [
        data.text ? paragraph(root, data.text) : null,
        root.createComponent(InlineStack, {spacing: 'tight', blockAlignment: 'end'}, [
          root.createComponent(TextField, {
            label: String(data.code_label || 'Code'),
            value: String(data.code),
            readonly: true,
          }),
          root.createComponent(ClipboardItem, {id: clip, text: String(data.code)}),
          root.createComponent(Button, {kind: 'secondary', activateTarget: clip}, '⧉'),
        ]),
        data.minimum_order ? text(root, data.minimum_order, {size: 'small'}) : null,
        ...(Array.isArray(data.terms) ? data.terms : [])
          .filter((t) => t && t !== data.minimum_order)
          .map((t) => text(root, t, {size: 'small', appearance: 'subdued'})),
        data.countdown && data.countdown_text
          ? text(root, data.countdown_text, {emphasis: 'bold'})
          : null,
      ]),
    ],
  );
}

function contactPerson(root, data) {
  return headed(root, {headline: data.headline}, [
    data.photo_url
      ? root.createComponent(Image, {
          source: data.photo_url,
          accessibilityDescription: String(data.photo_alt || data.name || ''),
          aspectRatio: 1,
          fit: 'cover',
          cornerRadius: 'fullyRounded',
        })
      : null,
    text(root, data.name, {emphasis: 'bold'}),
    data.role ? text(root, data.role, {appearance: 'subdued'}) : null,
    data.text ? paragraph(root, data.text) : null,
    ...contactChannels(root, data),
  ]);
}

function contactChannels(root, data) {
  const labels = data.labels || {};
  return [
    data.phone ? link(root, `${labels.phone || ''} ${data.phone}`.trim(), data.phone_href) : null,
    data.email ? link(root, `${labels.email || ''} ${data.email}`.trim(), data.email_href) : null,
    labelled(root, labels.hours || '', data.hours),
  ];
}

function shipping(root, data) {
  return headed(root, {headline: data.headline}, [
    labelled(root, data.expected_label, data.window),
    labelled(root, data.method_label, data.method),
    labelled(root, data.carrier_label, data.carrier),
    labelled(root, data.handling_label, data.handling),
    labelled(root, data.transit_label, data.transit),
    data.tracking_note ? text(root, data.tracking_note, {appearance: 'subdued'}) : null,
  ]);
}

function thankYou(root, data) {
  return headed(root, data, [
    data.image_url
      ? root.createComponent(Image, {
          source: data.image_url,
          accessibilityDescription: String(data.alt || ''),
        })
      : null,
    data.video_url ? link(root, data.video_label || data.video_url, data.video_url) : null,
  ]);
}

function links(root, items) {
  return (Array.isArray(items) ? items : []).map((item) => link(root, item.label, item.url));
}

function faqContact(root, data) {
  return headed(root, data, [
    link(root, data.faq_label, data.faq_url),
    data.contact_url ? link(root, data.contact_label, data.contact_url) : null,
    ...links(root, data.links),
  ]);
}

function callToAction(root, data, url, extra = []) {
  return headed(root, data, [...extra, url ? button(root, data.button || url, url) : null]);
}

function loyaltyBalance(root, d) {
  return headed(root, d, [
    d.pending_text ? text(root, d.pending_text, {size: 'small', appearance: 'subdued'}) : null,
    ...(Array.isArray(d.options) ? d.options : []).map((o) => labelled(root, o.label, o.cost)),
    d.next ? text(root, d.next.text, {emphasis: 'bold'}) : null,
    d.url ? button(root, d.button || d.url, d.url) : null,
  ]);
}

// The slots are decoration for assistive technology; the sentence below them says it in words.
function stampCard(root, d) {
  const slots = (Array.isArray(d.slots) ? d.slots : []).map((slot) =>
    text(root, slot.filled ? '●' : '○', {
      size: 'extraLarge',
      appearance: slot.filled ? 'accent' : 'subdued',
      accessibilityVisibility: 'hidden',
    }),
  );
  return headed(root, {headline: d.headline}, [
    root.createComponent(InlineStack, {spacing: 'tight'}, slots),
    paragraph(root, `${d.summary}. ${d.text}`),
    d.completed_text ? text(root, d.completed_text, {size: 'small'}) : null,
  ]);
}

const RENDERERS = {
  coupon,
  contact_person: contactPerson,
  shipping,
  thank_you: thankYou,
  faq_contact: faqContact,
  newsletter: (root, d) =>
    callToAction(root, d, d.signup_url, [
      d.incentive ? text(root, d.incentive, {emphasis: 'bold'}) : null,
      d.double_opt_in ? text(root, d.double_opt_in, {size: 'small'}) : null,
    ]),
  vip_presale: (root, d) =>
    callToAction(root, d, d.url, [d.starts ? text(root, d.starts, {emphasis: 'bold'}) : null]),
  social_follow: (root, d) => headed(root, d, links(root, d.links)),
  free_gift: (root, d) => root.createComponent(Banner, {status: 'info', title: String(d.headline || '')}, d.text ? [paragraph(root, d.text)] : []),
  service_check: (root, d) =>
    callToAction(root, d, d.booking_url, [d.first_check ? text(root, d.first_check) : null]),
  survey: (root, d) => callToAction(root, d, d.url),
  loyalty_points: (root, d) =>
    headed(root, d, [d.bonus_text ? text(root, d.bonus_text, {size: 'small'}) : null]),
  loyalty_balance: loyaltyBalance,
  loyalty_tier: (root, d) =>
    headed(root, d, [d.progress && d.progress !== d.text ? text(root, d.progress, {emphasis: 'bold'}) : null]),
  stamp_card: stampCard,
};

/** One component per block the extension knows; unknown blocks are skipped. */
export function renderBlocks(root, payload) {
  const out = [];
  (payload.blocks || []).forEach((block, index) => {
    const render = RENDERERS[block && block.block];
    if (!render || !block.data) return;
    try {
      if (out.length) out.push(root.createComponent(Divider, {}));
      out.push(render(root, block.data, index + 1));
    } catch (error) {
      // A malformed block must not take the others down.
    }
  });
  return out;
}

/**
 * Shared body of both targets: pending state, polling, rendering.
 * `orderGid` is the order's GID, `api` the target's API object.
 */
export async function mount(root, api, orderGid) {
  const settings = (api.settings && api.settings.current) || {};
  const shop = api.shop && api.shop.myshopifyDomain;
  const orderId = numericId(orderGid);
  const url = blocksUrl(settings.backend_url, shop, orderId);
  if (!url || !orderId) return; // not configured yet: render nothing

  let pending = null;
  const showPending = () => {
    if (pending) return;
    pending = root.createComponent(InlineStack, {spacing: 'tight', blockAlignment: 'center'}, [
      root.createComponent(Spinner, {size: 'small', accessibilityLabel: 'Loading'}),
      root.createComponent(Text, {appearance: 'subdued'}, String(settings.pending_text || '…')),
    ]);
    root.appendChild(pending);
  };

  const payload = await fetchBlocks({url, sessionToken: api.sessionToken, onPending: showPending});
  if (pending) root.removeChild(pending);
  if (!payload) return;
  const children = renderBlocks(root, payload);
  if (children.length) root.appendChild(stack(root, children, {spacing: 'base'}));
}
