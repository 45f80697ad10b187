// The office API (src/web/office/api.ts) with the office login: HTTP Basic, plus the header that
// marks a request as the console's own (the server refuses cross-site requests without it).

export function officeApi(header) {
  let authorization;
  return {
    login(user, password) {
      // btoa takes Latin-1 only: the password's UTF-8 bytes go through as such.
      const bytes = new TextEncoder().encode(`${user}:${password}`);
      authorization = `Basic ${btoa(String.fromCharCode(...bytes))}`;
    },
    /** The response of a GET; an error names the status and machi's MACHI_ERR_ code. */
    async get(path) {
      const res = await fetch(path, { headers: { authorization, [header]: '1' } });
      if (!res.ok) {
        const body = await res.json().catch(() => ({}));
        throw new Error(`${res.status} ${body.code ?? ''} ${body.error ?? ''}`.trim());
      }
      return res;
    },
  };
}
