// The phone page: photos one request each (so each is "received" by itself), the
// position once. No library and nothing from elsewhere: the shop may have no internet.
"use strict";

const WORDS = {
  zh: {
    take: "拍照", choose: "从相册选择", locate: "发送本机位置",
    hint: "照片只发送到这台笔记本电脑。完成后关闭此页面即可。",
    sending: "发送中…", received: "已收到 ✓", failed: "未收到：", busy: "请求太多，稍后重试…",
    ended: "此二维码已失效：请在电脑上重新打开二维码",
    locating: "正在定位…", located: "位置已记录 ✓", had: "此访问已有位置，未更改",
    nolocation: "无法获取位置：", insecure: "浏览器只在安全连接下提供位置",
    photosonly: "此项不收照片，仅可发送位置", network: "网络错误",
  },
  en: {
    take: "Take photos", choose: "Choose from the gallery", locate: "Share this phone's position",
    hint: "The photos go to the laptop only. Close this page when you are done.",
    sending: "sending…", received: "received ✓", failed: "not received: ",
    busy: "too many requests, trying again…",
    ended: "This QR code has ended: open the QR code again on the laptop",
    locating: "finding the position…", located: "position recorded ✓",
    had: "the visit has its position already; unchanged",
    nolocation: "no position: ", insecure: "the browser gives the position only to a secure page",
    photosonly: "this item takes no photos; the position only", network: "network error",
  },
};

const lang = (navigator.language || "en").toLowerCase().startsWith("zh") ? "zh" : "en";
const say = (key) => WORDS[lang][key];

function pick(message) {
  // The laptop answers in both languages; the phone shows its own.
  if (message && typeof message === "object") return message[lang] || message.en || "";
  return String(message || "");
}

async function post(path, body, headers) {
  // A 429 says when to come back: wait that long, a few times at most.
  for (let attempt = 0; attempt < 4; attempt += 1) {
    const response = await fetch(path, { method: "POST", body, headers, cache: "no-store" });
    if (response.status !== 429) return response;
    const wait = Number(response.headers.get("Retry-After") || "2");
    await new Promise((resolve) => setTimeout(resolve, Math.min(wait, 10) * 1000));
  }
  return fetch(path, { method: "POST", body, headers, cache: "no-store" });
}

async function answer(response) {
  try { return await response.json(); } catch (error) { return {}; }
}

async function send(file, list) {
  const line = document.createElement("li");
  const name = document.createElement("span");
  const state = document.createElement("span");
  name.textContent = file.name || "photo.jpg";
  state.className = "state";
  state.textContent = say("sending");
  line.append(name, state);
  list.prepend(line);
  const form = new FormData();
  form.append("photo", file, file.name || "photo.jpg");
  try {
    const response = await post("photo", form);
    const reply = await answer(response);
    if (response.ok && reply.ok) {
      line.className = "ok";
      state.textContent = say("received");
    } else {
      line.className = "no";
      state.textContent = response.status === 410 ? say("ended") : say("failed") + pick(reply.message);
    }
  } catch (error) {
    line.className = "no";
    state.textContent = say("failed") + say("network");
  }
}

async function sendAll(input) {
  const list = document.getElementById("sent");
  const files = Array.from(input.files || []);
  input.value = "";
  for (const file of files) await send(file, list);  // one at a time: a phone's uplink is slow
}

function locate() {
  const status = document.getElementById("located");
  const button = document.getElementById("locate");
  status.className = "status";
  if (!window.isSecureContext || !navigator.geolocation) {
    status.className = "status no";
    status.textContent = say("insecure");
    return;
  }
  button.disabled = true;
  status.textContent = say("locating");
  navigator.geolocation.getCurrentPosition(async (found) => {
    const body = JSON.stringify({
      latitude: found.coords.latitude,
      longitude: found.coords.longitude,
      accuracy: found.coords.accuracy,
      at: new Date(found.timestamp).toISOString(),
    });
    try {
      const response = await post("position", body, { "Content-Type": "application/json" });
      const reply = await answer(response);
      if (response.ok && reply.ok) {
        status.className = "status ok";
        status.textContent = reply.recorded ? say("located") : say("had");
      } else {
        status.className = "status no";
        status.textContent = response.status === 410 ? say("ended") : say("failed") + pick(reply.message);
        button.disabled = false;
      }
    } catch (error) {
      status.className = "status no";
      status.textContent = say("failed") + say("network");
      button.disabled = false;
    }
  }, (error) => {
    status.className = "status no";
    status.textContent = say("nolocation") + error.message;
    button.disabled = false;
  }, { enableHighAccuracy: true, timeout: 30000, maximumAge: 60000 });
}

function start() {
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  for (const element of document.querySelectorAll("[data-t]")) {
    element.textContent = say(element.dataset.t);
  }
  const body = document.body;
  const title = lang === "zh" ? body.dataset.titleZh : body.dataset.titleEn;
  document.getElementById("title").textContent = title;
  document.title = title;
  if (body.dataset.photos !== "1") {
    document.getElementById("photos").hidden = true;
    document.getElementById("located").textContent = say("photosonly");
  }
  for (const id of ["camera", "library"]) {
    document.getElementById(id).addEventListener("change", (event) => sendAll(event.target));
  }
  document.getElementById("locate").addEventListener("click", locate);
}

start();
