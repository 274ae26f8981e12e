// Which message Outlook on the web shows, from the page's address alone (its DOM changes too
// often to depend on). Exchange Online opens a message at `…/mail/<folder>/id/<url-encoded id>`
// (also `…/mail/deeplink/read/<id>`); Exchange on premises at `…/owa/?ItemID=<id>` or with
// `ItemID=` in the fragment. The id is Exchange's item id, either in its REST form (base64url:
// `-` and `_`), which Graph takes, or in its EWS form (base64: `/` and `+`), which EWS takes.
// Pure.

const MAX_ID_LENGTH = 1024;
const ID_CHARS = /^[A-Za-z0-9+/_=-]+$/;

/** The item id of the message an Outlook-on-the-web address shows, or null. */
export function itemIdFromUrl(href) {
  let url;
  try {
    url = new URL(href);
  } catch {
    return null;
  }
  const candidates = [];
  const path = url.pathname.split("/");
  for (let i = 0; i < path.length - 1; i++) {
    const next = path[i + 1];
    if (path[i] === "id" || (path[i] === "read" && path[i - 1] === "deeplink")) candidates.push(next);
  }
  // `+` is part of an EWS id, not a space: parameters are split by hand, not with URLSearchParams.
  for (const text of [url.search.slice(1), url.hash.slice(1).replace(/^[^?&=]*\?/, "")]) {
    for (const pair of text.split("&")) {
      const eq = pair.indexOf("=");
      if (eq > 0 && /^itemid$/i.test(pair.slice(0, eq))) candidates.push(pair.slice(eq + 1));
    }
  }
  // A fragment that carries a path (`#path=/mail/inbox/id/…`, older builds).
  const inHash = url.hash.match(/(?:^|[/=])id\/([^/?&#]+)/);
  if (inHash) candidates.push(inHash[1]);
  for (const raw of candidates) {
    const id = decode(raw);
    if (id) return id;
  }
  return null;
}

function decode(raw) {
  let id;
  try {
    id = decodeURIComponent(raw ?? "");
  } catch {
    return null;
  }
  return id.length > 0 && id.length <= MAX_ID_LENGTH && ID_CHARS.test(id) ? id : null;
}

/** The REST form of an item id (what Graph takes). */
export function restId(id) {
  return id.replace(/\//g, "-").replace(/\+/g, "_");
}

/** The EWS form of an item id (what EWS GetItem takes). */
export function ewsId(id) {
  return id.replace(/-/g, "/").replace(/_/g, "+");
}

/** The key under which the extension keeps what it knows about one message of one mailbox host. */
export function messageKey(pageOrigin, id) {
  return `${pageOrigin}|${restId(id)}`;
}
