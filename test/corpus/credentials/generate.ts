import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../../src/paths.js';
import { FORMATS, fill, mulberry32, sample, type Rng } from './formats.js';

// Generates the labeled credential corpus: positives are random tokens in
// every documented format, set in the contexts people paste them in;
// negatives are benign prompts, code with UUIDs, git SHAs, hashes, base64
// images, and placeholder keys. Deterministic (fixed seed), so the
// committed files can be regenerated and compared.
//
//   node dist/test/corpus/credentials/generate.js

export const CORPUS_DIR = join(PROJECT_ROOT, 'test', 'corpus', 'credentials');
const SEED = 0x6a7e;
const PER_RULE = 6;

export interface PositiveLine {
  readonly id: string;
  readonly rule: string;
  readonly text: string;
  /** Where the token is in text. */
  readonly start: number;
  readonly end: number;
}

export interface NegativeLine {
  readonly id: string;
  /** benign-prompt | code-uuid | git-sha | hash | base64-image | placeholder | misc */
  readonly kind: string;
  readonly text: string;
}

function pick<T>(rng: Rng, items: readonly T[]): T {
  return items[Math.floor(rng() * items.length)]!;
}

const CONTEXTS: readonly ((k: string) => string)[] = [
  (k) => `Can you help me debug this? I keep getting 401 errors and my key is ${k} — what am I doing wrong?`,
  (k) => `here's my .env:\nDEBUG=true\nTOKEN_VALUE=${k}\nPORT=3000`,
  (k) => JSON.stringify({ config: { credential: k, region: 'us-east-1' } }),
  (k) => `const client = new Client({ credential: '${k}', timeout: 30_000 });`,
  (k) => k,
  (k) => `Please review this snippet:\n\n\`\`\`\n${k}\n\`\`\`\nIt fails when deployed.`,
  (k) => `- name: deploy\n  env:\n    SECRET_VALUE: "${k}"`,
];

function positives(rng: Rng): PositiveLine[] {
  const out: PositiveLine[] = [];
  for (const rule of Object.keys(FORMATS)) {
    for (let i = 0; i < PER_RULE; i++) {
      const token = sample(rule, rng);
      const context = CONTEXTS[(i + rule.length) % CONTEXTS.length]!;
      const text = context(token);
      // JSON contexts escape the token: locate what was actually written.
      const written = text.includes(token) ? token : JSON.stringify(token).slice(1, -1);
      const start = text.indexOf(written);
      out.push({ id: `pos-${rule}-${i}`, rule, text, start, end: start + written.length });
    }
  }
  return out;
}

const TOPICS = ['photosynthesis', 'the French revolution', 'gradient descent', 'Kubernetes networking', 'sourdough baking', 'the stock market', 'quantum computing', 'climate change', 'TCP congestion control', 'medieval castles', 'the immune system', 'jazz harmony', 'supply chains', 'volcanoes', 'the Roman empire', 'public key cryptography', 'rate limiting', 'OAuth 2.0 flows', 'password managers', 'API gateways'];
const TASKS = ['reverses a linked list', 'parses a CSV file', 'retries an HTTP request with backoff', 'validates an email address', 'computes a SHA-256 hash of a file', 'rotates API keys stored in a vault', 'paginates through an API', 'generates a random password', 'verifies a JWT signature', 'hashes passwords with bcrypt', 'reads the secret from an environment variable', 'caches tokens until they expire'];
const BENIGN: readonly ((r: Rng) => string)[] = [
  (r) => `Summarize the following article about ${pick(r, TOPICS)} in three bullet points.`,
  (r) => `Write a Python function that ${pick(r, TASKS)}. Include type hints and a docstring.`,
  (r) => `Explain the difference between ${pick(r, TOPICS)} and ${pick(r, TOPICS)} to a ten-year-old.`,
  () => `What's the best way to store an API key for a mobile app? I don't want to hard-code the secret.`,
  (r) => `My password must be at least 12 characters and contain a symbol. Suggest a memorable scheme, not an actual password. Topic: ${pick(r, TOPICS)}.`,
  (r) => `The secret to good ${pick(r, TOPICS)} is patience. Can you expand on that idea in a short essay?`,
  (r) => `How do access tokens and refresh tokens differ in ${pick(r, ['OAuth', 'OpenID Connect', 'our mobile app', 'a SPA'])}?`,
  () => `Translate into German: "The key to success is preparation, and the token of our thanks is this gift."`,
  (r) => `I got an email saying my password was reset. Is it phishing? It came from ${pick(r, ['support', 'noreply', 'security'])}@${pick(r, ['example.com', 'bank.test', 'shop.test'])}.`,
  (r) => `Write a haiku about ${pick(r, TOPICS)}.`,
  (r) => `Create a study plan for learning ${pick(r, TOPICS)} in ${2 + Math.floor(r() * 10)} weeks.`,
  (r) => `Draft a polite reply declining the meeting on ${pick(r, ['Monday', 'Tuesday', 'Friday'])} about ${pick(r, TOPICS)}.`,
  (r) => `In our docs, should we call it an "API key", a "secret key" or an "access token"? Our product does ${pick(r, TOPICS)}.`,
  (r) => `Rewrite this sentence to be clearer: "Tokens are counted per request and the limit resets every ${1 + Math.floor(r() * 59)} minutes."`,
  (r) => `List ${3 + Math.floor(r() * 7)} common mistakes people make when learning ${pick(r, TOPICS)}.`,
  () => `What does HTTP status 401 mean compared to 403? Our gateway returns one when the key is missing.`,
  (r) => `Give me a regex that matches an ISO date like 2024-${String(1 + Math.floor(r() * 12)).padStart(2, '0')}-15.`,
  (r) => `You are a helpful assistant. Answer concisely. The user asks about ${pick(r, TOPICS)}; use the tool search_docs if needed.`,
];

