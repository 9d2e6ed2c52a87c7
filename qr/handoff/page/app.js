/*
 * app.js: the user interface of the enroll hand-off page. All cryptography
 * and the wire format are in seal.mjs (EnrollSeal), over the vendored
 * @noble/ciphers; this file only reads the address, reacts to the form and
 * reports what the device answered.
 *
 * A classic script, run after the module seal.mjs (deferred scripts and
 * modules run in document order): if the module could not load (an old
 * browser, a failed download), this still runs and says so.
 */
(function () {
  'use strict';

  var C = window.EnrollSeal;
  var SEND_TIMEOUT_MS = 30000;

  var form = document.getElementById('form');
  var link = document.getElementById('link');
  var problem = document.getElementById('link-problem');
  var send = document.getElementById('send');
  var status = document.getElementById('status');
  var done = document.getElementById('done');
  var doneTitle = document.getElementById('done-title');
  var code = document.getElementById('code');

  var SEND_LABEL = send.textContent;
  var RESCAN = 'start the hand-off again on the device and scan the new QR code.';

  var session = null; // {id, key} once the address checks out
  var busy = false;
  var finished = false;

  function setStatus(text, kind) {
    status.textContent = text;
    status.className = 'status' + (kind ? ' ' + kind : '');
  }

  function setFormEnabled(on) {
    link.disabled = !on;
    send.disabled = !on;
  }

  function stop(message) {
    finished = true;
    setFormEnabled(false);
    setStatus(message, 'error');
  }

  function start() {
    if (!C) {
      setStatus('This page could not load its encryption code (the browser may be too old). Reload the page, or type the link on the device.', 'error');
      return;
    }
    var missing = C.unsupported();
    if (missing === '' && typeof window.fetch !== 'function') missing = 'fetch';
    if (missing !== '') {
      stop('This browser is too old for this page (it lacks ' + missing + '). Try another browser, or type the link on the device.');
      return;
    }
    var id, key;
    try {
      id = C.parseId(window.location.pathname);
    } catch (e) {
      stop('This is not the address of a hand-off. Scan the QR code on the device again.');
      return;
    }
    try {
      key = C.parseKey(window.location.hash);
    } catch (e) {
      if (e.reason === 'no-key') {
        stop('This address lacks its key (the part after “#”). Scan the QR code on the device again instead of typing the address.');
      } else {
        stop('The key in this address is damaged. Scan the QR code on the device again.');
      }
      return;
    }
    session = { id: id, key: key };
    setFormEnabled(true);
    setStatus('', '');
    checkLength();
  }

  // checkLength flags text the device would refuse, while the person edits.
  function checkLength() {
    var n = C.invitationBytes(link.value).length;
    if (n > C.MAX_INVITATION_BYTES) {
      link.setAttribute('aria-invalid', 'true');
      problem.textContent = 'This is ' + n + ' bytes long; an invitation link is at most ' +
        C.MAX_INVITATION_BYTES + '. Paste only the link.';
      return false;
    }
    link.removeAttribute('aria-invalid');
    problem.textContent = '';
    return true;
  }

  function messageFor(httpStatus) {
    switch (httpStatus) {
      case 409:
        return 'This hand-off was already used. If you have just sent your link, look at the device: it may already have it. If not, ' + RESCAN;
      case 410:
        return 'This hand-off has expired: ' + RESCAN;
      case 403:
        return 'The device does not accept a link from this phone now (another phone opened this QR code first, or there were too many attempts, or the hand-off was closed). To send your link, ' + RESCAN;
      case 400:
        return 'The device could not decrypt the link. This page may belong to an earlier hand-off: scan the QR code that the device shows now.';
      case 413:
        return 'The device refused the link as too long. Paste only the invitation link.';
      default:
        return 'The device answered with an error (HTTP ' + httpStatus + '). Try again, or type the link on the device.';
    }
  }

  // Statuses after which this page can do nothing more.
  function isFinal(httpStatus) {
    return httpStatus === 409 || httpStatus === 410 || httpStatus === 403;
  }

  function succeed(matchCode) {
    finished = true;
    link.value = '';
    setFormEnabled(false);
    code.textContent = matchCode;
    done.hidden = false;
    // Announced by screen readers; the panel above shows the same visually.
    setStatus('Sent. Show this code to the device: ' + matchCode, 'ok visually-hidden');
    doneTitle.focus();
  }

  function post(body) {
    var controller = typeof AbortController === 'function' ? new AbortController() : null;
    var timer = controller ? setTimeout(function () { controller.abort(); }, SEND_TIMEOUT_MS) : null;
    var init = {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: body,
      mode: 'same-origin',
      credentials: 'omit',
      referrerPolicy: 'no-referrer',
      cache: 'no-store',
      redirect: 'error'
    };
    if (controller) init.signal = controller.signal;
    return window.fetch('/h/' + session.id, init).then(function (res) {
      if (timer) clearTimeout(timer);
      return res.status;
    }, function (err) {
      if (timer) clearTimeout(timer);
      throw err;
    });
  }

  function submit(ev) {
    if (ev) ev.preventDefault();
    if (busy || finished || session === null) return;
    if (!checkLength()) {
      setStatus('Nothing was sent: the text is too long.', 'error');
      link.focus();
      return;
    }

    var sealed;
    try {
      // A fresh random nonce every time, also when retrying.
      sealed = C.sealInvitation(session.key, session.id, link.value);
    } catch (e) {
      if (e.reason === 'empty') {
        setStatus('Paste the invitation link first.', 'error');
        link.focus();
      } else if (e.reason === 'too-long') {
        setStatus('Nothing was sent: the text is too long.', 'error');
      } else {
        setStatus('Could not encrypt the link: ' + e.message, 'error');
      }
      return;
    }

    busy = true;
    setFormEnabled(false);
    send.textContent = 'Sending…';
    setStatus('Sending to the device…', '');

    post(sealed.body).then(function (httpStatus) {
      busy = false;
      send.textContent = SEND_LABEL;
      if (httpStatus >= 200 && httpStatus < 300) {
        succeed(sealed.code);
      } else if (isFinal(httpStatus)) {
        stop(messageFor(httpStatus));
      } else {
        setFormEnabled(true);
        setStatus(messageFor(httpStatus), 'error');
      }
    }, function () {
      busy = false;
      send.textContent = SEND_LABEL;
      setFormEnabled(true);
      setStatus('Could not reach the device. Check that this phone is on the same network as the device (Wi-Fi, not mobile data), then try again.', 'error');
    });
  }

  form.addEventListener('submit', submit);

  // The link has no line breaks: let Enter (the keyboard's "send" key) send.
  link.addEventListener('keydown', function (ev) {
    if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) submit(ev);
  });

  link.addEventListener('input', function () {
    if (session === null || finished) return;
    checkLength();
    if (!busy && status.className.indexOf('error') >= 0) setStatus('', '');
  });

  start();
})();
