/* The call player of a waiting-room display.

   Calls are played one after another, never two at once and never dropping
   one; each is said `repeats` times.  A call's WAV is fetched the moment the
   call arrives (while an earlier call may still be playing), so that its turn
   starts at once.  If its audio cannot be had, the chime alone is played: a
   call is never silent.  If the browser refuses to play without a tap
   (autoplay policy), the player asks for one with a button and goes on with
   the next calls; a display kiosk runs Chromium with
   --autoplay-policy=no-user-gesture-required so this never shows there.

   Instrumentation for tests and for a technician's console:
   window.__antrePlayed is the list of plays, in order:
   {event_id, number, text, url, repeat, fetched, started, ended, error}
   (times are performance.now() milliseconds). */
(function () {
  "use strict";

  var GAP_REPEAT_MS = 600;   // between two repeats of one call
  var GAP_CALL_MS = 400;     // between two calls
  var MAX_PLAY_MS = 30000;   // a WAV that never ends is given up after this
  var FETCH_RETRY_MS = 800;

  function sameOrigin(url) {
    // The server sends absolute URLs (its public address); the display may know
    // the server under another name.  The path is what matters here, and a
    // same-origin request carries the display's session cookie.
    try {
      var u = new URL(url, window.location.href);
      return u.pathname + u.search;
    } catch (e) {
      return url;
    }
  }

  function delay(ms) { return new Promise(function (resolve) { setTimeout(resolve, ms); }); }

  function fetchAudio(url) {
    function once() {
      return fetch(sameOrigin(url), { credentials: "same-origin", cache: "default" }).then(function (r) {
        if (!r.ok) throw new Error("HTTP " + r.status);
        return r.blob();
      });
    }
    return once().catch(function () { return delay(FETCH_RETRY_MS).then(once); }).then(function (blob) {
      return URL.createObjectURL(blob);
    });
  }

  function Player(options) {
    options = options || {};
    this.repeats = options.repeats || 1;
    this.chimeUrl = options.chimeUrl || null;
    this.enabled = options.enabled !== false;
    this.onBlocked = options.onBlocked || function () {};
    this.onPlaying = options.onPlaying || function () {};
    this.queue = [];
    this.busy = false;
    this.audio = new Audio();
    this.audio.preload = "auto";
    this.chimeSrc = null;
    window.__antrePlayed = window.__antrePlayed || [];
    this.played = window.__antrePlayed;
  }

  /** Queue a call: {event_id, number, text, url, repeats}. */
  Player.prototype.enqueue = function (call) {
    var item = {
      call: call,
      fetched: null,
      source: null
    };
    if (!this.enabled) {
      this.played.push({ event_id: call.event_id, number: call.number, text: call.text, url: call.url,
                         repeat: 0, fetched: null, started: null, ended: null, error: "server_output" });
      return;
    }
    // Fetch now, play when its turn comes.
    item.source = call.url ? fetchAudio(call.url).then(function (src) {
      item.fetched = performance.now();
      return src;
    }) : Promise.reject(new Error("no audio url"));
    item.source.catch(function () {});  // handled when played
    this.queue.push(item);
    this.pump();
  };

  Player.prototype.pending = function () { return this.queue.length + (this.busy ? 1 : 0); };

  Player.prototype.pump = function () {
    if (this.busy || !this.queue.length) return;
    var self = this;
    var item = this.queue.shift();
    this.busy = true;
    this.playItem(item).then(function () {
      return delay(GAP_CALL_MS);
    }).then(function () {
      self.busy = false;
      self.onPlaying(null);
      self.pump();
    });
  };

  Player.prototype.chime = function () {
    var self = this;
    if (!this.chimeUrl) return Promise.reject(new Error("no chime"));
    if (!this.chimeSrc) {
      this.chimeSrc = fetchAudio(this.chimeUrl);
      this.chimeSrc.catch(function () { self.chimeSrc = null; });
    }
    return this.chimeSrc;
  };

  Player.prototype.playItem = function (item) {
    var self = this;
    var call = item.call;
    var repeats = call.repeats || this.repeats;
    var error = null;
    var own = true;  // a call's object URL is freed after its last repeat; the chime's is kept
    return item.source.catch(function (e) {
      error = "audio_unavailable: " + (e && e.message);
      own = false;
      return self.chime();
    }).then(function (src) {
      var chain = Promise.resolve();
      for (var i = 1; i <= repeats; i++) {
        (function (repeat) {
          chain = chain.then(function () {
            return self.playOnce(src, call, repeat, item.fetched, error);
          }).then(function (ok) {
            if (ok && repeat < repeats) return delay(GAP_REPEAT_MS);
            if (!ok) throw new Error("stop");
          });
        })(i);
      }
      return chain.catch(function () {}).then(function () {
        if (own) URL.revokeObjectURL(src);
      });
    }, function (e) {
      self.played.push({ event_id: call.event_id, number: call.number, text: call.text, url: call.url,
                         repeat: 0, fetched: null, started: null, ended: performance.now(),
                         error: "no_audio: " + (e && e.message) });
    });
  };

  /** Play src once; resolves true when it ended, false when it could not play. */
  Player.prototype.playOnce = function (src, call, repeat, fetched, error) {
    var self = this;
    var audio = this.audio;
    var record = { event_id: call.event_id, number: call.number, text: call.text, url: call.url, repeat: repeat,
                   fetched: fetched, started: performance.now(), ended: null, error: error };
    this.onPlaying(call);
    return new Promise(function (resolve) {
      var timer = null;
      function finish(ok, why) {
        audio.onended = audio.onerror = null;
        if (timer) clearTimeout(timer);
        record.ended = performance.now();
        if (why) record.error = why;
        self.played.push(record);
        resolve(ok);
      }
      audio.onended = function () { finish(true); };
      audio.onerror = function () { finish(false, "media_error"); };
      timer = setTimeout(function () { audio.pause(); finish(true, "timeout"); }, MAX_PLAY_MS);
      audio.src = src;
      var started = audio.play();
      if (started && started.catch) {
        started.catch(function (e) {
          if (e && e.name === "NotAllowedError") {
            self.onBlocked(true);
            finish(false, "autoplay_blocked");
          } else if (e && e.name !== "AbortError") {
            finish(false, "play_failed: " + e.name);
          }
        });
      }
    });
  };

  /** After a tap on the "enable sound" button. */
  Player.prototype.unlock = function () {
    // The tap itself gives the page its user activation; later plays are allowed.
    this.onBlocked(false);
  };

  window.AntrePlayer = Player;
  window.AntrePlayer.sameOrigin = sameOrigin;
})();
