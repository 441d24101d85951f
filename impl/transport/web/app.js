// The roomchat web client. It opens a WebSocket at /chat on the host that
// served the page and exchanges one protocol line per text message
// (PROTOCOL.md 2.1, TRANS-5). Every text from the server is put in the
// page as text (textContent), never as HTML.
//
// Before the name it asks, with CAPS rooms, to be in several rooms at once
// (PROTOCOL.md 13.4). A server that offers rooms answers OK Enabled rooms:
// then JOIN adds a room, the page shows one room at a time, with its own
// messages, and every MSG, LEAVE and USERS names the room shown (D-17);
// the rooms not shown count their unread messages. Any other server
// answers with an ERROR (Unknown extension, or Username required from a
// core server), and the page is in one room at a time, a JOIN leaving it.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);

  const state = {
    me: "",          // our name, once welcomed
    multi: false,    // the server enabled rooms: several rooms at once
    capsPending: false, // CAPS rooms sent, its answer not yet come
    current: "",     // the room shown (and, without rooms, the one we are in), or ""
    rooms: [],       // the rooms we are in, in the order joined: {name, members, rosterLeft, unread}
    pendingUsers: [], // the rooms of the USERS sent, awaiting their USERLIST
    pendingPM: [],   // private messages sent, awaiting OK Sent or an ERROR
    roomList: null,  // the rooms of the last ROOMLIST
    open: false,
  };

  // logs holds the message list of each room we are in, by folded name;
  // "" is the list of no room, before the first JOIN and after the last
  // LEAVE. Only the list of the room shown is visible.
  const logs = new Map();

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

  // fold compares names as NAME-3 does: ASCII letters without case.
  function fold(name) {
    return name.replace(/[A-Z]/g, (c) => c.toLowerCase());
  }

  function findRoom(name) {
    return state.rooms.find((r) => fold(r.name) === fold(name));
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

  // logOf returns the message list of a room ("": of no room), making it
  // if there is none.
  function logOf(room) {
    const key = fold(room);
    let log = logs.get(key);
    if (!log) {
      log = el("ol", "log");
      log.setAttribute("aria-live", "polite");
      log.hidden = key !== fold(state.current);
      $("messages").appendChild(log);
      logs.set(key, log);
    }
    return log;
  }

  function append(log, li) {
    const atEnd = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
    log.appendChild(li);
    if (atEnd) log.scrollTop = log.scrollHeight;
  }

  // addLine adds a line to the list of the room shown.
  function addLine(cls, ...parts) {
    append(logOf(state.current), el("li", cls, ...parts));
  }

  // addRoomLine adds a line that belongs to room: to its list if we are in
  // it, else to the list shown. A message (counts) in a room not shown is
  // unread.
  function addRoomLine(room, counts, cls, ...parts) {
    const r = findRoom(room);
    if (!r || fold(room) === fold(state.current)) {
      addLine(cls, ...parts);
      return;
    }
    append(logOf(r.name), el("li", cls, ...parts));
    if (counts) {
      r.unread++;
      renderMyRooms();
    }
  }

  function note(text) { addLine("note", text); }

  function showError(text) {
    $("error").textContent = text;
    addLine("error", el("span", "who", "error"), text);
  }

  // show makes room ("" for none) the room shown. With rooms, its list
  // replaces the one shown and its messages are read; the list of no room
  // goes on as the list of the first room joined, and the list of the last
  // room left as that of no room. Without rooms, there is one list.
  function show(room) {
    const before = state.current;
    if (fold(before) !== fold(room)) {
      if (!state.multi || before === "" || room === "") {
        const log = logOf(before);
        logs.delete(fold(before));
        logs.set(fold(room), log);
      } else {
        logOf(before).hidden = true;
        logOf(room).hidden = false;
      }
    }
    state.current = room;
    const r = findRoom(room);
    if (r) r.unread = 0;
    // Lists of rooms we left go.
    for (const [key, log] of logs) {
      if (key !== fold(room) && !findRoom(key)) {
        log.remove();
        logs.delete(key);
      }
    }
    renderMembers();
    renderMyRooms();
    renderRooms(state.roomList);
  }

  function renderMembers() {
    const ul = $("members");
    ul.replaceChildren();
    const r = findRoom(state.current);
    for (const m of r ? r.members : []) {
      ul.appendChild(el("li", m === state.me ? "self" : "", m));
    }
    $("room-title").textContent = state.current || "No room";
    $("leave").disabled = !state.current;
    $("leave").textContent = state.multi && state.current ? "Leave " + state.current : "Leave room";
    $("users-refresh").disabled = !state.current;
  }

  // renderMyRooms lists the rooms we are in, with rooms: the one shown
  // marked, the others with their unread messages; a click shows one.
  function renderMyRooms() {
    $("my-rooms-box").hidden = !state.multi;
    const ul = $("my-rooms");
    ul.replaceChildren();
    if (state.rooms.length === 0) ul.appendChild(el("li", "empty", "none yet: join one"));
    for (const r of state.rooms) {
      const current = fold(r.name) === fold(state.current);
      const b = el("button", current ? "room current" : "room", r.name);
      b.type = "button";
      b.dataset.room = r.name;
      if (current) b.setAttribute("aria-current", "true");
      if (!current && r.unread > 0) {
        const badge = el("span", "unread", String(r.unread));
        badge.title = r.unread === 1 ? "1 unread message" : r.unread + " unread messages";
        b.appendChild(badge);
      }
      b.addEventListener("click", () => show(r.name));
      ul.appendChild(el("li", "", b));
    }
  }

  // renderRooms lists every room of the last ROOMLIST; a click joins one,
  // or shows it if we are in it.
  function renderRooms(rooms) {
    if (!rooms) return;
    const ul = $("rooms");
    ul.replaceChildren();
    if (rooms.length === 0) ul.appendChild(el("li", "empty", "no rooms yet"));
    for (const r of rooms) {
      const b = el("button", fold(r) === fold(state.current) ? "room current" : "room", r);
      b.type = "button";
      b.addEventListener("click", () => join(r));
      ul.appendChild(el("li", "", b));
    }
  }

  // join joins a room; with rooms, one we are in already is shown.
  function join(room) {
    if (state.multi && findRoom(room)) {
      show(findRoom(room).name);
      return true;
    }
    return send("JOIN " + room);
  }

  // named returns the room a MSG, LEAVE or USERS names: with rooms, the
  // room shown; without, none.
  function named() {
    return state.multi ? " " + state.current : "";
  }

  // split splits line after n space-separated words: [w1, ..., wn, rest].
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
    show("");
    send("ROOMS");
  }

  function onJoined(room, others) {
    const r = { name: room, members: [state.me], rosterLeft: others, unread: 0 };
    if (state.multi) {
      state.rooms = state.rooms.filter((x) => fold(x.name) !== fold(room));
      state.rooms.push(r);
    } else {
      state.rooms = [r]; // JOIN-3: the room we were in is left
    }
    show(room);
    addLine("divider", "You joined " + room);
    send("ROOMS");
    $("msg").focus();
  }

  // onLeft follows OK Left: the room joined before it is shown, or the
  // next one.
  function onLeft(room) {
    const i = state.rooms.findIndex((r) => fold(r.name) === fold(room));
    if (i >= 0) state.rooms.splice(i, 1);
    if (!state.multi) state.rooms = [];
    let next = state.current;
    if (fold(room) === fold(state.current) || !state.multi) {
      next = state.rooms.length === 0 ? "" : state.rooms[Math.max(i - 1, 0)].name;
    }
    show(next);
    note("You left " + room);
    send("ROOMS");
  }

  // capsAnswer handles the answer to CAPS rooms, and reports whether line
  // is one. The ERROR lines a server sends on its own answer nothing.
  function capsAnswer(line) {
    if (!state.capsPending) return false;
    if (line.startsWith("OK Enabled ")) {
      state.multi = line.split(" ").slice(2).includes("rooms");
    } else if (line === "ERROR Unknown extension" || line === "ERROR Username required") {
      state.multi = false;
    } else {
      return false;
    }
    state.capsPending = false;
    return true;
  }

  function onLine(line) {
    let m;
    if (capsAnswer(line)) {
      // nothing to show
    } else if ((m = /^OK Welcome, (.*)!$/.exec(line))) {
      onWelcome(m[1]);
    } else if ((m = /^OK Joined (\S+) \((\d+) users\)$/.exec(line))) {
      onJoined(m[1], Number(m[2]));
    } else if ((m = /^OK Left (\S+)$/.exec(line))) {
      onLeft(m[1]);
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
      addRoomLine(m[1], m[2] !== state.me, m[2] === state.me ? "msg self" : "msg", el("span", "who", m[2]), m[3]);
    } else if ((m = split(line, 2)) && m[0] === "PRIVMSG") {
      addLine("priv in", el("span", "who", "from " + m[1]), m[2]);
    } else if ((m = /^JOIN (\S+) (\S+)$/.exec(line))) {
      const r = findRoom(m[1]);
      if (r && r.rosterLeft > 0) {
        r.rosterLeft--;
        r.members.splice(r.members.length - 1, 0, m[2]);
      } else {
        if (r) r.members.push(m[2]);
        addRoomLine(m[1], false, "note", m[2] + " joined " + m[1]);
      }
      renderMembers();
    } else if ((m = /^LEAVE (\S+) (\S+)$/.exec(line))) {
      const r = findRoom(m[1]);
      if (r) r.members = r.members.filter((u) => u !== m[2]);
      addRoomLine(m[1], false, "note", m[2] + " left " + m[1]);
      renderMembers();
    } else if (line === "USERLIST" || line.startsWith("USERLIST ")) {
      const r = findRoom(state.pendingUsers.shift() || state.current);
      if (r) r.members = line.split(" ").slice(1);
      renderMembers();
    } else if (line === "ROOMLIST" || line.startsWith("ROOMLIST ")) {
      state.roomList = line.split(" ").slice(1);
      renderRooms(state.roomList);
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
    // Answered before the USERNAME sent after it (ORDER-2).
    state.capsPending = send("CAPS rooms");
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
    if (r && join(r)) $("room").value = "";
  });
  onSubmit("msg-form", () => {
    const text = $("msg").value;
    $("error").textContent = "";
    if (state.multi && !state.current) {
      showError("Join a room first");
      return;
    }
    if (text && send("MSG" + named() + " " + text)) $("msg").value = "";
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
  $("users-refresh").addEventListener("click", () => {
    if (send("USERS" + named()) && state.multi) state.pendingUsers.push(state.current);
  });
  $("leave").addEventListener("click", () => send("LEAVE" + named()));
})();
