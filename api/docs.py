"""``/docs``: the OpenAPI description as a page, served from this process with no CDN.

FastAPI's Swagger UI and ReDoc pages load their scripts from a CDN, and no package of the lock ships the
Swagger UI files, so both are switched off (``docs_url=None``, ``redoc_url=None``) and ``/docs`` is this small
page instead: it reads ``/openapi.json`` (same origin) and lists every operation with its parameters and
responses. The machine-readable description stays at ``/openapi.json``.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

router = APIRouter(include_in_schema=False)

_CSP = "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'"

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>GridPatrol API</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font-family:system-ui,sans-serif;margin:2rem;max-width:60rem;color:#222}
h1{font-size:1.5rem} .op{border:1px solid #ccc;border-radius:6px;margin:.6rem 0;padding:.5rem .8rem}
.m{display:inline-block;min-width:4.5rem;font-weight:bold;text-transform:uppercase}
.get{color:#1565c0}.post{color:#2e7d32}.p{font-family:monospace}
table{border-collapse:collapse;margin:.3rem 0}
td,th{border:1px solid #ddd;padding:.15rem .4rem;font-size:.9rem;text-align:left} small{color:#666}
</style></head><body>
<h1 id="title">GridPatrol API</h1>
<p><small>The machine-readable description: <a href="/openapi.json">/openapi.json</a>.
Open311 GeoReport v2: <a href="/open311/v2/discovery.json">/open311/v2/discovery.json</a>.</small></p>
<div id="ops">loading…</div>
<script src="/docs/docs.js"></script>
</body></html>
"""

SCRIPT = """
(function () {
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  fetch('/openapi.json').then(function (r) { return r.json(); }).then(function (spec) {
    document.getElementById('title').textContent = spec.info.title + ' ' + spec.info.version;
    var ops = document.getElementById('ops');
    ops.textContent = '';
    Object.keys(spec.paths).sort().forEach(function (path) {
      var item = spec.paths[path];
      Object.keys(item).forEach(function (method) {
        var op = item[method], box = el('div', 'op'), head = el('div');
        head.appendChild(el('span', 'm ' + method, method));
        head.appendChild(el('span', 'p', path));
        box.appendChild(head);
        if (op.summary) box.appendChild(el('div', '', op.summary));
        if (op.description) box.appendChild(el('small', '', op.description));
        var params = op.parameters || [];
        if (params.length) {
          var t = el('table'), h = el('tr');
          ['parameter', 'in', 'required', 'description'].forEach(function (c) {
            h.appendChild(el('th', '', c));
          });
          t.appendChild(h);
          params.forEach(function (p) {
            var row = el('tr');
            [p.name, p.in, p.required ? 'yes' : 'no', p.description || ''].forEach(function (c) {
              row.appendChild(el('td', '', String(c)));
            });
            t.appendChild(row);
          });
          box.appendChild(t);
        }
        var codes = Object.keys(op.responses || {});
        if (codes.length) box.appendChild(el('small', '', 'responses: ' + codes.join(', ')));
        ops.appendChild(box);
      });
    });
  }).catch(function (e) { document.getElementById('ops').textContent = 'cannot read /openapi.json: ' + e; });
})();
"""


@router.get("/docs")
def docs_page() -> HTMLResponse:
    return HTMLResponse(PAGE, headers={"Content-Security-Policy": _CSP})


@router.get("/docs/docs.js")
def docs_script() -> Response:
    return Response(
        SCRIPT, media_type="text/javascript; charset=utf-8", headers={"Content-Security-Policy": _CSP}
    )
