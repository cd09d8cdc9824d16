// The live part of the web pages: follows the event stream named by [data-stream] and,
// after each event, fetches the page again and swaps in its #live part (no full reload).
(() => {
  const live = document.getElementById('live');
  const url = live?.dataset.stream;
  if (!url) return;
  let timer;
  const refresh = () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const r = await fetch(location.href, { credentials: 'same-origin' });
      if (!r.ok) return;
      const next = new DOMParser().parseFromString(await r.text(), 'text/html').getElementById('live');
      if (next) live.replaceChildren(...next.childNodes);
    }, 150);
  };
  const follow = async () => {
    for (;;) {
      try {
        const r = await fetch(url, { credentials: 'same-origin', headers: { accept: 'text/event-stream' } });
        const reader = r.body.getReader();
        const dec = new TextDecoder();
        let buf = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += dec.decode(value, { stream: true });
          let i;
          while ((i = buf.indexOf('\n\n')) >= 0) {
            if (/^id: /m.test(buf.slice(0, i))) refresh();
            buf = buf.slice(i + 2);
          }
        }
      } catch {
        /* reconnect below */
      }
      await new Promise((ok) => setTimeout(ok, 2000));
    }
  };
  follow();
})();
