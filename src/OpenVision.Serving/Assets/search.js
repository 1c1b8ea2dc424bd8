// Search over the server's index (POST v1/search), added to the page only when the server has one loaded.
// Thumbnails are fetched with the API key (an <img src> cannot send headers) and shown from blob: URLs.
(() => {
  const authHeaders = () => {
    const key = sessionStorage.getItem('openvision-api-key') || '';
    return key ? { Authorization: `Bearer ${key}` } : {};
  };
  const el = (tag, props = {}, children = []) => { const e = Object.assign(document.createElement(tag), props); e.append(...children); return e; };

  async function start() {
    const info = await fetch('v1/search', { headers: authHeaders() });
    if (!info.ok) return;                                   // no index loaded (404), or the key is still to be typed
    const index = await info.json();
    if (document.getElementById('search')) return;
    const query = el('input', { id: 'query', size: 40, placeholder: 'a red bicycle' });
    const go = el('button', { id: 'search-go', textContent: 'Search' });
    const file = el('input', { id: 'search-file', type: 'file', accept: 'image/*', hidden: true });
    const drop = el('div', { id: 'search-drop', textContent: 'or drop an image here to find similar ones' }, [file]);
    const matches = el('div', { id: 'matches' });
    const error = el('p', { id: 'search-error', style: 'color:#b00' });
    const style = el('style', { textContent:
      '#search-drop{border:2px dashed #888;border-radius:8px;padding:1rem;text-align:center;cursor:pointer;margin:.5rem 0}' +
      '#search-drop.over{background:#eef}#matches{display:grid;grid-template-columns:repeat(auto-fill,minmax(9rem,1fr));gap:.5rem}' +
      '.match{margin:0;font-size:.8rem;word-break:break-all}.match img{width:100%;height:8rem;object-fit:contain;background:#f4f4f4}' });
    const section = el('section', { id: 'search' }, [style, el('h2', { textContent: `Search ${index.count} images` }),
      el('p', {}, [query, ' ', go]), drop, error, matches]);
    document.body.append(section);

    async function run(body) {
      error.textContent = '';
      matches.replaceChildren();
      const response = await fetch('v1/search', { method: 'POST', headers: { 'Content-Type': 'application/json', ...authHeaders() }, body: JSON.stringify(body) });
      const answer = await response.json();
      if (!response.ok) { error.textContent = answer.error ? answer.error.message : `HTTP ${response.status}`; return; }
      for (const m of answer.data) {
        const img = el('img', { alt: m.key });
        const figure = el('figure', { className: 'match' }, [img,
          el('figcaption', {}, [el('b', { className: 'score', textContent: m.score.toFixed(4) }), ' ', el('span', { className: 'key', textContent: m.key.split('/').pop() })])]);
        matches.append(figure);
        fetch(`v1/search/items/${m.row}/image`, { headers: authHeaders() })
          .then(r => r.ok ? r.blob() : null).then(b => { if (b) img.src = URL.createObjectURL(b); });
      }
    }
    go.onclick = () => query.value.trim() ? run({ query: query.value.trim(), top_k: 12 }) : (error.textContent = 'type a text to search for first');
    query.onkeydown = e => { if (e.key === 'Enter') go.click(); };
    const searchImage = f => {
      const reader = new FileReader();
      reader.onload = () => run({ query: { image: reader.result }, top_k: 12 });
      reader.readAsDataURL(f);
    };
    drop.onclick = () => file.click();
    file.onchange = () => { if (file.files[0]) searchImage(file.files[0]); };
    drop.ondragover = e => { e.preventDefault(); drop.classList.add('over'); };
    drop.ondragleave = () => drop.classList.remove('over');
    drop.ondrop = e => { e.preventDefault(); drop.classList.remove('over'); if (e.dataTransfer.files[0]) searchImage(e.dataTransfer.files[0]); };
  }
  start();
  // With an API key the first try fails until the key is typed; try again when it changes.
  const key = document.getElementById('key');
  if (key) key.addEventListener('change', start);
})();