const CODE_UUID: readonly ((r: Rng) => string)[] = [
  (r) => `const requestId = "${fill(r, '{UUID}')}";`,
  (r) => `INSERT INTO users (id, name) VALUES ('${fill(r, '{UUID}')}', 'Ada');`,
  (r) => `{"trace_id": "${fill(r, '{H:32}')}", "span_id": "${fill(r, '{H:16}')}", "user_id": "${fill(r, '{UUID}')}"}`,
  (r) => `correlation-id: ${fill(r, '{UUID}')}`,
  (r) => `resource "aws_instance" "web" {\n  ami = "ami-${fill(r, '{H:17}')}"\n  subnet_id = "subnet-${fill(r, '{H:17}')}"\n}`,
  (r) => `session_id = "${fill(r, '{UUID}')}"  # not a secret, just an id`,
  (r) => `pod/api-${fill(r, '{LA:10}')}-${fill(r, '{LA:5}')} 1/1 Running 0 3d`,
  (r) => `<PackageReference Include="Newtonsoft.Json" Version="13.0.3" /> <!-- ${fill(r, '{UUID}')} -->`,
];
const GIT: readonly ((r: Rng) => string)[] = [
  (r) => `commit ${fill(r, '{H:40}')}\nAuthor: Dev <dev@example.org>\n\n    fix: handle empty body`,
  (r) => `git cherry-pick ${fill(r, '{H:7}')} && git push origin main`,
  (r) => `Merge: ${fill(r, '{H:7}')} ${fill(r, '{H:7}')}`,
  (r) => `"resolved": "git+https://github.com/org/repo.git#${fill(r, '{H:40}')}"`,
  (r) => `uses: actions/checkout@${fill(r, '{H:40}')} # v4`,
];
const HASHES: readonly ((r: Rng) => string)[] = [
  (r) => `sha256sum: ${fill(r, '{H:64}')}  release.tar.gz`,
  (r) => `"integrity": "sha512-${fill(r, '{B64:86}')}=="`,
  (r) => `image: registry.example.org/app@sha256:${fill(r, '{H:64}')}`,
  (r) => `md5 ${fill(r, '{H:32}')} sha1 ${fill(r, '{H:40}')}`,
  (r) => `etag: "${fill(r, '{H:32}')}"`,
  (r) => `$2b$12$${fill(r, '{B64:53}').replace(/\+/g, '.')}`,
  (r) => `checksum = "${fill(r, '{H:64}')}"`,
];
const IMAGES: readonly ((r: Rng) => string)[] = [
  (r) => `![chart](data:image/png;base64,iVBORw0KGgo${fill(r, '{B64:1500}')}=)`,
  (r) => JSON.stringify({ type: 'image_url', image_url: { url: `data:image/jpeg;base64,/9j/4AAQSkZJRg${fill(r, '{B64:2000}')}` } }),
  (r) => `<img src="data:image/gif;base64,R0lGODlh${fill(r, '{B64:600}')}==" alt="spinner">`,
];
const PLACEHOLDERS: readonly ((r: Rng) => string)[] = [
  () => 'export OPENAI_API_KEY=sk-...',
  () => 'OPENAI_API_KEY="sk-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"',
  () => 'ANTHROPIC_API_KEY=sk-ant-api03-...your-key-here...',
  () => 'aws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  () => 'GITHUB_TOKEN=ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',
  () => 'curl -H "Authorization: Bearer <YOUR_API_KEY>" https://api.openai.com/v1/models',
  () => 'headers = {"x-api-key": os.environ["ANTHROPIC_API_KEY"]}',
  () => 'stripe.api_key = "sk_test_your_secret_key_here"',
  () => 'const apiKey = process.env.GEMINI_API_KEY;',
  () => 'password: "********"',
  () => 'password: ${DB_PASSWORD}',
  () => 'DATABASE_URL=postgres://user:password@localhost:5432/app',
  () => 'api_key: "YOUR_API_KEY"',
  () => 'token: {{ secrets.NPM_TOKEN }}',
  () => 'SLACK_WEBHOOK_URL=https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX',
  () => 'key = "AIzaSy-your-google-api-key-here-1234"',
  (r) => `api_key = "${pick(r, ['<api-key>', 'REPLACE_ME', 'changeme', 'your-api-key', 'INSERT_KEY_HERE', 'dummy-key', 'xxxx-xxxx-xxxx'])}"`,
  (r) => `Authorization: Bearer ${pick(r, ['$TOKEN', '${ACCESS_TOKEN}', '<token>', 'YOUR_TOKEN_HERE'])}`,
  () => 'mongodb://<username>:<password>@cluster0.mongodb.net/test',
  () => 'hf_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',
];
const MISC: readonly ((r: Rng) => string)[] = [
  (r) => `color: #${fill(r, '{H:6}')}; background: #${fill(r, '{H:6}')};`,
  (r) => `fe80::${fill(r, '{H:4}')}:${fill(r, '{H:4}')}:${fill(r, '{H:4}')}:${fill(r, '{H:4}')}`,
  (r) => `at Object.<anonymous> (/srv/app/node_modules/${fill(r, '{LA:8}')}/index.js:${Math.floor(r() * 900)}:17)`,
  (r) => `https://example.org/search?q=${fill(r, '{LA:8}')}&page=${Math.floor(r() * 9)}&sort=desc`,
  (r) => `The build ${fill(r, '{U:8}')} failed on runner ${fill(r, '{LA:12}')}.`,
  (r) => `Base64 of the word hello is aGVsbG8=, and of "${fill(r, '{L:6}')}" is ${Buffer.from(fill(r, '{L:6}')).toString('base64')}.`,
  (r) => `SELECT id, password_hash FROM accounts WHERE created_at > now() - interval '${Math.floor(r() * 30)} days';`,
  (r) => `if (password.length < ${8 + Math.floor(r() * 8)}) throw new Error('password too short');`,
  (r) => `const token = await getToken(); // token refreshed every ${Math.floor(r() * 60)} min`,
  (r) => `secret_name = "prod/${fill(r, '{LA:6}')}/db-credentials"`,
  (r) => `api_key_id: ${Math.floor(r() * 1e6)}`,
  (r) => `export const ACCESS_TOKEN_TTL_SECONDS = ${Math.floor(r() * 86400)};`,
  () => 'const token = getAccessTokenFromRefreshHandler();',
  () => 'api_key = settings.OPENAI_API_KEY_PRODUCTION',
  () => 'secret = base64.b64encode(os.urandom(32)).decode()',
  () => 'password = generateSecurePasswordForUser(currentUser)',
  () => 'client_secret: ${{ secrets.AZURE_CLIENT_SECRET }}',
  () => 'const authToken = useAuthenticationTokenSelector((state) => state.session);',
  (r) => `refresh_token = response.json()["refresh_token"]  # ${fill(r, '{LA:6}')}`,
  () => 'access_key = config.get("storage", "access_key_for_backups")',
];

