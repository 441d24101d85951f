// The roomchat web client. It opens a WebSocket at /chat on the host that
// served the page and exchanges one protocol line per text message
// (PROTOCOL.md 2.1, TRANS-5). Every text from the server is put in the
// page as text (textContent), never as HTML.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);

  const state = {
    me: "",          // our name, once welcomed
    room: "",        // the room we are in, or ""
    members: [],     // its members, in the order they joined
    rosterLeft: 0,   // JOIN lines still to come as the roster after OK Joined
    pendingPM: [],   // private messages sent, awaiting OK Sent or an ERROR
    open: false,
  };

  const scheme = location.protocol === "https:" ? "wss://" : "ws://";
  const ws = new WebSocket(scheme + location.host + "/chat");

  function send(line) {
    if (!state.open) {
      showError("Not connected");
      return false;
    }
    ws.send(line);
    return true;
  }

  // el makes an element with a class and text children.
  function el(tag, cls, ...texts) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    for (const t of texts) {
      e.appendChild(typeof t === "string" ? document.createTextNode(t) : t);
    }
    return e;
  }

  function addLine(cls, ...parts) {
    const list = $("messages");
    const atEnd = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    list.appendChild(el("li", cls, ...parts));
    if (atEnd) list.scrollTop = list.scrollHeight;
  }

  function note(text) { addLine("note", text); }

  function showError(text) {
    $("error").textContent = text;
    addLine("error", el("span", "who", "error"), text);
  }

  function renderMembers() {
    const ul = $("members");
    ul.replaceChildren();
    for (const m of state.members) {
      ul.appendChild(el("li", m === state.me ? "self" : "", m));
    }
    $("room-title").textContent = state.room || "No room";
    $("leave").disabled = !state.room;
    $("users-refresh").disabled = !state.room;
  }

  function renderRooms(rooms) {
    const ul = $("rooms");
    ul.replaceChildren();
    if (rooms.length === 0) ul.appendChild(el("li", "empty", "no rooms yet"));
    for (const r of rooms) {
      const b = el("button", r.toLowerCase() === state.room.toLowerCase() ? "room current" : "room", r);
      b.type = "button";
      b.addEventListener("click", () => send("JOIN " + r));
      ul.appendChild(el("li", "", b));
    }
  }

  // rest splits line after n space-separated words: [w1, ..., wn, rest].
  function split(line, n) {
    const out = [];
    let s = line;
    for (let i = 0; i < n; i++) {
      const sp = s.indexOf(" ");
      if (sp < 0) return null;
      out.push(s.slice(0, sp));
      s = s.slice(sp + 1);
    }
    out.push(s);
    return out;
  }

  function onWelcome(name) {
    state.me = name;
    $("me").textContent = name;
    $("login").hidden = true;
    $("chat").hidden = false;
    $("room").focus();
    renderMembers();
    send("ROOMS");
  }

  function onLine(line) {
    let m;
    if ((m = /^OK Welcome, (.*)!$/.exec(line))) {
      onWelcome(m[1]);
    } else if ((m = /^OK Joined (\S+) \((\d+) users\)$/.exec(line))) {
      state.room = m[1];
      state.members = [state.me];
      state.rosterLeft = Number(m[2]);
      addLine("divider", "You joined " + m[1]);
      renderMembers();
      send("ROOMS");
      $("msg").focus();
    } else if ((m = /^OK Left (\S+)$/.exec(line))) {
      note("You left " + m[1]);
      state.room = "";
      state.members = [];
      renderMembers();
      send("ROOMS");
    } else if (line === "OK Sent") {
      const pm = state.pendingPM.shift();
      if (pm) addLine("priv out", el("span", "who", "to " + pm.to), pm.text);
    } else if (line.startsWith("OK")) {
      note(line.slice(3));
    } else if (line.startsWith("ERROR ")) {
      const text = line.slice(6);
      if (!state.me) {
        $("name-error").textContent = text;
      } else {
        if (text === "User not found" && state.pendingPM.length) {
          const pm = state.pendingPM.shift();
          showError("User not found: " + pm.to);
          return;
        }
        showError(text);
      }
    } else if ((m = split(line, 3)) && m[0] === "ROOM") {
      addLine(m[2] === state.me ? "msg self" : "msg", el("span", "who", m[2]), m[3]);
    } else if ((m = split(line, 2)) && m[0] === "PRIVMSG") {
      addLine("priv in", el("span", "who", "from " + m[1]), m[2]);
    } else if ((m = /^JOIN (\S+) (\S+)$/.exec(line))) {
      if (state.rosterLeft > 0) {
        state.rosterLeft--;
        state.members.splice(state.members.length - 1, 0, m[2]);
      } else {
        state.members.push(m[2]);
        note(m[2] + " joined " + m[1]);
      }
      renderMembers();
    } else if ((m = /^LEAVE (\S+) (\S+)$/.exec(line))) {
      state.members = state.members.filter((u) => u !== m[2]);
      note(m[2] + " left " + m[1]);
      renderMembers();
    } else if (line === "USERLIST" || line.startsWith("USERLIST ")) {
      state.members = line.split(" ").slice(1);
      renderMembers();
    } else if (line === "ROOMLIST" || line.startsWith("ROOMLIST ")) {
      renderRooms(line.split(" ").slice(1));
    } else if (line === "PONG" || line.startsWith("PONG ")) {
      // the answer to our keepalive
    } else {
      note(line);
    }
  }

  function setStatus(text, cls) {
    $("status").textContent = text;
    $("status").className = "status " + cls;
  }

  ws.addEventListener("open", () => {
    state.open = true;
    setStatus("connected", "ok");
  });
  ws.addEventListener("message", (ev) => {
    if (typeof ev.data === "string") onLine(ev.data);
  });
  ws.addEventListener("close", () => {
    state.open = false;
    setStatus("disconnected: reload the page to connect again", "bad");
    $("name-go").disabled = true;
  });

  // A line every two minutes keeps an open page under the idle timeout.
  setInterval(() => { if (state.open && state.me) ws.send("PING"); }, 120000);

  function onSubmit(id, fn) {
    $(id).addEventListener("submit", (ev) => {
      ev.preventDefault();
      fn();
    });
  }

  onSubmit("name-form", () => {
    $("name-error").textContent = "";
    send("USERNAME " + $("name").value.trim());
  });
  onSubmit("join-form", () => {
    let r = $("room").value.trim();
    if (r && !r.startsWith("#")) r = "#" + r;
    if (r && send("JOIN " + r)) $("room").value = "";
  });
  onSubmit("msg-form", () => {
    const text = $("msg").value;
    $("error").textContent = "";
    if (text && send("MSG " + text)) $("msg").value = "";
  });
  onSubmit("pm-form", () => {
    const to = $("pm-to").value.trim();
    const text = $("pm-text").value;
    $("error").textContent = "";
    if (to && text && send("PRIVMSG " + to + " " + text)) {
      state.pendingPM.push({ to, text });
      $("pm-text").value = "";
    }
  });
  $("rooms-refresh").addEventListener("click", () => send("ROOMS"));
  $("users-refresh").addEventListener("click", () => send("USERS"));
  $("leave").addEventListener("click", () => send("LEAVE"));
})();
