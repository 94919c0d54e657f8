// The kiosk page: renders the states of /display/events and clears a
// decision (and the holder's name and portrait) on its own timer too.
"use strict";
(function () {
  const titles = {
    connecting: ["Connecting…", "接続中…"],
    ready: ["Hold your phone to the reader", "スマートフォンをかざしてください"],
    reading: ["Reading… keep your phone still", "読み取り中… そのままお待ちください"],
    accept: ["Accepted", "確認できました"],
    reject: ["Not accepted", "確認できませんでした"],
    down: ["Reader unavailable", "リーダーが使用できません"],
  };
  const $ = (id) => document.getElementById(id);
  let idleState = "ready";
  let clearTimer = null;

  function clearPerson() {
    const img = $("portrait");
    img.removeAttribute("src");
    $("name").textContent = "";
    $("person").hidden = true;
  }

  function render(st) {
    if (clearTimer !== null) {
      clearTimeout(clearTimer);
      clearTimer = null;
    }
    const state = titles[st.state] ? st.state : "reject";
    if (state === "ready" || state === "down") {
      idleState = state;
    }
    document.body.dataset.state = state;
    $("title-en").textContent = titles[state][0];
    $("title-ja").textContent = titles[state][1];
    const list = $("reasons");
    list.replaceChildren();
    for (const m of st.messages || []) {
      const li = document.createElement("li");
      const en = document.createElement("span");
      en.textContent = m.en;
      const ja = document.createElement("span");
      ja.className = "ja";
      ja.lang = "ja";
      ja.textContent = m.ja;
      li.append(en, ja);
      list.append(li);
    }
    clearPerson();
    if (st.name || st.portrait) {
      if (st.portrait && st.portrait.startsWith("data:image/")) {
        $("portrait").src = st.portrait;
      }
      $("name").textContent = st.name || "";
      $("person").hidden = false;
    }
    if ((state === "accept" || state === "reject") && st.clearAfterMs > 0) {
      // The server sends the idle state after clearAfterMs; this is the
      // backstop should that message be lost.
      clearTimer = setTimeout(() => render({ state: idleState }), st.clearAfterMs + 500);
    }
  }

  function connect() {
    const es = new EventSource("/display/events");
    es.onopen = () => { $("offline").hidden = true; };
    es.onmessage = (e) => {
      try {
        render(JSON.parse(e.data));
      } catch (err) {
        console.error("display: bad message", err);
      }
    };
    es.onerror = () => {
      // Nothing personal stays on screen while disconnected.
      $("offline").hidden = false;
      if (document.body.dataset.state !== "reading") {
        clearPerson();
      }
    };
  }
  connect();
})();
