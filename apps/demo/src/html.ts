const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
}

/** Escapes text for HTML content and attribute values. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ESCAPES[c] as string)
}

const STYLE = `
  :root { color-scheme: light; --ink: #1d2330; --muted: #687085; --line: #e3e6ee; --accent: #3056d3; --danger: #c2372f; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: #f5f6fa; }
  header { background: #fff; border-bottom: 1px solid var(--line); }
  header .bar { max-width: 860px; margin: 0 auto; padding: 14px 24px; display: flex; align-items: center; gap: 20px; }
  header .brand { font-weight: 650; letter-spacing: .2px; }
  header nav { display: flex; gap: 16px; flex: 1; }
  header a { color: var(--muted); text-decoration: none; }
  header a.active, header a:hover { color: var(--ink); }
  main { max-width: 860px; margin: 32px auto; padding: 0 24px; }
  .card { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 24px 28px; margin-bottom: 20px; }
  h1 { font-size: 22px; margin: 0 0 6px; }
  h2 { font-size: 17px; margin: 0 0 12px; }
  p { margin: 8px 0; }
  .muted { color: var(--muted); }
  .nowrap { white-space: nowrap; }
  .error { color: var(--danger); }
  table { width: 100%; border-collapse: collapse; }
  th, td { text-align: left; padding: 9px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
  th { font-weight: 600; color: var(--muted); font-size: 13px; }
  td code { font-size: 13px; word-break: break-all; }
  button, .button { font: inherit; border: 0; border-radius: 7px; padding: 8px 16px; cursor: pointer; background: var(--accent); color: #fff; text-decoration: none; display: inline-block; }
  button.secondary { background: #eef0f6; color: var(--ink); }
  button.danger { background: var(--danger); }
  button.small { padding: 4px 12px; font-size: 13px; }
  form.inline { display: inline; margin: 0; }
  .stack { display: flex; flex-direction: column; gap: 10px; max-width: 320px; }
  .row { display: flex; gap: 10px; flex-wrap: wrap; align-items: center; }
  input { font: inherit; padding: 8px 10px; border: 1px solid #cfd4e0; border-radius: 7px; }
  .badge { display: inline-block; font-size: 12px; padding: 1px 8px; border-radius: 999px; background: #e6f4ea; color: #1e6b35; margin-left: 6px; }
  .center { max-width: 420px; margin: 64px auto; }
`

/** Options of {@link page}. */
export interface PageOptions {
  title: string
  /** The header's brand text. */
  heading: string
  body: string
  /** Navigation links as [href, label]; the current one is marked. */
  nav?: Array<[string, string]>
  current?: string
  /** Right-hand header content (the user's name and a logout button). */
  aside?: string
}

/** A whole HTML page with the demo's small stylesheet. */
export function page(options: PageOptions): string {
  const nav = (options.nav ?? [])
    .map(
      ([href, label]) =>
        `<a href="${escapeHtml(href)}"${href === options.current ? ' class="active"' : ''}>${escapeHtml(label)}</a>`,
    )
    .join('')
  const centered = options.nav === undefined
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(options.title)}</title>
<style>${STYLE}</style>
</head>
<body>
<header><div class="bar"><span class="brand">${escapeHtml(options.heading)}</span><nav>${nav}</nav>${options.aside ?? ''}</div></header>
<main${centered ? ' class="center"' : ''}><div class="card">${options.body}</div></main>
</body>
</html>`
}
