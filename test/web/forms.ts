/** What the web tests do as a browser would at the HTTP level: post a form, read cookies and a page's CSRF token. */

/** Posts `form` as a browser form would, with `cookie`; redirects are returned, not followed. */
export const postForm = (url: string, cookie: string, form: Record<string, string>) =>
  fetch(url, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
  });

/** The `name=value` of a cookie the response sets (not an empty, clearing one). */
export const cookieOf = (r: Response, name: string) =>
  r.headers
    .getSetCookie()
    .map((c) => c.split(';')[0]!)
    .find((c) => c.startsWith(`${name}=`) && c.length > name.length + 1);

/** The CSRF token a page's forms carry. */
export const tokenIn = (page: string) => /name="csrf" value="([^"]+)"/.exec(page)?.[1];
