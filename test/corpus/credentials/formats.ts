import { base62, crc32 } from '../../../src/detect/engine/checksums.js';
import type { Rng } from '../../../src/random.js';

// Documented token formats, one generator per rule id, written from the
// providers' public descriptions of their formats (prefix, alphabet,
// length, checksum), independently of the rules' regexes. The corpus
// generator and the rule samples draw random tokens from these.
//
// Template tokens: {A:n} base62, {H:n} lower hex, {HU:n} upper hex, {U:n}
// upper alnum, {LA:n} lower alnum, {L:n} letters, {B32:n} A-Z2-7, {B64:n}
// base64 body, {B64U:n} base64url body, {D:n} digits, {BECH:n} bech32, {UUID}.

export { mulberry32, type Rng } from '../../../src/random.js';


const ALPHABETS: Record<string, string> = {
  A: 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789',
  H: '0123456789abcdef',
  HU: '0123456789ABCDEF',
  U: 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789',
  LA: 'abcdefghijklmnopqrstuvwxyz0123456789',
  L: 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz',
  B32: 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567',
  B64: 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/',
  B64U: 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_',
  D: '0123456789',
  BECH: 'QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L',
};

export function randomChars(rng: Rng, alphabet: string, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += alphabet[Math.floor(rng() * alphabet.length)];
  return s;
}

function uuid(rng: Rng): string {
  const h = (n: number) => randomChars(rng, ALPHABETS.H!, n);
  return `${h(8)}-${h(4)}-4${h(3)}-${'89ab'[Math.floor(rng() * 4)]}${h(3)}-${h(12)}`;
}

export function fill(rng: Rng, template: string): string {
  return template.replace(/\{(UUID|[A-Z0-9]+):?(\d*)\}/g, (_, kind: string, n: string) =>
    kind === 'UUID' ? uuid(rng) : randomChars(rng, ALPHABETS[kind]!, Number(n)),
  );
}

function crcToken(prefix: string) {
  return (rng: Rng) => {
    const body = randomChars(rng, ALPHABETS.A!, 30);
    return `${prefix}${body}${base62(crc32(body), 6)}`;
  };
}

function b64url(s: string): string {
  return Buffer.from(s).toString('base64url');
}

function jwt(rng: Rng): string {
  const header = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const payload = b64url(JSON.stringify({ sub: fill(rng, '{D:10}'), name: fill(rng, '{L:8}'), iat: 1700000000 + Math.floor(rng() * 1e7) }));
  return `${header}.${payload}.${fill(rng, '{B64U:43}')}`;
}

function pemBody(rng: Rng, lines: number): string {
  const out: string[] = [];
  for (let i = 0; i < lines; i++) out.push(randomChars(rng, ALPHABETS.B64!, 64));
  return out.join('\n');
}

function pem(label: string, lines = 12, headers = '') {
  return (rng: Rng) => `-----BEGIN ${label}-----\n${headers}${pemBody(rng, lines)}\n${randomChars(rng, ALPHABETS.B64!, 20)}==\n-----END ${label}-----`;
}

function sentryOrgToken(rng: Rng): string {
  const payload = Buffer.from(JSON.stringify({ iat: 1700000000 + Math.floor(rng() * 1e7), url: 'https://sentry.io', region_url: 'https://us.sentry.io', org: fill(rng, '{LA:8}') }))
    .toString('base64')
    .replace(/=+$/, '');
  return `sntrys_${payload}_${fill(rng, '{B64:43}')}`;
}

function gcpServiceAccount(rng: Rng): string {
  const key = pem('PRIVATE KEY', 10)(rng).replace(/\n/g, '\\n');
  return `{"type": "service_account", "project_id": "demo-${fill(rng, '{LA:6}')}", "private_key_id": "${fill(rng, '{H:40}')}", "private_key": "${key}\\n", "client_email": "svc@demo.iam.gserviceaccount.com"}`;
}

export type Format = string | ((rng: Rng) => string);

