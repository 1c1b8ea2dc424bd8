// Calls POST /v1/embeddings through the official `openai` npm package and prints the embeddings as JSON.
// Environment: OPENAI_PACKAGE (the npm --prefix folder holding node_modules/openai), BASE_URL (…/v1), API_KEY, MODEL,
// INPUT_FILE (a file holding the input as JSON: a string or an array), ENCODING_FORMAT ("float", "base64" or empty: the client's default, base64).
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';

const require = createRequire(path.join(process.env.OPENAI_PACKAGE, 'resolve.js'));
const { default: OpenAI } = await import(require.resolve('openai'));
const client = new OpenAI({ baseURL: process.env.BASE_URL, apiKey: process.env.API_KEY, maxRetries: 0 });
const request = { model: process.env.MODEL, input: JSON.parse(fs.readFileSync(process.env.INPUT_FILE, 'utf8')) };
if (process.env.ENCODING_FORMAT) request.encoding_format = process.env.ENCODING_FORMAT;
try {
  const response = await client.embeddings.create(request);
  console.log(JSON.stringify({ embeddings: response.data.map(d => d.embedding), usage: response.usage, model: response.model }));
} catch (e) {
  console.log(JSON.stringify({ status: e.status ?? null, message: e.message }));
}
