// Quartierbot sandbox chat page. Plain JavaScript, no build step, no external resources.
// It follows the sandbox over server-sent events (/sandbox/api/events: the whole state
// whenever it changes, the sandbox clock every second) and acts through the control API
// (/sandbox/api/action), exactly like the tests' people do.
"use strict";

const LANGUAGES = [
  ["de", "Deutsch"], ["en", "English"], ["tr", "Türkçe"], ["ar", "العربية"],
  ["uk", "Українська"], ["ru", "Русский"], ["pl", "Polski"], ["bg", "Български"],
  ["ro", "Română"], ["fa", "فارسی"], ["ku", "Kurdî"],
  // Telegram languages the bot has no catalog for: it must fall back sensibly.
  ["ja", "日本語"], ["fr", "Français"], ["es", "Español"], ["it", "Italiano"],
  ["pt-br", "Português (Brasil)"], ["", "(no language sent)"],
];

const $ = (id) => document.getElementById(id);
const ui = {
  state: null,
  resident: Number(localStorage.getItem("qb.resident")) || null,
  staff: Number(localStorage.getItem("qb.staff")) || null,
  thread: 0, // 0 = General (or the whole chat when the group has no topics)
  replyTo: null,
  seen: new Map(), // thread -> highest message id seen there
  toastSeen: null,
  toastTimers: {},
  // The resident just created: selected at once, even before the sandbox's next state
  // (which may still list only the others) arrives.
  created: null,
  scrollResident: true,
  recorder: null,
  autoForm: false,
};

// ------------------------------------------------------------------ helpers

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

