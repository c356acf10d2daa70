// One JSON request to a Tandem the benchmark started (keep-alive agent, no retries).
import http from 'node:http';

export function request(agent: http.Agent, port: number, method: string, path: string, auth: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = http.request({ agent, host: '127.0.0.1', port, path, method, headers: {
      authorization: auth, ...(data ? { 'content-type': 'application/json', 'content-length': data.length } : {}) } }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => (text += d));
      res.on('end', () => {
        let json: unknown = null;
        try { json = text ? JSON.parse(text) as unknown : null; } catch { json = text; }
        resolve({ status: res.statusCode ?? 0, json });
      });
    });
    req.on('error', reject);
    req.end(data);
  });
}
