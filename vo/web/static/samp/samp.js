/*
 * vo-suite SAMP Web Profile client (plain JavaScript, no build step).
 *
 * Lets a service web page send its results (a VOTable URL, an image URL, a sky
 * position) to desktop tools such as TOPCAT and Aladin through the hub's Web
 * Profile (SAMP 1.3 sec. 5): XML-RPC over HTTP POST to http://localhost:21012/,
 * methods "samp.webhub.*". The hub asks the user to accept the page (or
 * auto-accepts, e.g. JSAMP's "-web:auth true"). Message types follow the IVOA
 * SAMP MTypes list (table.load.votable, image.load.fits, coord.pointAt.sky, ...).
 *
 * Usage:
 *   const conn = await VoSamp.register("vo-suite web page");
 *   await conn.sendTable(absoluteVotableUrl, {name: "result"});   // to every subscriber
 *   const reply = await conn.sendTable(url, {to: "topcat", wait: true});
 *   await conn.unregister();
 *
 * Or, without code: <button data-samp-table="/tap/async/42/results/result"
 * data-samp-name="my query" data-samp-to="topcat">Send to TOPCAT</button> and
 * VoSamp.wireButtons() once the page has loaded.
 *
 * Errors are thrown as VoSamp.SampError with a code (SAMP-NO-HUB,
 * SAMP-UNKNOWN-CLIENT, SAMP-NOT-SUBSCRIBED, SAMP-HUB-ERROR, SAMP-CALL-FAILED)
 * and a message a person can act on.
 */