async function act(body, { quiet = false } = {}) {
  const response = await fetch("api/action", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  const reply = await response.json().catch(() => ({ ok: false, error: response.statusText }));
  if (!reply.ok) {
    if (!quiet) showError(reply.error || "the sandbox refused this");
    throw new Error(reply.error);
  }
  return reply.result;
}

function showError(text) {
  const box = $("error");
  box.textContent = text;
  box.hidden = false;
  clearTimeout(showError.timer);
  showError.timer = setTimeout(() => { box.hidden = true; }, 5000);
}

function tz() {
  return (ui.state && ui.state.clock && ui.state.clock.timezone) || "Europe/Berlin";
}

function formatTime(unix) {
  const when = new Date(unix * 1000);
  const now = ui.state ? new Date(ui.state.clock.now) : new Date();
  const day = (d) => d.toLocaleDateString("en-CA", { timeZone: tz() });
  const options = { hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: tz() };
  if (day(when) !== day(now)) Object.assign(options, { day: "numeric", month: "short" });
  return new Intl.DateTimeFormat("en-GB", options).format(when);
}

function userName(user) {
  if (!user) return "";
  return [user.first_name, user.last_name].filter(Boolean).join(" ");
}

function fileUrl(fileId, download) {
  return `api/files/${encodeURIComponent(fileId)}${download ? "?download" : ""}`;
}

function sizeText(bytes) {
  if (!bytes && bytes !== 0) return "";
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

// Telegram entities (offsets in UTF-16 code units, like JavaScript strings) to DOM.
function renderText(text, entities) {
  const frag = document.createDocumentFragment();
  const sorted = (entities || [])
    .filter((e) => e.length > 0)
    .slice()
    .sort((a, b) => a.offset - b.offset || b.length - a.length);
  build(frag, text, 0, text.length, sorted);
  return frag;
}

function build(parent, text, start, end, entities) {
  let pos = start;
  let i = 0;
  while (i < entities.length) {
    const e = entities[i];
    const eEnd = Math.min(e.offset + e.length, end);
    if (e.offset < pos) { i += 1; continue; } // overlapping entities: keep the first
    if (e.offset > pos) parent.append(text.slice(pos, e.offset));
    let j = i + 1;
    while (j < entities.length && entities[j].offset < eEnd) j += 1;
    const inner = entities.slice(i + 1, j).filter((o) => o.offset + o.length <= eEnd);
    const node = entityNode(e, text.slice(e.offset, eEnd));
    build(node, text, e.offset, eEnd, inner);
    parent.append(node);
    pos = eEnd;
    i = j;
  }
  if (pos < end) parent.append(text.slice(pos, end));
}

function entityNode(entity, piece) {
  switch (entity.type) {
    case "bold": return el("b");
    case "italic": return el("i");
    case "underline": return el("u");
    case "strikethrough": return el("s");
    case "code": return el("code");
    case "pre": return el("pre");
    case "blockquote":
    case "expandable_blockquote": return el("blockquote");
    case "spoiler": return el("span", { class: "spoiler", onclick: (ev) => ev.currentTarget.classList.toggle("shown") });
    case "text_link": return el("a", { href: entity.url, target: "_blank", rel: "noopener noreferrer" });
    case "url": return el("a", { href: /^https?:/i.test(piece) ? piece : `https://${piece}`, target: "_blank", rel: "noopener noreferrer" });
    case "email": return el("a", { href: `mailto:${piece}` });
    case "phone_number": return el("a", { href: `tel:${piece.replace(/\s+/g, "")}`, dir: "ltr" });
    case "text_mention": return el("b", { title: userName(entity.user) });
    default: return el("span", { class: `entity-${entity.type}` });
  }
}

function mapLink(location) {
  const lat = Number(location.latitude).toFixed(6);
  const lon = Number(location.longitude).toFixed(6);
  return `https://www.openstreetmap.org/?mlat=${lat}&mlon=${lon}#map=17/${lat}/${lon}`;
}

function snippet(msg) {
  if (!msg) return "";
  if (msg.text) return msg.text;
  if (msg.caption) return msg.caption;
  const kinds = ["photo", "document", "venue", "location", "contact", "voice", "audio", "video", "video_note", "sticker", "animation"];
  const kind = kinds.find((k) => msg[k]);
  if (kind === "document") return `📄 ${msg.document.file_name || "document"}`;
  if (kind === "venue") return `📍 ${msg.venue.title}`;
  return kind ? `[${kind.replace("_", " ")}]` : "";
}

function serviceText(msg) {
  const who = userName(msg.from);
  if (msg.forum_topic_created) return `${who} created the topic “${msg.forum_topic_created.name}”`;
  if (msg.forum_topic_edited) return `${who} renamed the topic to “${msg.forum_topic_edited.name || "…"}”`;
  if (msg.forum_topic_closed) return `${who} closed the topic`;
  if (msg.forum_topic_reopened) return `${who} reopened the topic`;
  if (msg.pinned_message) return `${who} pinned “${snippet(msg.pinned_message).slice(0, 60)}”`;
  if (msg.new_chat_members) return `${msg.new_chat_members.map(userName).join(", ")} joined`;
  if (msg.left_chat_member) return `${userName(msg.left_chat_member)} left`;
  if (msg.new_chat_title) return `${who} renamed the group to “${msg.new_chat_title}”`;
  return null;
}

// ------------------------------------------------------------------ one message

function renderMessage(msg, view) {
  const service = serviceText(msg);
  if (service !== null) {
    return el("div", { class: "msg service", dir: "auto", dataset: { mid: msg.message_id } }, service);
  }
  const mine = msg.from && msg.from.id === view.me;
  const bubble = el("div", {
    class: `msg ${mine ? "out" : "in"}`,
    dataset: { mid: msg.message_id, from: msg.from ? msg.from.id : "" },
  });
  if (view.group && !mine && msg.from) {
    bubble.append(el("div", { class: "from", dir: "auto" }, msg.from.is_bot ? `🤖 ${userName(msg.from)}` : userName(msg.from)));
  }
  if (msg.forward_origin) {
    const origin = msg.forward_origin;
    const name = origin.sender_user ? userName(origin.sender_user)
      : origin.sender_user_name || (origin.chat && (origin.chat.title || userName(origin.chat))) || "someone";
    bubble.append(el("div", { class: "forwarded", dir: "auto" }, `Forwarded from ${name}`));
  }
  const quoted = msg.reply_to_message;
  if (quoted && !quoted.forum_topic_created) {
    bubble.append(el("div", { class: "quote", dir: "auto" },
      el("b", {}, userName(quoted.from)), "\n", snippet(quoted).slice(0, 200)));
  }
  if (msg.photo && msg.photo.length) {
    const biggest = msg.photo[msg.photo.length - 1];
    bubble.append(el("a", { href: fileUrl(biggest.file_id), target: "_blank", rel: "noopener" },
      el("img", { class: "photo", src: fileUrl(biggest.file_id), alt: "photo" })));
  }
  const media = [
    ["document", "📄"], ["audio", "🎵"], ["animation", "🎞️"],
  ];
  for (const [kind, icon] of media) {
    const file = msg[kind];
    if (!file) continue;
    const name = file.file_name || kind;
    bubble.append(el("a", {
      class: "file", href: fileUrl(file.file_id, true), download: name,
      dataset: { kind, fileName: name },
    }, el("span", { class: "icon" }, icon),
      el("span", {}, el("div", { dir: "auto" }, name), el("div", { class: "size" }, sizeText(file.file_size)))));
  }
  if (msg.voice) bubble.append(el("audio", { controls: true, src: fileUrl(msg.voice.file_id), preload: "none" }));
  if (msg.video) bubble.append(el("video", { controls: true, src: fileUrl(msg.video.file_id), preload: "none", width: 240 }));
  if (msg.video_note) bubble.append(el("div", { class: "text" }, "⏺ video message"));
  if (msg.sticker) bubble.append(el("div", { class: "text", style: "font-size:40px" }, msg.sticker.emoji || "🖼️"));
  if (msg.venue) {
    const v = msg.venue;
    bubble.append(el("a", {
      class: "venue", href: mapLink(v.location), target: "_blank", rel: "noopener noreferrer",
      title: "Open the map", dataset: { kind: "venue" },
    }, el("span", { class: "icon" }, "📍"),
      el("span", {}, el("div", { dir: "auto" }, el("b", {}, v.title)),
        el("div", { class: "addr", dir: "auto" }, v.address),
        el("div", { class: "addr" }, "Open the map ↗"))));
  } else if (msg.location) {
    bubble.append(el("a", { class: "venue", href: mapLink(msg.location), target: "_blank", rel: "noopener noreferrer" },
      el("span", { class: "icon" }, "📍"), el("span", {}, "Location · open the map ↗")));
  }
  if (msg.contact) {
    const c = msg.contact;
    bubble.append(el("div", { class: "contact" }, "👤 ",
      el("span", { dir: "auto" }, [c.first_name, c.last_name].filter(Boolean).join(" ")), " ",
      el("span", { dir: "ltr" }, c.phone_number)));
  }
  if (msg.text !== undefined) {
    bubble.append(el("div", { class: "text", dir: "auto" }, renderText(msg.text, msg.entities)));
  } else if (msg.caption) {
    bubble.append(el("div", { class: "text", dir: "auto" }, renderText(msg.caption, msg.caption_entities)));
  }
  const rows = msg.reply_markup && msg.reply_markup.inline_keyboard;
  if (rows && rows.length) bubble.append(renderKeyboard(msg, rows, view));

  const meta = el("div", { class: "meta" });
  if (view.group) {
    meta.append(el("button", { type: "button", class: "reply-btn", title: "Reply to this message", onclick: () => setReply(msg) }, "↩ Reply"));
  } else if (mine && msg.text !== undefined) {
    meta.append(el("button", { type: "button", title: "Edit your message", onclick: () => editOwn(msg) }, "✎"));
  }
  if (msg.edit_date) meta.append(el("span", { class: "edited" }, "edited"));
  meta.append(el("span", {}, formatTime(msg.date)));
  bubble.append(meta);
  return bubble;
}

function renderKeyboard(msg, rows, view) {
  const box = el("div", { class: "keyboard" });
  for (const row of rows) {
    const line = el("div", { class: "krow" });
    for (const button of row) {
      if (button.url) {
        line.append(el("a", { href: button.url, target: "_blank", rel: "noopener noreferrer", dir: "auto" }, `${button.text} ↗`));
      } else if (button.callback_data !== undefined) {
        line.append(el("button", {
          type: "button", dir: "auto", dataset: { cb: button.callback_data },
          onclick: () => tap(msg, button.callback_data, view),
        }, button.text));
      } else if (button.copy_text) {
        line.append(el("button", {
          type: "button", dir: "auto",
          onclick: () => navigator.clipboard && navigator.clipboard.writeText(button.copy_text.text),
        }, button.text));
      } else {
        line.append(el("button", { type: "button", disabled: true, dir: "auto", title: "not available in the sandbox" }, button.text));
      }
    }
    box.append(line);
  }
  return box;
}

// Keyed update: only messages that changed are rebuilt, edits replace a bubble in place.
function syncMessages(container, messages, view, emptyText) {
  const existing = new Map();
  for (const child of [...container.children]) {
    if (child.dataset.key) existing.set(child.dataset.key, child);
    else child.remove();
  }
  const nearBottom = container.scrollHeight - container.scrollTop - container.clientHeight < 60;
  let grew = false;
  let previous = null;
  const today = ui.state ? new Date(ui.state.clock.now).toLocaleDateString("en-CA", { timeZone: tz() }) : "";
  const keep = new Set();
  for (const msg of messages) {
    const key = `${msg.chat.id}:${msg.message_id}`;
    // Times show a date once the (fast-forwarded) clock is on another day: re-render then.
    const signature = JSON.stringify(msg) + (view.me || "") + today;
    keep.add(key);
    let node = existing.get(key);
    if (!node || node.dataset.sig !== signature) {
      const fresh = renderMessage(msg, view);
      fresh.dataset.key = key;
      fresh.dataset.sig = signature;
      if (node) node.replaceWith(fresh);
      else grew = true;
      node = fresh;
    }
    const wanted = previous ? previous.nextSibling : container.firstChild;
    if (wanted !== node) container.insertBefore(node, wanted);
    previous = node;
  }
  for (const [key, node] of existing) if (!keep.has(key)) node.remove();
  if (!messages.length && emptyText) container.append(el("div", { class: "empty" }, emptyText));
  if (grew && (nearBottom || view.follow)) container.scrollTop = container.scrollHeight;
}

// ------------------------------------------------------------------ state → page

function groups(state) { return state.chats.filter((c) => c.type !== "private"); }
function staffIds(state) { return new Set(groups(state).flatMap((g) => g.admins)); }
function residents(state) {
  const staff = staffIds(state);
  return state.users.filter((u) => !staff.has(u.id) && !u.is_bot);
}
function chatById(state, id) { return state.chats.find((c) => c.id === id); }

function applyState(state) {
  const first = ui.state === null;
  ui.state = state;
  document.body.dataset.version = String(state.version); // lets tests wait for the page
  updateClock(state.clock);
  $("bot-name").textContent = state.bot.first_name;
  renderResidentSide(state, first);
  renderStaffSide(state);
  renderToasts(state, first);
  renderEngines(state.engines || {});
}

// What the demo says about machine translation and voice transcription: which engine
// answers (a real server, the demonstration stand-in) or that none is configured.
function renderEngines(engines) {
  const box = $("engines");
  const lines = Object.values(engines);
  box.hidden = lines.length === 0;
  box.textContent = lines.join(" ");
  box.title = lines.join("\n");
}

function renderResidentSide(state, first) {
  const people = residents(state);
  if (ui.created !== null && people.some((u) => u.id === ui.created)) ui.created = null;
  // Nobody remembered in this browser (or somebody who is gone): open on the newest
  // resident, which at the demo's start is the one its conversation is played as.
  const waitingForCreated = ui.created !== null && ui.resident === ui.created;
  if (!people.some((u) => u.id === ui.resident) && !waitingForCreated) {
    ui.resident = people.length ? people[people.length - 1].id : null;
    ui.scrollResident = true;
    const typing = $("resident-form").contains(document.activeElement);
    if (ui.resident !== null && ui.autoForm && !typing) $("resident-form").hidden = true;
  }
  const select = $("resident-select");
  const options = people.map((u) => {
    const lang = u.language_code ? ` · ${u.language_code}` : "";
    return el("option", { value: u.id }, `${userName(u)}${lang}${u.blocked ? " · blocked the bot" : ""}`);
  });
  if (ui.created !== null && ui.resident === ui.created && !people.some((u) => u.id === ui.created)) {
    options.push(el("option", { value: ui.created }, "…"));
  }
  if (!options.length) options.push(el("option", { value: "" }, "— nobody yet —"));
  select.replaceChildren(...options);
  select.value = ui.resident ? String(ui.resident) : "";
  if (first && !people.length) {
    $("resident-form").hidden = false;
    ui.autoForm = true; // opened for want of anyone; closed again once somebody arrives
  }

  const me = people.find((u) => u.id === ui.resident);
  const language = me && LANGUAGES.find(([code]) => code === (me.language_code || ""));
  $("resident-sub").textContent = me
    ? `bot · ${userName(me)}'s phone speaks ${language ? language[1] : me.language_code || "?"}`
    : "bot";
  const chat = me ? chatById(state, me.id) : null;
  const messages = chat ? chat.messages : [];
  const residentChat = $("resident-chat");
  syncMessages(residentChat, messages, { me: ui.resident, group: false, follow: true },
    me ? "" : "Create a resident to start chatting.");
  if (ui.scrollResident && messages.length) {
    residentChat.scrollTop = residentChat.scrollHeight; // a chat opens at its newest message
    ui.scrollResident = false;
  }
  $("start-wrap").hidden = !me || messages.length > 0;
  $("resident-composer").hidden = !me || messages.length === 0;
  renderReplyKeyboard(chat);
}

function renderReplyKeyboard(chat) {
  const box = $("reply-keyboard");
  const markup = chat && chat.reply_keyboard;
  const rows = markup && markup.keyboard;
  if (!rows || !rows.length || !chat.messages.length) { box.hidden = true; box.replaceChildren(); return; }
  box.replaceChildren(...rows.map((row) => el("div", { class: "krow" }, row.map((b) => {
    const button = typeof b === "string" ? { text: b } : b;
    return el("button", { type: "button", dir: "auto", onclick: () => replyButton(button) }, button.text);
  }))));
  box.hidden = false;
}

function threadOf(msg) { return msg.message_thread_id || 0; }

function renderStaffSide(state) {
  const group = groups(state)[0];
  if (!group) {
    $("group-title").textContent = "No staff group";
    return;
  }
  $("group-title").textContent = group.title;
  const staff = state.users.filter((u) => group.admins.includes(u.id));
  if (!staff.some((u) => u.id === ui.staff)) ui.staff = staff.length ? staff[staff.length - 1].id : null;
  const select = $("staff-select");
  const options = staff.map((u) => el("option", { value: u.id }, userName(u)));
  if (!options.length) options.push(el("option", { value: "" }, "— add a staff member —"));
  select.replaceChildren(...options);
  select.value = ui.staff ? String(ui.staff) : "";

  const topicsNav = $("staff-topics");
  let messages = group.messages;
  if (group.is_forum) {
    topicsNav.hidden = false;
    const threads = [{ message_thread_id: 0, name: "General", icon_color: 0x6fb9f0, is_closed: false }, ...group.topics];
    if (!threads.some((t) => t.message_thread_id === ui.thread)) ui.thread = 0;
    const last = new Map();
    for (const msg of group.messages) last.set(threadOf(msg), msg);
    const ordered = threads.slice(1).sort((a, b) =>
      ((last.get(b.message_thread_id) || {}).message_id || 0) - ((last.get(a.message_thread_id) || {}).message_id || 0));
    const items = [threads[0], ...ordered].map((topic) => {
      const id = topic.message_thread_id;
      const lastMsg = last.get(id);
      if (id === ui.thread && lastMsg) ui.seen.set(id, lastMsg.message_id);
      const seen = ui.seen.get(id) || 0;
      const unread = group.messages.filter((m) => threadOf(m) === id && m.message_id > seen && !serviceText(m)).length;
      const color = `#${Number(topic.icon_color || 0).toString(16).padStart(6, "0")}`;
      return el("button", {
        type: "button", class: id === ui.thread ? "active" : "", dataset: { thread: id },
        onclick: () => { ui.thread = id; setReply(null); renderStaffSide(ui.state); },
      }, el("div", { class: "tname" },
        el("span", { class: "dot", style: `background:${color}` }),
        el("span", { dir: "auto" }, topic.name), topic.is_closed ? "🔒" : null,
        unread && id !== ui.thread ? el("span", { class: "badge" }, unread) : null),
      el("div", { class: "tlast", dir: "auto" }, lastMsg ? `${userName(lastMsg.from)}: ${snippet(lastMsg) || serviceText(lastMsg) || ""}` : ""));
    });
    topicsNav.replaceChildren(...items);
    const current = threads.find((t) => t.message_thread_id === ui.thread);
    $("topic-head").textContent = `${current.name}${current.is_closed ? " (closed)" : ""}`;
    messages = group.messages.filter((m) => threadOf(m) === ui.thread);
  } else {
    topicsNav.hidden = true;
    $("topic-head").textContent = group.title;
  }
  const container = $("staff-chat");
  if (container.dataset.thread !== String(ui.thread)) {
    container.replaceChildren();
    container.dataset.thread = String(ui.thread);
  }
  syncMessages(container, messages, { me: ui.staff, group: true, follow: true }, "No messages here yet.");
  for (const node of container.children) {
    node.classList.toggle("selected", ui.replyTo !== null && node.dataset.mid === String(ui.replyTo.message_id));
  }
}

function renderToasts(state, first) {
  // answerCallbackQuery's text: a toast (gone after a moment) or an alert (with OK), for
  // whoever tapped — the resident on the phone, or the staff member in the group.
  const newest = state.toasts.length ? state.toasts[state.toasts.length - 1].n : -1;
  if (first || ui.toastSeen === null) { ui.toastSeen = newest; return; }
  const fresh = state.toasts.filter((t) => t.n > ui.toastSeen);
  ui.toastSeen = Math.max(ui.toastSeen, newest);
  for (const [who, boxId] of [[ui.resident, "toast"], [ui.staff, "staff-toast"]]) {
    const mine = fresh.filter((t) => t.user_id === who);
    if (mine.length) showToast($(boxId), mine[mine.length - 1].text, mine[mine.length - 1].alert);
  }
}

function showToast(box, text, alert) {
  box.className = `toast${alert ? " alert" : ""}`;
  box.replaceChildren(el("div", { dir: "auto" }, text));
  clearTimeout(ui.toastTimers[box.id]);
  if (alert) {
    box.append(el("button", { type: "button", onclick: () => { box.hidden = true; } }, "OK"));
  } else {
    ui.toastTimers[box.id] = setTimeout(() => { box.hidden = true; }, 2500);
  }
  box.hidden = false;
}

function updateClock(clock) {
  if (!clock) return;
  if (ui.state) ui.state.clock = clock;
  const node = $("clock");
  node.dataset.now = clock.now;
  node.setAttribute("datetime", clock.now);
  // A phone has room for the day and the time, not the year.
  const narrow = window.matchMedia("(max-width: 600px)").matches;
  node.textContent = new Intl.DateTimeFormat("en-GB", {
    weekday: "short", day: "numeric", month: "short", year: narrow ? undefined : "numeric",
    hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: clock.timezone,
  }).format(new Date(clock.now));
  node.title = `Sandbox clock (${clock.timezone})`;
  $("ff-hour").disabled = !clock.can_advance;
  $("ff-day").disabled = !clock.can_advance;
}

// ------------------------------------------------------------------ actions

function tap(msg, data, view) {
  const user = view.group ? ui.staff : ui.resident;
  if (!user) { showError("Choose who you are first."); return; }
  // A second tap on a message the bot has just edited is sent with the old button's data,
  // as Telegram's app does, and the bot answers it. A tap on a message that is gone by now
  // does nothing, as in Telegram: no developer error on the page.
  act({ action: "tap", user_id: user, chat_id: msg.chat.id, message_id: msg.message_id, data },
    { quiet: true }).catch(() => {});
}

function replyButton(button) {
  const user = ui.resident;
  if (button.request_contact) {
    const me = ui.state.users.find((u) => u.id === user);
    act({ action: "send_contact", user_id: user, phone: "+49 2151 000000", first_name: me ? me.first_name : "Resident" }).catch(() => {});
  } else if (button.request_location) {
    act({ action: "send_location", user_id: user, latitude: 51.3177, longitude: 6.5734 }).catch(() => {});
  } else {
    act({ action: "send_text", user_id: user, text: button.text }).catch(() => {});
  }
}

function editOwn(msg) {
  const text = window.prompt("Edit your message", msg.text);
  if (text === null || !text.trim() || text === msg.text) return;
  act({ action: "edit_text", user_id: ui.resident, chat_id: msg.chat.id, message_id: msg.message_id, text }).catch(() => {});
}

function setReply(msg) {
  ui.replyTo = msg;
  $("staff-replying").hidden = !msg;
  $("staff-replying-text").textContent = msg ? `Replying to ${userName(msg.from)}: ${snippet(msg).slice(0, 80)}` : "";
  for (const node of $("staff-chat").children) {
    node.classList.toggle("selected", !!msg && node.dataset.mid === String(msg.message_id));
  }
  if (msg) $("staff-input").focus();
}

function readBase64(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).split(",", 2)[1] || "");
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

// ------------------------------------------------------------------ voice messages

async function sendVoice(blob, mimeType, seconds) {
  const data = await readBase64(blob);
  await act({
    action: "send_voice", user_id: ui.resident, data, mime_type: mimeType,
    duration: Math.max(1, Math.round(seconds || 1)),
  }).catch(() => {});
}

function audioSeconds(file) {
  // The length Telegram would show; a file the browser cannot read counts as one second.
  return new Promise((resolve) => {
    const audio = new Audio();
    const url = URL.createObjectURL(file);
    const done = (value) => { URL.revokeObjectURL(url); resolve(value); };
    audio.preload = "metadata";
    audio.onloadedmetadata = () => done(Number.isFinite(audio.duration) ? audio.duration : 1);
    audio.onerror = () => done(1);
    setTimeout(() => done(1), 2000);
    audio.src = url;
  });
}

async function record() {
  // Click to record with the microphone, click again to send (as Telegram's hold-to-talk).
  const button = $("resident-record");
  if (ui.recorder) { ui.recorder.stop(); return; }
  if (!ui.resident) return;
  if (!navigator.mediaDevices || !window.MediaRecorder) {
    showToast($("toast"), "No microphone here: pick an audio file with 🎵 instead.", false);
    return;
  }
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ audio: true });
  } catch (err) {
    showToast($("toast"), "The microphone is not available: pick an audio file with 🎵 instead.", false);
    return;
  }
  const chunks = [];
  const recorder = new MediaRecorder(stream);
  const started = Date.now();
  recorder.ondataavailable = (event) => { if (event.data.size) chunks.push(event.data); };
  recorder.onstop = async () => {
    stream.getTracks().forEach((track) => track.stop());
    ui.recorder = null;
    button.classList.remove("recording");
    button.textContent = "🎤";
    const type = recorder.mimeType || "audio/ogg";
    if (chunks.length) await sendVoice(new Blob(chunks, { type }), type, (Date.now() - started) / 1000);
  };
  ui.recorder = recorder;
  recorder.start();
  button.classList.add("recording");
  button.textContent = "⏹";
}

