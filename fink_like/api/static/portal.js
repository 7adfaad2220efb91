// The portal's only script: sortable tables, the magnitude/flux toggle, the token box, annotations.
"use strict";

function sortTable(th) {
  const table = th.closest("table"), body = table.tBodies[0], col = +th.dataset.col;
  const asc = !th.classList.contains("asc");
  table.querySelectorAll("th").forEach((h) => h.classList.remove("asc", "desc"));
  th.classList.add(asc ? "asc" : "desc");
  const key = (row) => row.cells[col].dataset.v;
  const rows = Array.from(body.rows).sort((a, b) => {
    const x = key(a), y = key(b), nx = parseFloat(x), ny = parseFloat(y);
    const cmp = !isNaN(nx) && !isNaN(ny) ? nx - ny : x.localeCompare(y);
    return asc ? cmp : -cmp;
  });
  rows.forEach((r) => body.appendChild(r));
}

function token() {
  const m = document.cookie.match(/(?:^|; )fink_token=([^;]*)/);
  return m ? decodeURIComponent(m[1]) : "";
}

function showTokenState() {
  const state = document.getElementById("token-state");
  if (state) state.textContent = token() ? "token set" : "";
}

async function annotate(form) {
  const state = document.getElementById("annotate-state");
  const data = new FormData(form);
  const headers = { "Content-Type": "application/json" };
  if (token()) headers.Authorization = "Bearer " + token();
  const url = "/objects/" + encodeURIComponent(form.dataset.object) + "/labels";
  const reply = await fetch(url, {
    method: "POST", headers,
    body: JSON.stringify({ label: data.get("label"), comment: data.get("comment") || "" }),
  });
  const body = await reply.json();
  if (!reply.ok) { state.textContent = "refused (" + reply.status + "): " + body.detail; state.className = "error"; return; }
  state.textContent = "saved";
  state.className = "";
  const row = document.createElement("tr");
  for (const value of [body.time, body.user, body.label, body.comment]) {
    const cell = row.insertCell(); cell.textContent = value; cell.dataset.v = value;
  }
  document.querySelector("#label-history tbody").appendChild(row);
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("table.sortable th").forEach((th) => th.addEventListener("click", () => sortTable(th)));
  document.querySelectorAll(".toggle button").forEach((button) => button.addEventListener("click", () => {
    document.querySelectorAll(".lc").forEach((div) => { div.hidden = div.id !== button.dataset.show; });
    document.querySelectorAll(".toggle button").forEach((b) => b.classList.toggle("on", b === button));
  }));
  const save = document.getElementById("token-save");
  if (save) save.addEventListener("click", () => {
    const value = document.getElementById("token-box").value.trim();
    document.cookie = "fink_token=" + encodeURIComponent(value) + "; path=/; SameSite=Strict" + (value ? "" : "; max-age=0");
    showTokenState();
  });
  showTokenState();
  const form = document.getElementById("annotate");
  if (form) form.addEventListener("submit", (event) => { event.preventDefault(); annotate(form); });
});
