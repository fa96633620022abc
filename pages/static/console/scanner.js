/* The scanner of the mailroom (kind "mailin") and the door (kind "ticket"): one module,
 * parametrised by the data- attributes of [data-scanner] (templates/console/mailroom_scanner.html).
 *
 * - A USB scanner types the code and presses Enter into the input; people type a short code.
 * - Camera mode hands video frames to the vendored jsQR; a photo of a QR code works the same.
 * - Each scan carries a fresh random nonce and the time it happened. When the network is down
 *   the scan is kept in localStorage and sent through the batch endpoint when it is back; the
 *   engine answers a replayed nonce with the same result, so nothing is counted twice.
 * - `force` (door only) re-sends the code with a new nonce and force: true, after the person
 *   confirmed on the page; the engine audits it. */
(function () {
  "use strict";

  var RETRY_MS = 15000;
  var SAME_CODE_MS = 3000; // the camera sees one QR many times a second
  var LOG_SIZE = 20;

  function csrfToken() {
    try { return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRF-Token"]; }
    catch (ignored) { return ""; }
  }

  function newNonce() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function localTime(iso) {
    var d = iso ? new Date(iso) : new Date();
    if (isNaN(d.getTime())) { return iso || ""; }
    return d.toLocaleString("zh-CN", { timeZone: "Asia/Shanghai", hour12: false });
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRF-Token": csrfToken() },
      body: JSON.stringify(body)
    }).then(function (response) {
      if (response.status >= 502 && response.status <= 504) { throw new Error("gateway " + response.status); }
      return response.json().catch(function () { return {}; }).then(function (data) {
        return { ok: response.ok, status: response.status, data: data };
      });
    });
  }

  var WORDS = {
    mailin: { done: "签收成功", again: "已登记", what: "封面" },
    ticket: { done: "签到成功", again: "已签到", what: "票据" }
  };
  var ERRORS = {
    unknown_code: "无法识别",
    ticket_waiting: "候补，尚无座位",
    ticket_cancelled: "报名已取消",
    not_a_cover: "不是封面二维码",
    not_a_ticket: "不是参会票据",
    other_session: "不是本场次",
    validation_failed: "格式不正确"
  };
  var FORCEABLE = ["already_redeemed", "ticket_waiting", "ticket_cancelled"];

  function describe(kind, object) {
    if (!object) { return ""; }
    if (kind === "ticket") { return [object.name, object.unit, object.session].filter(Boolean).join(" · "); }
    var code = object.short_code ? "编码 " + object.short_code.slice(0, 4) + "-" + object.short_code.slice(4) : "";
    return [object.title, code].filter(Boolean).join(" · ");
  }

  /* What one result means on screen: {tone, title, detail, code}. */
  function meaning(kind, result) {
    var words = WORDS[kind];
    if (result.status === "redeemed") {
      var forced = result.redemption && result.redemption.forced ? "（强制放行，已记入日志）" : "";
      return { tone: "success", title: words.done + forced, detail: describe(kind, result.object), code: "redeemed" };
    }
    if (result.status === "already_redeemed") {
      var first = result.first || {};
      var detail = "首次：" + localTime(first.at) + "，" + (first.by_name || first.by || "") + " · " + describe(kind, result.object);
      return { tone: "warning", title: words.again, detail: detail, code: "already_redeemed", first: first };
    }
    var error = result.error || {};
    return {
      tone: "danger",
      title: ERRORS[error.code] || "操作失败",
      detail: [error.message, describe(kind, error.object)].filter(Boolean).join(" · "),
      code: error.code || "error"
    };
  }

  function Scanner(root) {
    this.root = root;
    this.kind = root.dataset.kind;
    this.scanUrl = root.dataset.scanUrl;
    this.batchUrl = root.dataset.batchUrl;
    this.queueKey = root.dataset.queueKey;
    this.canForce = root.dataset.force === "1";
    this.panelUrl = root.dataset.panelUrl;
    this.input = root.querySelector("#scan-code");
    this.result = root.querySelector("[data-scan-result]");
    this.log = root.querySelector("[data-scan-log]");
    this.lastCamera = { code: null, at: 0 };
    this.flushing = false;
    this.forceCode = null;
    this.bind();
    this.showQueue();
    this.flush();
    this.takeEarlyScan();
  }

  /* A code scanned before this script bound the form (a USB scanner is quick, and the script
   * is deferred) was submitted the browser's way: the page came back with ?code=…. It is
   * taken as a scan, once: the address drops it at once, so a reload does not repeat it. */
  Scanner.prototype.takeEarlyScan = function () {
    var params = new URLSearchParams(window.location.search);
    var code = (params.get("code") || "").trim();
    if (!code) { return; }
    params.delete("code");
    var rest = params.toString();
    window.history.replaceState(null, "", window.location.pathname + (rest ? "?" + rest : "") + window.location.hash);
    this.scan(code, false);
  };

  Scanner.prototype.bind = function () {
    var self = this, root = this.root;
    root.querySelector("[data-scan-form]").addEventListener("submit", function (event) {
      event.preventDefault();
      var code = self.input.value.trim();
      self.input.value = "";
      self.input.focus();
      if (code) { self.scan(code, false); }
    });
    root.querySelector("[data-camera-start]").addEventListener("click", function () { self.startCamera(); });
    root.querySelector("[data-camera-stop]").addEventListener("click", function () { self.stopCamera(); });
    root.querySelector("[data-scan-image]").addEventListener("change", function (event) {
      var file = event.target.files && event.target.files[0];
      if (file) { self.decodeFile(file); }
      event.target.value = "";
    });
    root.querySelector("[data-queue-send]").addEventListener("click", function () { self.flush(); });
    root.querySelector("[data-force-ask]").addEventListener("click", function () {
      root.querySelector("[data-scan-force]").hidden = false;
      root.querySelector("[data-force-confirm]").focus();
    });
    root.querySelector("[data-force-cancel]").addEventListener("click", function () { self.hideForce(); self.input.focus(); });
    root.querySelector("[data-force-confirm]").addEventListener("click", function () {
      var code = self.forceCode;
      self.hideForce();
      if (code) { self.scan(code, true); }
    });
    document.addEventListener("htmx:afterRequest", function (event) {
      // After ticking a package's checklist, the next package's scan goes to the code box.
      var panel = event.detail.elt.closest && event.detail.elt.closest("#mailin-panel");
      if (panel && event.detail.successful) { self.input.focus(); }
    });
    window.addEventListener("online", function () { self.flush(); });
    window.setInterval(function () { self.flush(); }, RETRY_MS);
  };

  /* One scan, now: answered by the server, or queued when the network is down. */
  Scanner.prototype.scan = function (code, force) {
    var self = this;
    var scan = { code: code, nonce: newNonce(), datetime: new Date().toISOString() };
    if (force) { scan.force = true; }
    this.hideForce();
    if (navigator.onLine === false) { this.enqueue(scan); return Promise.resolve(); }
    return post(this.scanUrl, scan).then(function (reply) {
      if (reply.ok) { self.show(reply.data, code); return; }
      var error = (reply.data && reply.data.error) || { message: "操作失败（" + reply.status + "）" };
      self.show({ status: "error", error: error }, code);
    }, function () {
      self.enqueue(scan);
    });
  };

  Scanner.prototype.show = function (result, code, offline) {
    var seen = meaning(this.kind, result);
    var box = this.result;
    box.className = "scan-result alert alert-" + seen.tone;
    box.dataset.outcome = seen.code;
    box.textContent = "";
    var title = document.createElement("div");
    title.className = "scan-title";
    title.textContent = seen.title;
    var detail = document.createElement("div");
    detail.className = "scan-detail";
    detail.textContent = seen.detail;
    box.appendChild(title);
    box.appendChild(detail);
    this.addLog(seen, code, offline);
    if (this.canForce && FORCEABLE.indexOf(seen.code) >= 0) {
      this.forceCode = code;
      this.root.querySelector("[data-force-ask]").hidden = false;
    }
    if (this.kind === "mailin" && result.object_id && this.panelUrl && window.htmx && !offline) {
      window.htmx.ajax("GET", this.panelUrl.replace("__id__", result.object_id), { target: "#mailin-panel", swap: "innerHTML" });
    }
  };

  Scanner.prototype.addLog = function (seen, code, offline) {
    var line = document.createElement("li");
    line.className = "scan-line text-" + (seen.tone === "warning" ? "body" : seen.tone);
    line.dataset.outcome = seen.code;
    line.textContent = localTime() + "　" + seen.title + "　" + (seen.detail || code) + (offline ? "（离线补传）" : "");
    this.log.insertBefore(line, this.log.firstChild);
    while (this.log.children.length > LOG_SIZE) { this.log.removeChild(this.log.lastChild); }
  };

  Scanner.prototype.hideForce = function () {
    this.forceCode = null;
    this.root.querySelector("[data-force-ask]").hidden = true;
    this.root.querySelector("[data-scan-force]").hidden = true;
  };

  /* --- The offline queue ------------------------------------------------------------- */

  Scanner.prototype.queued = function () {
    try { return JSON.parse(window.localStorage.getItem(this.queueKey) || "[]"); }
    catch (ignored) { return []; }
  };

  Scanner.prototype.saveQueue = function (scans) {
    window.localStorage.setItem(this.queueKey, JSON.stringify(scans));
    this.showQueue();
  };

  Scanner.prototype.enqueue = function (scan) {
    this.saveQueue(this.queued().concat([scan]));
    var box = this.result;
    box.className = "scan-result alert alert-secondary";
    box.dataset.outcome = "queued";
    box.textContent = "网络中断：本次扫码已暂存在本机，联网后自动上传（" + scan.code + "）";
  };

  Scanner.prototype.showQueue = function () {
    var count = this.queued().length;
    var box = this.root.querySelector("[data-scan-queue]");
    box.hidden = count === 0;
    box.dataset.count = String(count);
    this.root.querySelector("[data-queue-text]").textContent = "待上传 " + count + " 条离线扫码";
  };

  /* Send the queued scans once; a scan leaves the queue only when the server answered it. */
  Scanner.prototype.flush = function () {
    var self = this, scans = this.queued().slice(0, 1000);
    if (this.flushing || scans.length === 0 || navigator.onLine === false) { return Promise.resolve(); }
    this.flushing = true;
    return post(this.batchUrl, { scans: scans }).then(function (reply) {
      self.flushing = false;
      if (!reply.ok) {
        self.result.className = "scan-result alert alert-danger";
        self.result.textContent = (reply.data && reply.data.error && reply.data.error.message) || "离线扫码上传失败";
        return;
      }
      var sent = {};
      scans.forEach(function (scan) { sent[scan.nonce] = true; });
      self.saveQueue(self.queued().filter(function (scan) { return !sent[scan.nonce]; }));
      (reply.data.results || []).forEach(function (result, i) { self.show(result, scans[i].code, true); });
    }, function () {
      self.flushing = false;
    });
  };

  /* --- Camera and photos: jsQR in the page -------------------------------------------- */

  Scanner.prototype.decodePixels = function (image) {
    if (!window.jsQR) { return null; }
    var found = window.jsQR(image.data, image.width, image.height, { inversionAttempts: "attemptBoth" });
    return found && found.data ? found.data : null;
  };

  Scanner.prototype.decodeFile = function (file) {
    var self = this, url = URL.createObjectURL(file), img = new Image();
    img.onload = function () {
      var scale = Math.min(1, 1600 / Math.max(img.naturalWidth, img.naturalHeight));
      var canvas = document.createElement("canvas");
      canvas.width = Math.round(img.naturalWidth * scale);
      canvas.height = Math.round(img.naturalHeight * scale);
      var ctx = canvas.getContext("2d", { willReadFrequently: true });
      ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
      URL.revokeObjectURL(url);
      var code = self.decodePixels(ctx.getImageData(0, 0, canvas.width, canvas.height));
      if (code) { self.scan(code, false); }
      else { self.show({ status: "error", error: { code: "no_qr", message: "照片中没有找到二维码，请重拍或手动输入编码" } }, ""); }
    };
    img.onerror = function () {
      URL.revokeObjectURL(url);
      self.show({ status: "error", error: { code: "no_qr", message: "无法读取该图片" } }, "");
    };
    img.src = url;
  };

  Scanner.prototype.startCamera = function () {
    var self = this;
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      this.show({ status: "error", error: { code: "no_camera", message: "此浏览器不能使用摄像头（需要 HTTPS），请用扫码枪或手动输入" } }, "");
      return;
    }
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false }).then(function (stream) {
      var video = self.root.querySelector("[data-camera-video]");
      self.stream = stream;
      video.srcObject = stream;
      video.hidden = false;
      video.play();
      self.root.querySelector("[data-camera-start]").hidden = true;
      self.root.querySelector("[data-camera-stop]").hidden = false;
      self.canvas = document.createElement("canvas");
      self.tick();
    }, function () {
      self.show({ status: "error", error: { code: "no_camera", message: "无法打开摄像头，请检查浏览器权限，或用扫码枪、手动输入" } }, "");
    });
  };

  Scanner.prototype.tick = function () {
    var self = this, video = this.root.querySelector("[data-camera-video]");
    if (!this.stream) { return; }
    if (video.readyState >= 2 && video.videoWidth) {
      var canvas = this.canvas, ctx = canvas.getContext("2d", { willReadFrequently: true });
      canvas.width = video.videoWidth;
      canvas.height = video.videoHeight;
      ctx.drawImage(video, 0, 0);
      var code = this.decodePixels(ctx.getImageData(0, 0, canvas.width, canvas.height));
      var now = Date.now();
      if (code && (code !== this.lastCamera.code || now - this.lastCamera.at > SAME_CODE_MS)) {
        this.lastCamera = { code: code, at: now };
        this.scan(code, false);
      }
    }
    window.requestAnimationFrame(function () { self.tick(); });
  };

  Scanner.prototype.stopCamera = function () {
    if (this.stream) { this.stream.getTracks().forEach(function (track) { track.stop(); }); }
    this.stream = null;
    this.root.querySelector("[data-camera-video]").hidden = true;
    this.root.querySelector("[data-camera-start]").hidden = false;
    this.root.querySelector("[data-camera-stop]").hidden = true;
    this.input.focus();
  };

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-scanner]").forEach(function (root) { root.scanner = new Scanner(root); });
  });
}());
