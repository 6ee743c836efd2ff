// The simulated feed's client: a virtual-clock player, the feed's navigation, and the
// reporting of dwell time and likes to the recommender. Each skin page defines
// window.SKIN = {render(item) -> {root, video, like}, overlay(kind) -> element,
// wheel: bool}; everything else is shared here.
"use strict";
const SIM = {clock: null, session: null, seed: null, inject: null, item: null,
             viewStart: null, dwell: null, declaredDwell: null, liked: false, busy: false, duration: 30};
const params = new URLSearchParams(location.search);
SIM.session = params.get("session");
SIM.seed = params.get("seed");
SIM.inject = params.get("inject");

// Virtual seconds: the same formula as vspectrum_app/sim/clock.py.
function vnow() {
  const c = SIM.clock;
  return c.virtual_epoch + (Date.now() / 1000 - c.real_epoch) * c.speed;
}

// A <video> that plays an animated still on the virtual clock. currentTime, paused and
// readyState behave like a real player's, so crawler adapters read them the same way.
// A paused video stops both its clock and the viewer's dwell, as on the real sites'
// players: a persona agent pauses while its model thinks.
function makePlayer(video, progress) {
  let start = null, pausedAt = null;
  const now = () => (pausedAt === null ? vnow() : pausedAt);
  Object.defineProperty(video, "currentTime", {configurable: true,
    get() { return start === null ? 0 : (now() - start) % SIM.duration; },
    set(v) { start = now() - v; }});
  Object.defineProperty(video, "paused", {configurable: true, get() { return start === null || pausedAt !== null; }});
  Object.defineProperty(video, "readyState", {configurable: true, get() { return start === null ? 0 : 4; }});
  Object.defineProperty(video, "duration", {configurable: true, get() { return SIM.duration; }});
  video.simStart = () => { start = vnow(); SIM.viewStart = vnow(); SIM.dwell = () => now() - SIM.viewStart; };
  video.pause = () => { if (start !== null && pausedAt === null) pausedAt = vnow(); };
  video.play = () => {
    if (pausedAt !== null) {
      const held = vnow() - pausedAt;
      start += held;
      if (SIM.viewStart !== null) SIM.viewStart += held;
      pausedAt = null;
    }
    return Promise.resolve();
  };
  const frame = () => {
    if (!video.isConnected) return;
    const t = video.currentTime;
    video.style.filter = `brightness(${1 + 0.004 * t})`;          // a slow fade: frames differ over time
    if (progress) progress.style.width = `${(100 * t) / SIM.duration}%`;
    requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
}

async function api(path, body) {
  const r = await fetch(path, body === undefined ? {} : {method: "POST", body: JSON.stringify(body),
                                                         headers: {"Content-Type": "application/json"}});
  if (!r.ok) throw new Error(`${path}: ${r.status}`);
  return r.json();
}

async function show(item) {
  SIM.item = item;
  SIM.session = item.session;
  SIM.liked = false;
  SIM.viewStart = null;
  const parts = SKIN.render(item);
  document.querySelectorAll("[data-sim-overlay]").forEach((el) => el.remove());
  if (item.overlay) {
    const wall = SKIN.overlay(item.overlay);
    wall.dataset.simOverlay = item.overlay;
    document.body.appendChild(wall);
  }
  if (parts.like) parts.like.addEventListener("click", like);
  history.replaceState(null, "", item.page_url + location.search);
  // Playback starts once the picture is decoded and painted, as a video starts on its first frame.
  const img = new Image();
  img.src = item.media;
  try { await img.decode(); } catch (e) { /* shown as a broken frame, like a failed video */ }
  parts.video.poster = item.media;
  requestAnimationFrame(() => requestAnimationFrame(() => parts.video.simStart()));
}

async function next() {
  if (SIM.busy) return;
  SIM.busy = true;
  try {
    // An automated viewer may declare its dwell (see persona/feeds.py): on a fast virtual
    // clock, a few milliseconds of machine jitter are whole seconds of measured dwell.
    const measured = SIM.viewStart === null ? 0 : SIM.dwell();
    const prev = SIM.item && {key: SIM.item.key, liked: SIM.liked,
                              dwell_s: SIM.declaredDwell === null ? measured : SIM.declaredDwell};
    SIM.declaredDwell = null;
    await show(decorate(await api("/api/next", {session: SIM.session, seed: SIM.seed, inject: SIM.inject, prev})));
  } finally {
    SIM.busy = false;
  }
}

async function like() {
  if (!SIM.item || SIM.liked) return;
  SIM.liked = true;
  document.querySelectorAll("[data-sim-like]").forEach((b) => b.setAttribute("aria-pressed", "true"));
  await api("/api/like", {session: SIM.session, key: SIM.item.key});
}

// The item's own URL, in the skin's style.
function decorate(item) {
  item.page_url = SKIN.pageUrl(item);
  return item;
}

function dismissOverlay(el) { el.remove(); }

// A copy of a skin's <template>: markup that holds no data. Skins put an item's fields into
// it with textContent and attributes only (never innerHTML), so outside text stays text.
function cloneTemplate(id) { return document.getElementById(id).content.cloneNode(true); }

function relativeDate(iso) {  // what the sites print: "3d ago" for recent posts, else the date
  const days = Math.floor((Date.now() - new Date(iso + "T00:00:00Z")) / 86400000);
  return days >= 0 && days < 7 ? `${days}d ago` : iso;
}

window.addEventListener("keydown", (e) => { if (e.key === "ArrowDown" && !document.querySelector("[data-sim-overlay]")) next(); });
window.addEventListener("wheel", (e) => {
  if (SKIN.wheel && e.deltaY > 0 && !document.querySelector("[data-sim-overlay]")) next();
}, {passive: true});

(async () => {
  SIM.clock = await api("/api/clock");
  const start = SKIN.startId && SKIN.startId(location.pathname);
  const first = await api("/api/next", {session: SIM.session, seed: SIM.seed, inject: SIM.inject, start});
  await show(decorate(first));
})();
