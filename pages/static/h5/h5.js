/* The H5 entry page's progressive enhancement (the page works without it):
 * - live 字数 counters with the project's own countZi (docs/wordcount.js, served as is);
 * - autosave while typing: debounced, with a visible 已保存/未保存 state; unsaved edits are
 *   kept in localStorage, so they survive a reload or a lost connection and are sent later;
 * - evidence upload with a progress bar, and the kind's size limit checked before sending.
 * No inline script, no other hosts: it runs under the pages' Content-Security-Policy. */
(function () {
  'use strict';
  var DEBOUNCE_MS = 800;
  var RETRY_MS = 5000;

  function csrf() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute('content') : '';
  }

  function setCounter(el, count) {
    el.firstChild.nodeValue = count + ' 字';
    bounds(el, count);
  }

  function bounds(el, count) {
    var min = parseInt(el.getAttribute('data-min') || '0', 10);
    var max = parseInt(el.getAttribute('data-max') || '0', 10);
    var bad = (max && count > max) || (min && count > 0 && count < min);
    el.classList.toggle('bad', Boolean(bad));
  }

  function updateCounters(form) {
    var total = 0;
    form.querySelectorAll('[data-count]').forEach(function (field) {
      var count = window.countZi(field.value);
      var counter = form.querySelector('[data-counter-for="' + field.name + '"]');
      if (counter) setCounter(counter, count);
      if (field.hasAttribute('data-body')) total += count;
    });
    var output = document.getElementById('body-count');
    if (output) {
      output.value = String(total);
      output.textContent = String(total);
      bounds(document.getElementById('body-total'), total);
    }
  }

  function snapshot(form) {
    var values = {};
    form.querySelectorAll('input[type=text], textarea, select').forEach(function (field) {
      if (field.name && field.name !== 'late_code') values[field.name] = field.value;
    });
    var themes = [];
    form.querySelectorAll('input[name=themes]:checked').forEach(function (box) {
      themes.push(box.value);
    });
    return { version: form.getAttribute('data-version'), values: values, themes: themes };
  }

  function restore(form, saved) {
    Object.keys(saved.values).forEach(function (name) {
      var field = form.elements.namedItem(name);
      if (field && 'value' in field) field.value = saved.values[name];
    });
    form.querySelectorAll('input[name=themes]').forEach(function (box) {
      box.checked = saved.themes.indexOf(box.value) !== -1;
    });
  }

  function autosave(form) {
    var key = 'h5-entry-' + form.getAttribute('data-entry');
    var state = document.getElementById('save-state');
    var timer = null;
    var edits = 0;
    var sending = false;

    function show(name, text) {
      state.hidden = false;
      state.setAttribute('data-state', name);
      state.textContent = text;
    }

    function keep() {
      try {
        localStorage.setItem(key, JSON.stringify(snapshot(form)));
      } catch (e) { /* private mode: the server copy is all there is */ }
    }

    function save() {
      timer = null;
      if (sending) { schedule(); return; }
      sending = true;
      var sent = edits;
      var body = new FormData(form);
      body.delete('action');
      fetch(form.getAttribute('data-autosave'), {
        method: 'POST',
        body: body,
        credentials: 'same-origin',
        headers: { 'X-CSRF-Token': csrf(), 'Accept': 'application/json' }
      }).then(function (response) {
        return response.json().then(function (data) {
          if (!response.ok) throw new Error((data.error && data.error.message) || '保存失败');
          return data;
        });
      }).then(function (data) {
        sending = false;
        form.setAttribute('data-version', String(data.version));
        if (edits === sent) {
          try { localStorage.removeItem(key); } catch (e) { /* nothing kept */ }
          show('saved', '已保存');
        } else {
          keep();
        }
      }).catch(function (error) {
        sending = false;
        show('unsaved', '未保存（' + (navigator.onLine ? error.message : '网络已断开') + '，稍后自动重试）');
        setTimeout(schedule, RETRY_MS);
      });
    }

    function schedule() {
      if (timer) clearTimeout(timer);
      timer = setTimeout(save, DEBOUNCE_MS);
    }

    function changed() {
      edits += 1;
      updateCounters(form);
      keep();
      show('unsaved', '未保存');
      schedule();
    }

    form.addEventListener('input', changed);
    form.addEventListener('change', changed);
    window.addEventListener('online', schedule);
    show('saved', '已保存');
    var kept = null;
    try { kept = JSON.parse(localStorage.getItem(key) || 'null'); } catch (e) { kept = null; }
    if (kept && kept.version === form.getAttribute('data-version')) {
      restore(form, kept);
      changed();
    } else if (kept) {
      localStorage.removeItem(key); // the server moved on (saved elsewhere): its copy wins
    }
  }

  function uploads(form) {
    var bar = document.getElementById('upload-progress');
    form.addEventListener('submit', function (event) {
      var input = form.elements.namedItem('file');
      var file = input.files && input.files[0];
      var option = form.elements.namedItem('kind').selectedOptions[0];
      var maxMb = parseInt(option.getAttribute('data-max-mb') || '0', 10);
      var note = form.querySelector('.problem.js') || document.createElement('p');
      note.className = 'problem js';
      note.setAttribute('role', 'alert');
      form.appendChild(note);
      note.textContent = '';
      if (file && maxMb && file.size > maxMb * 1024 * 1024) {
        event.preventDefault();
        note.textContent = '文件过大，' + option.textContent.split('（')[0] + '不能超过 ' + maxMb + 'MB';
        return;
      }
      if (!file || !window.FormData) return; // a link: the plain form post is enough
      event.preventDefault();
      var request = new XMLHttpRequest();
      request.open('POST', form.action);
      request.setRequestHeader('X-CSRF-Token', csrf());
      request.setRequestHeader('Accept', 'application/json');
      bar.hidden = false;
      request.upload.onprogress = function (e) {
        if (e.lengthComputable) bar.value = Math.round((e.loaded / e.total) * 100);
      };
      request.onload = function () {
        if (request.status === 201) {
          var query = new URLSearchParams({ done: 'uploaded' });
          var late = form.elements.namedItem('late_code');
          if (late && late.value) query.set('late_code', late.value); // 补报码 keeps it open
          window.location.href = window.location.pathname + '?' + query.toString() + '#evidence';
          return;
        }
        bar.hidden = true;
        try {
          note.textContent = JSON.parse(request.responseText).error.message;
        } catch (e) {
          note.textContent = '上传失败，请重试';
        }
      };
      request.onerror = function () {
        bar.hidden = true;
        note.textContent = '网络异常，上传未完成，请重试';
      };
      request.send(new FormData(form));
    });
  }

  document.addEventListener('DOMContentLoaded', function () {
    var form = document.getElementById('entry-form');
    if (form && window.countZi) {
      updateCounters(form);
      autosave(form);
    }
    var upload = document.getElementById('upload-form');
    if (upload) uploads(upload);
  });
})();
