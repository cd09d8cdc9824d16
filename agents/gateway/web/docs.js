// /api/docs: lists the operations of the OpenAPI document (a file, so the page's
// Content-Security-Policy can forbid inline scripts).
fetch('/api/openapi.json')
  .then((r) => r.json())
  .then((d) => {
    const o = document.getElementById('ops');
    for (const [p, ms] of Object.entries(d.paths)) {
      for (const [m, op] of Object.entries(ms)) {
        const h = document.createElement('h2');
        h.textContent = `${m.toUpperCase()} ${p}`;
        o.append(h);
        const s = document.createElement('p');
        s.textContent = op.summary || '';
        o.append(s);
        if (op.requestBody) {
          const pre = document.createElement('pre');
          pre.textContent = JSON.stringify(op.requestBody.content, null, 1);
          o.append(pre);
        }
      }
    }
  });