(function (global) {
  "use strict";

  var HUB_URL = "http://localhost:21012/"; // SAMP 1.3 sec. 5.2: fixed Web Profile port
  var PREFIX = "samp.webhub.";

  function SampError(code, message) {
    this.name = "SampError";
    this.code = code;
    this.message = code + ": " + message;
  }
  SampError.prototype = Object.create(Error.prototype);
  SampError.prototype.constructor = SampError;

  // --- XML-RPC encoding (SAMP 1.3 sec. 4.2: strings, lists and maps only) ----
  function escapeXml(text) {
    return String(text)
      .replace(/&/g, "&amp;")
      .replace(/</g, "&lt;")
      .replace(/>/g, "&gt;");
  }

  function encodeValue(v) {
    if (Array.isArray(v)) {
      return "<value><array><data>" + v.map(encodeValue).join("") + "</data></array></value>";
    }
    if (v !== null && typeof v === "object") {
      var members = Object.keys(v).map(function (k) {
        return "<member><name>" + escapeXml(k) + "</name>" + encodeValue(v[k]) + "</member>";
      });
      return "<value><struct>" + members.join("") + "</struct></value>";
    }
    // SAMP has no numbers or booleans: everything scalar is a string
    return "<value><string>" + escapeXml(v === null || v === undefined ? "" : v) + "</string></value>";
  }

  function encodeCall(method, params) {
    return '<?xml version="1.0"?><methodCall><methodName>' + escapeXml(method) +
      "</methodName><params>" +
      params.map(function (p) { return "<param>" + encodeValue(p) + "</param>"; }).join("") +
      "</params></methodCall>";
  }

  function childElements(node) {
    var out = [];
    for (var c = node.firstChild; c; c = c.nextSibling) {
      if (c.nodeType === 1) out.push(c);
    }
    return out;
  }

  function decodeValue(valueNode) {
    var typed = childElements(valueNode)[0];
    if (!typed) return valueNode.textContent; // untyped <value> is a string
    switch (typed.nodeName) {
      case "array":
        var data = childElements(typed)[0];
        return data ? childElements(data).map(decodeValue) : [];
      case "struct":
        var obj = {};
        childElements(typed).forEach(function (member) {
          var name = null, value = null;
          childElements(member).forEach(function (part) {
            if (part.nodeName === "name") name = part.textContent;
            else if (part.nodeName === "value") value = decodeValue(part);
          });
          if (name !== null) obj[name] = value;
        });
        return obj;
      case "nil":
        return null;
      default: // string, int, i4, double, boolean, dateTime.iso8601, base64
        return typed.textContent;
    }
  }

  function decodeResponse(text) {
    var doc = new DOMParser().parseFromString(text, "text/xml");
    var fault = doc.getElementsByTagName("fault")[0];
    if (fault) {
      var f = decodeValue(childElements(fault)[0]);
      throw new SampError("SAMP-HUB-ERROR", "the hub refused the request: " + (f.faultString || text));
    }
    var value = doc.querySelector("methodResponse > params > param > value");
    if (!value) throw new SampError("SAMP-HUB-ERROR", "the hub sent an unreadable answer");
    return decodeValue(value);
  }

  function rpc(method, params) {
    return fetch(HUB_URL, {
      method: "POST",
      headers: { "Content-Type": "text/xml" },
      body: encodeCall(PREFIX + method, params || []),
    }).then(function (resp) {
      if (!resp.ok) throw new SampError("SAMP-HUB-ERROR", "hub answered HTTP " + resp.status);
      return resp.text();
    }, function () {
      throw new SampError("SAMP-NO-HUB",
        "no SAMP hub with the Web Profile: start TOPCAT (or Aladin) or run `vo samp hub --web`");
    }).then(decodeResponse);
  }

  // --- message builders (SAMP MTypes page) -----------------------------------
  function message(mtype, params) {
    var p = {};
    Object.keys(params || {}).forEach(function (k) {
      if (params[k] !== undefined && params[k] !== null) p[k] = params[k];
    });
    return { "samp.mtype": mtype, "samp.params": p };
  }

  function uniqueId(prefix) {
    return prefix + "-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 10);
  }

  function absolute(url) {
    return new URL(url, global.location ? global.location.href : undefined).href;
  }

  // --- a registration with the hub ----------------------------------------------
  function Connection(reg) {
    this.privateKey = reg["samp.private-key"];
    this.selfId = reg["samp.self-id"];
    this.hubId = reg["samp.hub-id"];
  }

  Connection.prototype.call = function (method) {
    var args = Array.prototype.slice.call(arguments, 1);
    return rpc(method, [this.privateKey].concat(args));
  };

  /** Every other client as [{id, name, subscriptions}] */
  Connection.prototype.clients = function () {
    var self = this;
    return self.call("getRegisteredClients").then(function (ids) {
      return Promise.all(ids.map(function (id) {
        return Promise.all([self.call("getMetadata", id), self.call("getSubscriptions", id)])
          .then(function (r) {
            return { id: id, name: (r[0] || {})["samp.name"] || "", subscriptions: Object.keys(r[1] || {}) };
          });
      }));
    });
  };

  /** Resolve `to` (client id or samp.name, case-insensitive) to the ids to message. */
  Connection.prototype.targets = function (mtype, to) {
    var self = this;
    return Promise.all([self.clients(), self.call("getSubscribedClients", mtype)]).then(function (r) {
      var all = r[0], subscribed = Object.keys(r[1] || {});
      if (to === undefined || to === null) {
        if (!subscribed.length) {
          throw new SampError("SAMP-NOT-SUBSCRIBED", "no registered SAMP client accepts " + mtype +
            "; start a tool that does (TOPCAT for tables, Aladin for images)");
        }
        return subscribed;
      }
      var match = all.filter(function (c) { return c.id === to; });
      if (!match.length) match = all.filter(function (c) { return c.name.toLowerCase() === String(to).toLowerCase(); });
      if (match.length !== 1) {
        throw new SampError("SAMP-UNKNOWN-CLIENT", "no single SAMP client " + JSON.stringify(to) +
          " is registered; registered: " + all.map(function (c) { return c.name + " (" + c.id + ")"; }).join(", "));
      }
      if (subscribed.indexOf(match[0].id) < 0) {
        throw new SampError("SAMP-NOT-SUBSCRIBED", match[0].name + " does not accept " + mtype);
      }
      return [match[0].id];
    });
  };

  /**
   * Send a message to `opts.to` (id or name) or to every subscriber.
   * opts.wait: call each recipient and resolve with their replies
   * [{id, status, result, error}] (timeout opts.timeout s, default 30);
   * otherwise notify and resolve with the recipients' ids.
   */
  Connection.prototype.send = function (msg, opts) {
    var self = this;
    opts = opts || {};
    return self.targets(msg["samp.mtype"], opts.to).then(function (ids) {
      if (!opts.wait) {
        return Promise.all(ids.map(function (id) { return self.call("notify", id, msg); }))
          .then(function () { return ids; });
      }
      var timeout = String(opts.timeout || 30);
      return Promise.all(ids.map(function (id) {
        return self.call("callAndWait", id, msg, timeout).then(function (resp) {
          var err = resp["samp.error"] || {};
          return { id: id, status: resp["samp.status"], result: resp["samp.result"] || {},
                   error: err["samp.errortxt"] || "" };
        });
      })).then(function (replies) {
        var bad = replies.filter(function (r) { return r.status === "samp.error"; });
        if (opts.to && bad.length) {
          throw new SampError("SAMP-CALL-FAILED", bad[0].id + " answered samp.error: " + bad[0].error);
        }
        return replies;
      });
    });
  };

  /** table.load.votable of `url` (made absolute); opts: name, tableId, to, wait. */
  Connection.prototype.sendTable = function (url, opts) {
    opts = opts || {};
    var msg = message("table.load.votable", {
      url: absolute(url), "table-id": opts.tableId || uniqueId("vo-web"), name: opts.name,
    });
    return this.send(msg, opts).then(function (r) { return { tableId: msg["samp.params"]["table-id"], replies: r }; });
  };

  /** image.load.fits of `url`; opts: name, imageId, to, wait. */
  Connection.prototype.sendImage = function (url, opts) {
    opts = opts || {};
    var msg = message("image.load.fits", {
      url: absolute(url), "image-id": opts.imageId || uniqueId("vo-web"), name: opts.name,
    });
    return this.send(msg, opts);
  };

  /** coord.pointAt.sky: ICRS degrees */
  Connection.prototype.pointAt = function (ra, dec, opts) {
    return this.send(message("coord.pointAt.sky", { ra: String(ra), dec: String(dec) }), opts);
  };

  Connection.prototype.unregister = function () {
    return this.call("unregister");
  };

  /** Register with the hub's Web Profile; resolves to a Connection. */
  function register(name, metadata) {
    return rpc("register", [{ "samp.name": name }]).then(function (reg) {
      var conn = new Connection(reg);
      var meta = Object.assign({ "samp.name": name }, metadata || {});
      return conn.call("declareMetadata", meta).then(function () { return conn; });
    });
  }

  /** Resolves true if a Web Profile hub answers, false otherwise. */
  function hubRunning() {
    return rpc("ping", []).then(function () { return true; }, function () { return false; });
  }

  // --- buttons on service pages --------------------------------------------------
  var shared = null; // one registration per page, made on the first click

  function connection(name) {
    if (!shared) {
      shared = register(name || document.title || "vo-suite web page");
      shared.catch(function () { shared = null; }); // retry on the next click
      global.addEventListener("pagehide", function () {
        if (shared) shared.then(function (c) { c.unregister(); }, function () {});
      });
    }
    return shared;
  }

  /**
   * Make every element with data-samp-table="URL" or data-samp-image="URL" below
   * `root` (default: document) send that URL when clicked; optional data-samp-name,
   * data-samp-to (client id or name; default: every subscriber). The outcome is
   * written to the element's data-samp-status ("sent", "ok", or the error message)
   * and dispatched as a "samp-sent" / "samp-error" event.
   */
  function wireButtons(root, clientName) {
    var nodes = (root || document).querySelectorAll("[data-samp-table], [data-samp-image]");
    Array.prototype.forEach.call(nodes, function (el) {
      el.addEventListener("click", function (event) {
        event.preventDefault();
        var table = el.getAttribute("data-samp-table");
        var opts = { name: el.getAttribute("data-samp-name") || undefined,
                     to: el.getAttribute("data-samp-to") || undefined,
                     wait: !!el.getAttribute("data-samp-to") };
        el.setAttribute("data-samp-status", "sending");
        connection(clientName).then(function (conn) {
          return table ? conn.sendTable(table, opts)
                       : conn.sendImage(el.getAttribute("data-samp-image"), opts);
        }).then(function (result) {
          el.setAttribute("data-samp-status", opts.wait ? "ok" : "sent");
          el.dispatchEvent(new CustomEvent("samp-sent", { detail: result, bubbles: true }));
        }, function (err) {
          el.setAttribute("data-samp-status", err.message || String(err));
          el.dispatchEvent(new CustomEvent("samp-error", { detail: err, bubbles: true }));
        });
      });
    });
  }

  global.VoSamp = {
    wireButtons: wireButtons,
    HUB_URL: HUB_URL,
    SampError: SampError,
    Connection: Connection,
    register: register,
    hubRunning: hubRunning,
    message: message,
    encodeCall: encodeCall,
    decodeResponse: decodeResponse,
  };
})(typeof window !== "undefined" ? window : this);