function wire() {
  const langSelect = $("new-resident-lang");
  langSelect.replaceChildren(...LANGUAGES.map(([code, name]) =>
    el("option", { value: code }, code ? `${name} (${code})` : name)));
  langSelect.value = "ar";

  $("resident-new").addEventListener("click", () => {
    ui.autoForm = false;
    $("resident-form").hidden = false;
    $("new-resident-name").select();
  });
  $("new-resident-cancel").addEventListener("click", () => { $("resident-form").hidden = true; });
  $("resident-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const name = $("new-resident-name").value.trim();
    if (!name) return;
    const code = langSelect.value;
    const user = await act({ action: "add_user", first_name: name, language_code: code || null });
    ui.resident = user.id;
    ui.created = user.id;
    ui.scrollResident = true;
    localStorage.setItem("qb.resident", String(user.id));
    $("resident-form").hidden = true;
    $("resident-chat").replaceChildren();
    if (ui.state) renderResidentSide(ui.state, false);
  });
  $("resident-select").addEventListener("change", (event) => {
    ui.resident = Number(event.target.value) || null;
    ui.created = null;
    ui.scrollResident = true;
    localStorage.setItem("qb.resident", String(ui.resident || ""));
    $("resident-chat").replaceChildren();
    renderResidentSide(ui.state, false);
  });
  $("start").addEventListener("click", () => {
    if (ui.resident) act({ action: "send_text", user_id: ui.resident, text: "/start" }).catch(() => {});
  });
  $("resident-composer").addEventListener("submit", (event) => {
    event.preventDefault();
    const input = $("resident-input");
    const text = input.value;
    if (!text.trim() || !ui.resident) return;
    input.value = "";
    act({ action: "send_text", user_id: ui.resident, text }).catch(() => { input.value = text; });
  });
  $("resident-file").addEventListener("change", async (event) => {
    const file = event.target.files[0];
    event.target.value = "";
    if (!file || !ui.resident) return;
    const data = await readBase64(file);
    const caption = $("resident-input").value.trim() || undefined;
    $("resident-input").value = "";
    const photo = /^image\/(jpeg|png|webp)$/.test(file.type);
    act({
      action: photo ? "send_photo" : "send_document", user_id: ui.resident, data, caption,
      file_name: file.name, mime_type: file.type || "application/octet-stream",
    }).catch(() => {});
  });

  $("resident-voice-file").addEventListener("change", async (event) => {
    const file = event.target.files[0];
    event.target.value = "";
    if (!file || !ui.resident) return;
    await sendVoice(file, file.type || "audio/ogg", await audioSeconds(file));
  });
  $("resident-record").addEventListener("click", () => record());
  $("resident-sticker").addEventListener("click", () => {
    $("sticker-picker").hidden = !$("sticker-picker").hidden;
  });
  for (const button of document.querySelectorAll("#sticker-picker [data-emoji]")) {
    button.addEventListener("click", () => {
      $("sticker-picker").hidden = true;
      if (!ui.resident) return;
      act({ action: "send_sticker", user_id: ui.resident, emoji: button.dataset.emoji }).catch(() => {});
    });
  }

  $("staff-select").addEventListener("change", (event) => {
    ui.staff = Number(event.target.value) || null;
    localStorage.setItem("qb.staff", String(ui.staff || ""));
    $("staff-chat").replaceChildren();
    renderStaffSide(ui.state);
  });
  $("staff-new").addEventListener("click", async () => {
    const group = ui.state && groups(ui.state)[0];
    const name = group && window.prompt("Name of the new staff member", "Counsellor");
    if (!name) return;
    const user = await act({ action: "add_user", first_name: name, language_code: "de" });
    await act({ action: "set_admin", chat_id: group.id, user_id: user.id });
    ui.staff = user.id;
    localStorage.setItem("qb.staff", String(user.id));
  });
  $("staff-replying-cancel").addEventListener("click", () => setReply(null));
  $("staff-composer").addEventListener("submit", (event) => {
    event.preventDefault();
    const input = $("staff-input");
    const text = input.value;
    const group = ui.state && groups(ui.state)[0];
    if (!text.trim() || !group) return;
    if (!ui.staff) { showError("Add a staff member first (+)."); return; }
    input.value = "";
    const replyTo = ui.replyTo;
    setReply(null);
    act({
      action: "send_text", user_id: ui.staff, chat_id: group.id, text,
      thread_id: group.is_forum && ui.thread ? ui.thread : null,
      reply_to: replyTo ? replyTo.message_id : null,
    }).catch(() => { input.value = text; setReply(replyTo); });
  });

  // On a phone the engines line is cut to one line: a tap shows all of it.
  $("engines").addEventListener("click", () => $("engines").classList.toggle("open"));

  $("ff-hour").addEventListener("click", () => act({ action: "advance_clock", hours: 1 }).catch(() => {}));
  $("ff-day").addEventListener("click", () => act({ action: "advance_clock", days: 1 }).catch(() => {}));

  const events = new EventSource("api/events");
  events.addEventListener("state", (event) => applyState(JSON.parse(event.data)));
  events.addEventListener("clock", (event) => updateClock(JSON.parse(event.data)));
  events.onopen = () => { $("live").classList.add("on"); $("live").title = "Live"; };
  events.onerror = () => { $("live").classList.remove("on"); $("live").title = "Reconnecting…"; };
}

wire();