function negatives(rng: Rng): NegativeLine[] {
  const out: NegativeLine[] = [];
  const add = (kind: string, gens: readonly ((r: Rng) => string)[], n: number) => {
    for (let i = 0; i < n; i++) out.push({ id: `neg-${kind}-${i}`, kind, text: gens[i % gens.length]!(rng) });
  };
  add('benign-prompt', BENIGN, 2000);
  add('code-uuid', CODE_UUID, 400);
  add('git-sha', GIT, 200);
  add('hash', HASHES, 300);
  add('base64-image', IMAGES, 60);
  add('placeholder', PLACEHOLDERS, 200);
  add('misc', MISC, 300);
  return out;
}

export function generateCorpus(): { positives: PositiveLine[]; negatives: NegativeLine[] } {
  const rng = mulberry32(SEED);
  return { positives: positives(rng), negatives: negatives(rng) };
}

function main(): void {
  const { positives: pos, negatives: neg } = generateCorpus();
  writeFileSync(join(CORPUS_DIR, 'positives.jsonl'), pos.map((l) => JSON.stringify(l)).join('\n') + '\n');
  writeFileSync(join(CORPUS_DIR, 'negatives.jsonl'), neg.map((l) => JSON.stringify(l)).join('\n') + '\n');
  process.stdout.write(`wrote ${pos.length} positive and ${neg.length} negative lines to ${CORPUS_DIR}\n`);
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) main();
