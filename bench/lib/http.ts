import { request } from 'undici';

/** Small JSON helpers over undici, for set-up, checks and reading stats (not for load). */

export interface JsonResponse<T> {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: T;
}

export async function getJson<T = unknown>(url: string, headers: Record<string, string> = {}): Promise<JsonResponse<T>> {
  const response = await request(url, { method: 'GET', headers });
  const text = await response.body.text();
  return { status: response.statusCode, headers: response.headers, body: parse<T>(text) };
}

export async function postJson<T = unknown>(url: string, body: unknown, headers: Record<string, string> = {}): Promise<JsonResponse<T>> {
  // No body, no content-type: Fastify refuses an empty application/json body.
  const response = await request(url, {
    method: 'POST',
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.body.text();
  return { status: response.statusCode, headers: response.headers, body: parse<T>(text) };
}

export async function getText(url: string, headers: Record<string, string> = {}): Promise<{ status: number; text: string }> {
  const response = await request(url, { method: 'GET', headers });
  return { status: response.statusCode, text: await response.body.text() };
}

function parse<T>(text: string): T {
  try {
    return JSON.parse(text) as T;
  } catch {
    return text as unknown as T;
  }
}
