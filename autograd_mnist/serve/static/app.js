// The page of `autograd-mnist serve`: draw on the pad, and after each stroke the drawing
// (the canvas's alpha channel, 0-255) is sent to /api/predict. No framework, no build step.
"use strict";

const pad = document.getElementById("pad");
const ctx = pad.getContext("2d", { willReadFrequently: true });
const statusLine = document.getElementById("status");
const guess = document.getElementById("guess");
const truth = document.getElementById("truth");
const testButton = document.getElementById("test");
let classes = [...Array(10).keys()].map(String);
let drawing = false;
let last = null;
let sent = 0; // requests sent: only the latest answer is shown

ctx.lineWidth = 18;
ctx.lineCap = "round";
ctx.lineJoin = "round";
ctx.strokeStyle = "#000";
ctx.fillStyle = "#000";

function point(event) {
  const box = pad.getBoundingClientRect();
  return [(event.clientX - box.left) * pad.width / box.width,
          (event.clientY - box.top) * pad.height / box.height];
}

pad.addEventListener("pointerdown", (event) => {
  event.preventDefault();
  pad.setPointerCapture(event.pointerId);
  drawing = true;
  last = point(event);
  truth.textContent = "";
  ctx.beginPath();
  ctx.arc(last[0], last[1], ctx.lineWidth / 2, 0, 2 * Math.PI);
  ctx.fill();
});

pad.addEventListener("pointermove", (event) => {
  if (!drawing) return;
  const p = point(event);
  ctx.beginPath();
  ctx.moveTo(last[0], last[1]);
  ctx.lineTo(p[0], p[1]);
  ctx.stroke();
  last = p;
});

for (const kind of ["pointerup", "pointercancel"]) {
  pad.addEventListener(kind, () => {
    if (!drawing) return;
    drawing = false;
    send();
  });
}

function drawingRows() {
  const rgba = ctx.getImageData(0, 0, pad.width, pad.height).data;
  const rows = [];
  for (let y = 0; y < pad.height; y++) {
    const row = new Array(pad.width);
    for (let x = 0; x < pad.width; x++) row[x] = rgba[(y * pad.width + x) * 4 + 3];
    rows.push(row);
  }
  return rows;
}

async function call(url, options) {
  const response = await fetch(url, options);
  const body = await response.json().catch(() => ({ error: `HTTP ${response.status}` }));
  if (!response.ok) throw new Error(body.error || `HTTP ${response.status}`);
  return body;
}

async function send() {
  const mine = ++sent;
  statusLine.textContent = "classifying…";
  try {
    const answer = await call("/api/predict", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ image: drawingRows() }),
    });
    if (mine === sent) show(answer);
  } catch (error) {
    if (mine === sent) statusLine.textContent = `error: ${error.message}`;
  }
}

function bytes(b64) {
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
}

// Tiles (k, h, w) or one image (h, w) of grey levels, as a mosaic scaled up `zoom` times.
function drawTiles(canvas, encoded, zoom, cols, white) {
  const shape = encoded.shape.length === 2 ? [1, ...encoded.shape] : encoded.shape;
  const [k, h, w] = shape;
  const grey = bytes(encoded.data);
  cols = Math.min(cols, k);
  const rows = Math.ceil(k / cols);
  const W = cols * (w + 1) - 1, H = rows * (h + 1) - 1;
  const image = new ImageData(W, H);
  image.data.fill(255);
  for (let t = 0; t < k; t++) {
    const r0 = Math.floor(t / cols) * (h + 1), c0 = (t % cols) * (w + 1);
    for (let i = 0; i < h * w; i++) {
      const v = white ? grey[t * h * w + i] : 255 - grey[t * h * w + i];
      const o = ((r0 + Math.floor(i / w)) * W + c0 + (i % w)) * 4;
      image.data[o] = image.data[o + 1] = image.data[o + 2] = v;
    }
  }
  const small = document.createElement("canvas");
  small.width = W;
  small.height = H;
  small.getContext("2d").putImageData(image, 0, 0);
  canvas.width = W * zoom;
  canvas.height = H * zoom;
  const c = canvas.getContext("2d");
  c.imageSmoothingEnabled = false;
  c.drawImage(small, 0, 0, W * zoom, H * zoom);
}

function makeBars() {
  const bars = document.getElementById("bars");
  bars.replaceChildren();
  classes.forEach((name, k) => {
    const row = document.createElement("div");
    row.className = "bar-row";
    row.dataset.k = k;
    row.innerHTML = '<span class="label"></span><span class="track"><span class="bar"></span></span><span class="p"></span>';
    row.querySelector(".label").textContent = name;
    row.querySelector(".bar").style.width = "0%";
    bars.append(row);
  });
}

function show(answer) {
  const rows = document.querySelectorAll("#bars .bar-row");
  if (!answer.ink) {
    guess.textContent = "?";
    rows.forEach((row) => { row.classList.remove("top"); row.querySelector(".bar").style.width = "0%"; row.querySelector(".p").textContent = ""; });
    statusLine.textContent = answer.message;
    return;
  }
  rows.forEach((row, k) => {
    const p = answer.probabilities[k];
    row.classList.toggle("top", k === answer.prediction);
    row.querySelector(".bar").style.width = `${(100 * p).toFixed(1)}%`;
    row.querySelector(".p").textContent = `${(100 * p).toFixed(1)}%`;
  });
  guess.textContent = answer.label;
  statusLine.textContent = `prediction: ${answer.label} (${(100 * answer.probabilities[answer.prediction]).toFixed(1)}%)`;
  drawTiles(document.getElementById("input"), answer.input, 5, 1, true);
  if (answer.feature_maps) drawTiles(document.getElementById("maps"), answer.feature_maps, 2, 8, true);
}

document.getElementById("clear").addEventListener("click", () => {
  ctx.clearRect(0, 0, pad.width, pad.height);
  truth.textContent = "";
  show({ ink: false, message: "cleared: draw a digit" });
});

testButton.addEventListener("click", async () => {
  try {
    const answer = await call("/api/test-image");
    const small = document.createElement("canvas");
    small.width = small.height = 28;
    const image = new ImageData(28, 28);
    bytes(answer.input.data).forEach((v, i) => { image.data[i * 4 + 3] = v; });
    small.getContext("2d").putImageData(image, 0, 0);
    ctx.clearRect(0, 0, pad.width, pad.height);
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(small, 0, 0, pad.width, pad.height);
    show(answer);
    truth.textContent = `true label: ${answer.true_label} (test image ${answer.index})`;
  } catch (error) {
    testButton.disabled = true;
    testButton.textContent = "no test images";
    statusLine.textContent = error.message;
  }
});

async function start() {
  makeBars();
  try {
    const info = await call("/api/model");
    classes = info.classes;
    makeBars();
    document.getElementById("model").textContent =
      `model ${info.model}, epoch ${info.epoch}, trained on ${info.dataset} (${info.checkpoint})`;
    document.getElementById("conv-note").textContent = info.conv_note;
    if (info.filters) drawTiles(document.getElementById("filters"), info.filters, 8, 8, true);
  } catch (error) {
    document.getElementById("model").textContent = `error: ${error.message}`;
  }
}

start();