export const FORMATS: Readonly<Record<string, Format>> = {
  // AI providers
  'openai-project-key': 'sk-proj-{B64U:74}T3BlbkFJ{B64U:74}',
  'openai-service-account-key': 'sk-svcacct-{B64U:74}T3BlbkFJ{B64U:74}',
  'openai-admin-key': 'sk-admin-{B64U:74}T3BlbkFJ{B64U:74}',
  'openai-user-key': 'sk-{A:20}T3BlbkFJ{A:20}',
  'openai-legacy-key': 'sk-{A:48}',
  'openai-session-key': 'sess-{A:40}',
  'anthropic-api-key': 'sk-ant-api03-{B64U:93}AA',
  'anthropic-admin-key': 'sk-ant-admin01-{B64U:93}AA',
  'anthropic-oauth-access-token': 'sk-ant-oat01-{B64U:93}AA',
  'anthropic-oauth-refresh-token': 'sk-ant-ort01-{B64U:93}AA',
  'google-api-key': 'AIza{B64U:35}',
  'gcp-service-account-key': gcpServiceAccount,
  'google-oauth-client-secret': 'GOCSPX-{B64U:28}',
  'google-oauth-access-token': 'ya29.a0{B64U:120}',
  'google-oauth-refresh-token': '1//0{B64U:99}',
  'azure-openai-key': 'AZURE_OPENAI_API_KEY={H:32}',
  'azure-openai-key-84': 'AZURE_OPENAI_API_KEY="{A:84}"',
  'aws-access-key-id': 'AKIA{B32:16}',
  'aws-secret-access-key': 'aws_secret_access_key = {B64:40}',
  'aws-secret-near-key-id': (rng) => `AccessKeyId: ASIA${fill(rng, '{B32:16}')}\nSecretAccessKey: ${fill(rng, '{B64:40}')}`,
  'aws-session-token': 'IQoJb3JpZ2luX2VjE{B64:300}',
  'aws-bedrock-api-key': 'ABSKQmVkcm9ja0FQSUtleS{B64:110}=',
  'aws-bedrock-short-term-key': 'bedrock-api-key-YmVkcm9jay5hbWF6b25hd3MuY29t{B64:400}',
  'aws-mws-key': 'amzn.mws.{UUID}',
  'cohere-api-key': 'COHERE_API_KEY="{A:40}"',
  'mistral-api-key': 'MISTRAL_API_KEY={A:32}',
  'groq-api-key': 'gsk_{A:52}',
  'together-api-key': 'tgp_v1_{B64U:43}',
  'together-api-key-legacy': 'TOGETHER_API_KEY={H:64}',
  'fireworks-api-key': 'fw_{A:24}',
  'perplexity-api-key': 'pplx-{A:48}',
  'deepseek-api-key': 'sk-{H:32}',
  'xai-api-key': 'xai-{A:80}',
  'openrouter-api-key': 'sk-or-v1-{H:64}',
  'huggingface-token': 'hf_{L:34}',
  'huggingface-org-token': 'api_org_{L:34}',
  'replicate-api-token': 'r8_{A:37}',
  'langsmith-api-key': 'lsv2_pt_{H:32}_{H:10}',
  'langchain-api-key-legacy': 'ls__{H:32}',
  'pinecone-api-key': 'pcsk_{A:5}_{A:63}',
  'pinecone-api-key-legacy': 'PINECONE_API_KEY={UUID}',
  'voyage-api-key': 'pa-{B64U:43}',
  'elevenlabs-api-key': 'sk_{H:48}',
  'elevenlabs-api-key-legacy': 'xi-api-key: {H:32}',
  'litellm-virtual-key': 'sk-{B64U:22}',
  'litellm-master-key': 'LITELLM_MASTER_KEY="sk-{A:16}"',
  'nvidia-api-key': 'nvapi-{B64U:64}',
  'anyscale-api-key': 'esecret_{LA:30}',
  'cerebras-api-key': 'csk-{LA:48}',
  'runpod-api-key': 'rpa_{U:40}',
  'databricks-token': 'dapi{H:32}',
  'tavily-api-key': 'tvly-{A:32}',
  'firecrawl-api-key': 'fc-{H:32}',
  'e2b-api-key': 'e2b_{H:40}',
  'jina-api-key': 'jina_{H:32}{A:28}',
  'langfuse-secret-key': 'sk-lf-{UUID}',
  'helicone-api-key': 'sk-helicone-{LA:7}-{LA:7}-{LA:7}-{LA:7}',
  'browserbase-api-key': 'bb_live_{B64U:27}',
  'deepgram-api-key': 'DEEPGRAM_API_KEY={H:40}',
  'assemblyai-api-key': 'ASSEMBLYAI_API_KEY={H:32}',
  'serpapi-key': 'SERPAPI_API_KEY={H:64}',
  'wandb-api-key': 'WANDB_API_KEY={H:40}',
  // Version control and CI
  'github-pat-classic': crcToken('ghp_'),
  'github-oauth-token': crcToken('gho_'),
  'github-user-to-server-token': crcToken('ghu_'),
  'github-server-to-server-token': crcToken('ghs_'),
  'github-refresh-token': crcToken('ghr_'),
  'github-fine-grained-pat': 'github_pat_11{U:20}_{A:59}',
  'gitlab-pat': 'glpat-{B64U:20}',
  'gitlab-pipeline-trigger-token': 'glptt-{H:40}',
  'gitlab-runner-token': 'glrt-{B64U:20}',
  'gitlab-runner-registration-token': 'GR1348941{B64U:20}',
  'gitlab-deploy-token': 'gldt-{B64U:20}',
  'gitlab-feed-token': 'glft-{B64U:20}',
  'gitlab-scim-token': 'glsoat-{B64U:20}',
  'gitlab-ci-build-token': 'glcbt-{H:2}_{B64U:20}',
  'gitlab-incoming-mail-token': 'glimt-{LA:25}',
  'gitlab-oauth-app-secret': 'gloas-{H:64}',
  'gitlab-agent-token': 'glagent-{B64U:50}',
  'gitlab-feature-flag-client-token': 'glffct-{B64U:20}',
  'bitbucket-app-password': 'ATBB{A:32}{HU:8}',
  'atlassian-api-token': 'ATATT3xFfGF0{B64U:170}={HU:8}',
  'atlassian-connect-token': 'ATCTT3xFfGN0{B64U:170}={HU:8}',
  'circleci-token': 'CCIPAT_{A:22}_{H:40}',
  'buildkite-token': 'bkua_{H:40}',
  'sonarqube-token': 'squ_{H:40}',
  'terraform-cloud-token': '{A:14}.atlasv1.{B64U:67}',
  'pulumi-token': 'pul-{H:40}',
  'octopus-deploy-api-key': 'API-{U:26}',
  'harness-pat': 'pat.{B64U:22}.{H:24}.{A:20}',
  'sourcegraph-token': 'sgp_{H:16}_{H:40}',
  'npm-token': crcToken('npm_'),
  'npmrc-auth-token': '//registry.npmjs.org/:_authToken={UUID}',
  'pypi-token': 'pypi-AgEIcHlwaS5vcmc{B64U:70}',
  'testpypi-token': 'pypi-AgENdGVzdC5weXBpLm9yZw{B64U:70}',
  'rubygems-api-key': 'rubygems_{H:48}',
  'nuget-api-key': 'oy2{LA:43}',
  'clojars-token': 'CLOJARS_{LA:60}',
  'dockerhub-pat': 'dckr_pat_{B64U:27}',
  'dockerhub-oat': 'dckr_oat_{B64U:32}',
  'artifactory-api-key': 'AKCp{A:69}',
  'artifactory-reference-token': 'cmVmdGtu{A:56}',
  'prefect-api-key': 'pnu_{A:36}',
  'readme-api-key': 'rdme_{LA:70}',
  'infracost-api-key': 'ico-{A:32}',
  // Cloud
  'gcp-api-key-in-url': 'https://generativelanguage.googleapis.com/v1beta/models/gemini-pro:generateContent?key=AIza{B64U:35}',
  'azure-storage-account-key': 'DefaultEndpointsProtocol=https;AccountName=demo{LA:6};AccountKey={B64:86}==;EndpointSuffix=core.windows.net',
  'azure-sas-token': 'https://demo.blob.core.windows.net/c/f.txt?sv=2022-11-02&ss=b&srt=o&sp=r&se=2030-01-01T00:00:00Z&sig={B64:43}%3D',
  'azure-service-bus-key': 'Endpoint=sb://demo.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey={B64:43}=',
  'azure-ad-client-secret': '{A:3}8Q~{B64U:31}',
  'alibaba-access-key-id': 'LTAI{A:20}',
  'tencent-secret-id': 'AKID{A:32}',
  'scaleway-access-key': 'SCW{U:17}',
  'digitalocean-pat': 'dop_v1_{H:64}',
  'digitalocean-oauth-token': 'doo_v1_{H:64}',
  'digitalocean-refresh-token': 'dor_v1_{H:64}',
  'heroku-api-key': 'HRKU-AA{B64U:58}',
  'heroku-api-key-legacy': 'HEROKU_API_KEY={UUID}',
  'cloudflare-api-token': 'CLOUDFLARE_API_TOKEN={B64U:40}',
  'cloudflare-global-api-key': 'CLOUDFLARE_API_KEY={H:37}',
  'cloudflare-origin-ca-key': 'v1.0-{H:24}-{H:146}',
  'vault-service-token': 'hvs.{B64U:90}',
  'vault-batch-token': 'hvb.{B64U:138}',
  'vault-recovery-token': 'hvr.{B64U:90}',
  'linode-token': 'LINODE_TOKEN={H:64}',
  'akamai-client-secret': 'client_secret = {B64:43}=',
  'akamai-client-token': 'akab-{LA:16}-{LA:16}',
  'fly-io-token': 'fo1_{B64U:43}',
  'supabase-pat': 'sbp_{H:40}',
  'supabase-secret-key': 'sb_secret_{B64U:31}',
  'render-api-key': 'rnd_{A:32}',
  'planetscale-token': 'pscale_tkn_{B64U:43}',
  'planetscale-password': 'pscale_pw_{B64U:43}',
  'neon-api-key': 'napi_{LA:64}',
  'netlify-pat': 'nfp_{A:36}',
  'doppler-token': 'dp.pt.{A:43}',
  'tailscale-key': 'tskey-auth-{A:12}CNTRL-{A:30}',
  'onepassword-service-account-token': 'ops_eyJ{B64:250}',
  'onepassword-secret-key': 'A3-{U:6}-{U:6}-{U:5}-{U:5}-{U:5}-{U:5}',
  'scalingo-token': 'tk-us-{B64U:48}',
  'kubeconfig-client-key-data': 'client-key-data: {B64:400}=',
  // Chat, SaaS and payments
  'slack-bot-token': 'xoxb-{D:12}-{D:13}-{A:24}',
  'slack-user-token': 'xoxp-{D:12}-{D:12}-{D:13}-{H:32}',
  'slack-app-token': 'xapp-1-A{U:10}-{D:13}-{H:64}',
  'slack-config-token': 'xoxe.xoxp-1-{A:160}',
  'slack-refresh-token': 'xoxe-1-{A:140}',
  'slack-legacy-token': 'xoxs-{D:10}-{D:10}-{D:12}-{H:64}',
  'slack-webhook-url': 'https://hooks.slack.com/services/T{U:8}/B{U:10}/{A:24}',
  'slack-workflow-webhook-url': 'https://hooks.slack.com/workflows/T{U:8}/A{U:10}/{D:18}/{A:24}',
  'discord-webhook-url': 'https://discord.com/api/webhooks/{D:18}/{B64U:68}',
  'discord-bot-token': 'DISCORD_BOT_TOKEN=MT{A:22}.{B64U:6}.{B64U:38}',
  'telegram-bot-token': '{D:10}:AA{B64U:33}',
  'teams-webhook-url': 'https://contoso.webhook.office.com/webhookb2/{UUID}@{UUID}/IncomingWebhook/{H:32}/{UUID}',
  'zapier-webhook-url': 'https://hooks.zapier.com/hooks/catch/{D:7}/{LA:6}/',
  'stripe-secret-key': 'sk_live_{A:99}',
  'stripe-test-secret-key': 'sk_test_{A:99}',
  'stripe-restricted-key': 'rk_live_{A:99}',
  'stripe-restricted-test-key': 'rk_test_{A:99}',
  'stripe-webhook-secret': 'whsec_{A:32}',
  'square-access-token': 'EAAA{B64U:60}',
  'square-oauth-secret': 'sq0csp-{B64U:43}',
  'square-legacy-token': 'sq0atp-{B64U:22}',
  'braintree-access-token': 'access_token$production${LA:16}${H:32}',
  'flutterwave-secret-key': 'FLWSECK-{H:32}-X',
  'flutterwave-test-secret-key': 'FLWSECK_TEST-{H:32}-X',
  'plaid-access-token': 'access-production-{UUID}',
  'shippo-token': 'shippo_live_{H:40}',
  'easypost-api-key': 'EZAK{A:54}',
  'easypost-test-key': 'EZTK{A:54}',
  'twilio-api-key-sid': 'SK{H:32}',
  'twilio-auth-token': 'TWILIO_AUTH_TOKEN={H:32}',
  'sendgrid-api-key': 'SG.{B64U:22}.{B64U:43}',
  'mailgun-api-key': 'key-{H:32}',
  'mailgun-private-key': 'MAILGUN_API_KEY={H:32}-{H:8}-{H:8}',
  'mailchimp-api-key': '{H:32}-us{D:2}',
  'brevo-api-key': 'xkeysib-{H:64}-{A:16}',
  'brevo-smtp-key': 'xsmtpsib-{H:64}-{A:16}',
  'resend-api-key': 're_{A:8}_{A:24}',
  'shopify-access-token': 'shpat_{H:32}',
  'shopify-custom-app-token': 'shpca_{H:32}',
  'shopify-private-app-token': 'shppa_{H:32}',
  'shopify-shared-secret': 'shpss_{H:32}',
  'datadog-api-key': 'DD_API_KEY={H:32}',
  'datadog-app-key': 'DD_APP_KEY={H:40}',
  'newrelic-user-api-key': 'NRAK-{U:27}',
  'newrelic-admin-key': 'NRAA-{H:27}',
  'newrelic-insert-key': 'NRII-{B64U:32}',
  'newrelic-browser-key': 'NRJS-{H:19}',
  'newrelic-license-key': '{H:36}NRAL',
  'sentry-user-token': 'sntryu_{H:64}',
  'sentry-org-token': sentryOrgToken,
  'sentry-dsn': 'https://{H:32}@o{D:6}.ingest.sentry.io/{D:7}',
  'dynatrace-token': 'dt0c01.{U:24}.{U:64}',
  'rollbar-token': 'ROLLBAR_ACCESS_TOKEN={H:32}',
  'segment-token': 'sgp_{A:64}',
  'posthog-personal-key': 'phx_{A:43}',
  'launchdarkly-access-token': 'api-{UUID}',
  'launchdarkly-sdk-key': 'sdk-{UUID}',
  'linear-api-key': 'lin_api_{A:40}',
  'linear-oauth-token': 'lin_oauth_{H:64}',
  'notion-token': 'ntn_{D:11}{A:35}',
  'notion-token-legacy': 'secret_{A:43}',
  'airtable-pat': 'pat{A:14}.{H:64}',
  'asana-pat': '2/{D:16}/{D:16}:{H:32}',
  'postman-api-key': 'PMAK-{H:24}-{H:34}',
  'figma-pat': 'figd_{B64U:40}',
  'grafana-service-account-token': 'glsa_{A:32}_{H:8}',
  'grafana-cloud-token': 'glc_eyJ{B64:120}',
  'hubspot-pat': 'pat-na1-{UUID}',
  'mapbox-secret-token': 'sk.eyJ1Ijoi{B64U:60}.{B64U:22}',
  'dropbox-token': 'sl.u.{B64U:140}',
  'contentful-pat': 'CFPAT-{B64U:43}',
  'typeform-token': 'tfp_{B64U:59}',
  'frameio-token': 'fio-u-{B64U:64}',
  'adafruit-io-key': 'aio_{A:28}',
  'salesforce-access-token': '00D{A:12}!{A:96}',
  'okta-api-token': 'Authorization: SSWS 00{B64U:40}',
  'firebase-fcm-server-key': 'AAAA{B64U:7}:APA91b{B64U:134}',
  'cloudinary-url': 'cloudinary://{D:15}:{B64U:27}@demo{LA:4}',
  'algolia-admin-key': 'ALGOLIA_ADMIN_KEY={H:32}',
  'age-secret-key': 'AGE-SECRET-KEY-1{BECH:58}',
  // Keys, tokens and URLs
  jwt,
  'private-key-rsa': pem('RSA PRIVATE KEY', 16),
  'private-key-ec': pem('EC PRIVATE KEY', 3),
  'private-key-dsa': pem('DSA PRIVATE KEY', 10),
  'private-key-openssh': pem('OPENSSH PRIVATE KEY', 6),
  'private-key-pkcs8': pem('PRIVATE KEY', 16),
  'private-key-encrypted': pem('ENCRYPTED PRIVATE KEY', 16),
  'private-key-pgp': (rng) => `-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n${pemBody(rng, 20)}\n=${randomChars(rng, ALPHABETS.B64!, 4)}\n-----END PGP PRIVATE KEY BLOCK-----`,
  'private-key-putty': (rng) => `PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nComment: key\nPublic-Lines: 2\n${pemBody(rng, 2)}\nPrivate-Lines: 1\n${randomChars(rng, ALPHABETS.B64!, 44)}\nPrivate-MAC: ${randomChars(rng, ALPHABETS.H!, 64)}`,
  'gcp-service-account-pem': (rng) => `"private_key": "${pem('PRIVATE KEY', 8)(rng).replace(/\n/g, '\\n')}\\n"`,
  'postgres-url': 'postgres://app:{A:16}@db.internal:5432/app',
  'mysql-url': 'mysql://root:{A:14}@mysql.internal:3306/shop',
  'mongodb-url': 'mongodb+srv://svc:{A:18}@cluster0.{LA:5}.mongodb.net/prod',
  'redis-url': 'rediss://default:{A:24}@cache.internal:6380',
  'amqp-url': 'amqps://worker:{A:16}@mq.internal/vhost',
  'mssql-url': 'sqlserver://sa:{A:16}@sql.internal:1433',
  'ado-connection-string': 'Server=tcp:db.internal,1433;Database=app;User ID=app;Password={A:16};Encrypt=True;',
  'url-basic-auth': 'https://deploy:{A:20}@git.internal/org/repo.git',
  'authorization-bearer': 'Authorization: Bearer {B64U:40}',
  'authorization-basic': (rng) => `Authorization: Basic ${Buffer.from(`admin:${fill(rng, '{A:18}')}`).toString('base64')}`,
  'generic-api-key': 'api_key = "{A:32}"',
  'generic-secret': 'client_secret: "{B64U:40}"',
  'generic-password': 'DB_PASSWORD="{A:6}!{A:8}"',
  'generic-key-assignment': 'PAYMENTS_SERVICE_KEY = "{A:6}7{A:25}"',
  'private-key-other': pem('SSH2 ENCRYPTED PRIVATE KEY', 12),
  'vault-token-legacy': 'VAULT_TOKEN=s.{A:24}',
  'okta-api-token-keyword': 'OKTA_API_TOKEN=00{B64U:40}',
};

export function sample(id: string, rng: Rng): string {
  const f = FORMATS[id];
  if (f === undefined) throw new Error(`no format for ${id}`);
  return typeof f === 'string' ? fill(rng, f) : f(rng);
}
