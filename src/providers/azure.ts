import type { Adapter, Route } from './adapter.js';
import { genericFormat } from './generic.js';
import { safeDecode } from './json.js';
import { openaiRoute } from './openai.js';

// Azure OpenAI speaks OpenAI's formats; only the paths differ:
// `/openai/deployments/{deployment}/chat/completions?api-version=…`, the v1
// API `/openai/v1/…`, and `/openai/realtime?deployment=…`. The deployment is
// the customer's alias for a model, so a model named by the body or the
// response wins over it.

const DEPLOYMENT = /\/openai\/deployments\/([^/]+)(\/.*)?$/;

export function azureRoute(path: string, query: string): Route | undefined {
  const m = DEPLOYMENT.exec(path);
  if (m) {
    const deployment = safeDecode(m[1] ?? '');
    const inner = openaiRoute(m[2] ?? '/') ?? { operation: 'other', format: genericFormat };
    return { ...inner, pathModel: deployment, pathModelIsAlias: true };
  }
  const route = openaiRoute(path);
  if (!route) return undefined;
  const deployment = new URLSearchParams(query).get('deployment');
  return deployment ? { ...route, pathModel: deployment, pathModelIsAlias: true } : route;
}

export const azureAdapter: Adapter = {
  provider: 'azure-openai',
  route: azureRoute,
};
